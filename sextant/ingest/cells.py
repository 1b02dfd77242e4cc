"""Cells: raw values made text (UTF-8 checked, blanks as null) and the verdicts on them.

Shared by every type parser in `values` and `times`: each parser records its rejections in a
`Verdicts`, so a row is rejected once, for its first reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Rejection:
    """Values rejected for one reason: `mask` is True at each rejected row."""

    code: str
    reason: str
    mask: pa.BooleanArray


@dataclass(frozen=True)
class Parsed:
    values: pa.Array  # the canonical Arrow type; null where rejected
    rejections: tuple[Rejection, ...] = ()
    objects: list[dict | None] | None = None  # JSON only: each accepted object, parsed

    @property
    def rejected(self) -> pa.BooleanArray:
        """True at every row with a rejected value."""
        mask = pa.array(np.zeros(len(self.values), dtype=bool))
        for r in self.rejections:
            mask = pc.or_(mask, r.mask)
        return mask


def shown(array: pa.Array, index: int, limit: int = 60) -> str:
    """The value at `index` as a person should read it in a message.

    >>> shown(pa.array(["12.5"]), 0)
    "'12.5'"
    >>> shown(pa.array(["x" * 100]), 0, limit=10)
    "'xxxxxx..."
    """
    try:
        value = array[index].as_py()
    except UnicodeDecodeError:
        value = array.cast(pa.binary())[index].as_py()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Verdicts:
    """Collects rejections so that each row is rejected once, for its first reason."""

    def __init__(self, size: int) -> None:
        self.taken = pa.array(np.zeros(size, dtype=bool))
        self.items: list[Rejection] = []

    def reject(self, mask: pa.Array, code: str, reason: str) -> None:
        mask = pc.and_(pc.fill_null(mask, False), pc.invert(self.taken))
        if pc.any(mask).as_py():
            self.items.append(Rejection(code, reason, mask))
            self.taken = pc.or_(self.taken, mask)

    def keep(self, array: pa.Array) -> pa.Array:
        """`array` with the rows rejected so far set to null."""
        return pc.if_else(self.taken, pa.scalar(None, array.type), array)

    def finish(self, values: pa.Array, target: pa.DataType) -> Parsed:
        return Parsed(self.keep(values).cast(target), tuple(self.items))


def plain(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One plain array: chunks joined, dictionaries decoded, large and view strings made small."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    if pa.types.is_large_binary(array.type) or pa.types.is_binary_view(array.type):
        array = array.cast(pa.binary())
    return array


def is_nested(t: pa.DataType) -> bool:
    nested = (pa.types.is_struct, pa.types.is_map, pa.types.is_list, pa.types.is_large_list)
    return any(check(t) for check in (*nested, pa.types.is_fixed_size_list))


# --- text ------------------------------------------------------------------------------------


def as_text(array: pa.Array, v: Verdicts) -> pa.Array:
    """Any value as text; an empty string is null."""
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_string(array.type) or pa.types.is_binary(array.type):
        text = _valid_utf8(array, v)
    elif is_nested(array.type):
        text = pa.array([dumps(x) for x in nested_values(array)], pa.string())
    else:
        text = array.cast(pa.string())
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _valid_utf8(array: pa.Array, v: Verdicts) -> pa.Array:
    """Strings with invalid UTF-8 (a CSV read without checks, raw bytes) rejected."""
    try:
        if pa.types.is_binary(array.type):
            return array.cast(pa.string())
        array.validate(full=True)
        return array
    except pa.ArrowInvalid:
        raw = array.cast(pa.binary())
        bad = pa.array([b is not None and not _decodes(b) for b in raw.to_pylist()])
        v.reject(bad, "invalid_utf8", "is not valid UTF-8 text")
        return pc.if_else(bad, pa.scalar(None, pa.binary()), raw).cast(pa.string())


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def trimmed(array: pa.Array, v: Verdicts) -> pa.Array:
    """Text without surrounding blanks; blank is null. Used by every non-text type."""
    text = pc.utf8_trim_whitespace(as_text(array, v))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def matches(strings: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(strings, pattern), False)


def reject_unless(strings: pa.Array, ok: pa.Array, v: Verdicts, code: str, reason: str) -> None:
    v.reject(pc.and_(pc.is_valid(strings), pc.invert(ok)), code, reason)


def cast_each(array: pa.Array, target: pa.DataType) -> tuple[pa.Array, pa.Array]:
    """Cast, turning the values Arrow refuses into nulls; also returns their mask.

    Arrow refuses a whole array for one bad value, so halves are retried: k bad values
    cost O(k log n) casts, and an all-good array one.
    """
    try:
        return array.cast(target), pa.array(np.zeros(len(array), dtype=bool))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(array) == 1:
            return pa.nulls(1, target), pa.array([True])
    mid = len(array) // 2
    left, left_bad = cast_each(array.slice(0, mid), target)
    right, right_bad = cast_each(array.slice(mid), target)
    return pa.concat_arrays([left, right]), pa.concat_arrays([left_bad, right_bad])


def nested_values(array: pa.Array) -> list[object]:
    values = array.to_pylist()
    if pa.types.is_map(array.type):  # maps come out as lists of (key, value) pairs
        return [None if x is None else {str(k): val for k, val in x} for x in values]
    return values


def dumps(value: object, *, strict: bool = False) -> str | None:
    """JSON text of a nested value, dates and decimals as text.

    With `strict`, a value JSON cannot hold (NaN) gives text that fails to parse, so the
    caller rejects it like any other invalid JSON.
    """
    if value is None:
        return None
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=not strict, default=str)
    except ValueError:
        return "NaN"
