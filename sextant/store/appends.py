"""What every engine does to a batch before storing it: conform it to the canonical
types, and find the span of stored rows its duplicates could be in."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pyarrow.compute as pc

from sextant.errors import InvalidInput
from sextant.store.schema import Table


def conform(spec: Table, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Cast `batch` to the canonical types of `spec`, refusing unknown or missing columns."""
    known = {c.name: c for c in spec.columns}
    unknown = [n for n in batch.schema.names if n not in known]
    if unknown:
        raise InvalidInput(
            "unknown_column",
            f"table {spec.name!r} has no column {unknown[0]!r}",
            field=unknown[0],
        )
    missing = [c for c in spec.required if c not in batch.schema.names]
    if missing:
        raise InvalidInput(
            "missing_column",
            f"table {spec.name!r} needs column {missing[0]!r}",
            field=missing[0],
        )
    target = pa.schema([pa.field(n, spec.arrow_schema().field(n).type) for n in batch.schema.names])
    try:
        return batch.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput("bad_type", f"{spec.name}: {exc}", field=spec.name) from None


def time_window(spec: Table, batch: pa.RecordBatch) -> tuple[str, str] | None:
    """The span of stored rows a duplicate of `batch` could be in, or None for all rows."""
    if not spec.dedupe_window_seconds or spec.time not in batch.schema.names:
        return None
    bounds = pc.min_max(batch.column(spec.time))
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None:
        return None
    margin = timedelta(seconds=spec.dedupe_window_seconds)
    return (low - margin).isoformat(), (high + margin).isoformat()
