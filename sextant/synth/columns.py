"""Exact Arrow columns from numpy arrays (money from cents, UTC instants) and chunked output.

Money is built from integer cents straight into decimal128 buffers, so no value ever passes
through a float.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pyarrow as pa

from sextant.store.schema import ARROW_TYPES, Type, table

MONEY = ARROW_TYPES[Type.MONEY]
UTC_TIME = ARROW_TYPES[Type.TIMESTAMP]
US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
_EPOCH = date(1970, 1, 1)


def money(cents: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Decimal(18, 2) values from integer cents, exactly; null where `mask` is true.

    >>> money(np.array([199, -5, 0]), np.array([False, False, True])).to_pylist()
    [Decimal('1.99'), Decimal('-0.05'), None]
    """
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    # decimal128 stores a 128-bit two's-complement integer: low word, then the sign word.
    words = np.empty((len(cents), 2), dtype="<i8")
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    validity = None
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~np.asarray(mask, bool), bitorder="little"))
    return pa.Array.from_buffers(MONEY, len(cents), [validity, pa.py_buffer(words)])


def utc(us: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """UTC timestamps from microseconds since the Unix epoch; `mask` marks nulls."""
    return pa.array(np.asarray(us, dtype=np.int64), UTC_TIME, mask=mask)


def pick(values: Sequence[str], index: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Strings chosen by index, null where `mask` is true.

    >>> pick(["a", "b"], np.array([1, 0, 1]), np.array([False, False, True])).to_pylist()
    ['b', 'a', None]
    """
    return pa.array(list(values), pa.string()).take(pa.array(index, pa.int64(), mask=mask))


def day_us(day: date) -> int:
    """Microseconds since the epoch at midnight UTC starting `day`.

    >>> day_us(date(1970, 1, 2))
    86400000000
    """
    return (day - _EPOCH).days * US_PER_DAY


def end_us(last_day: date) -> int:
    """The last whole second of `last_day` (23:59:59 UTC), in microseconds."""
    return day_us(last_day) + US_PER_DAY - US_PER_SECOND


def as_datetime(us: int) -> datetime:
    """A UTC datetime from microseconds since the epoch (for messages and tests)."""
    return datetime.combine(_EPOCH, time(), UTC) + timedelta(microseconds=int(us))


def conform(name: str, data: dict[str, pa.Array]) -> pa.Table:
    """An Arrow table with `data`'s columns in canonical order and canonical types."""
    schema = table(name).arrow_schema()
    fields = [schema.field(n) for n in schema.names if n in data]
    return pa.table([data[f.name].cast(f.type) for f in fields], schema=pa.schema(fields))


def rechunk(pieces: Iterable[tuple[str, pa.Table]], rows: int) -> Iterator[tuple[str, pa.Table]]:
    """Merge small pieces per table and split big ones: chunks of at most `rows` rows."""
    buffers: dict[str, list[pa.Table]] = {}
    sizes: dict[str, int] = {}
    for name, piece in pieces:
        buffers.setdefault(name, []).append(piece)
        sizes[name] = sizes.get(name, 0) + piece.num_rows
        if sizes[name] >= rows:
            merged = pa.concat_tables(buffers.pop(name))
            sizes.pop(name)
            whole = merged.num_rows - merged.num_rows % rows
            yield from _slices(name, merged.slice(0, whole), rows)
            if whole < merged.num_rows:
                buffers[name] = [merged.slice(whole)]
                sizes[name] = merged.num_rows - whole
    for name, rest in buffers.items():
        yield from _slices(name, pa.concat_tables(rest), rows)


def _slices(name: str, data: pa.Table, rows: int) -> Iterator[tuple[str, pa.Table]]:
    for offset in range(0, data.num_rows, rows):
        yield name, data.slice(offset, rows).combine_chunks()
