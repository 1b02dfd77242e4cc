"""The Engine protocol: what every store (DuckDB, ClickHouse) offers the rest of Sextant.

Queries come in as sqlglot expressions (rendered in the engine's dialect) or SQL text and
results go out as Arrow tables. Writes are batched Arrow appends that skip rows whose key
is already stored, so replays are idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

import pyarrow as pa
from sqlglot import exp

Params = Sequence[object] | Mapping[str, object] | None
Batches = pa.Table | pa.RecordBatch | pa.RecordBatchReader | Iterable[pa.RecordBatch]
Read = Callable[[exp.Expression | str], pa.RecordBatchReader]

TRUNCATED = b"sextant.truncated"


@runtime_checkable
class Engine(Protocol):
    name: str
    dialect: str  # the sqlglot dialect expressions are rendered in
    capabilities: frozenset[str]

    def execute(
        self,
        query: exp.Expression | str,
        params: Params = None,
        *,
        max_rows: int | None = None,
        timeout: float | None = None,
    ) -> pa.Table:
        """Run one statement and return its rows.

        With `max_rows`, at most that many rows come back and the table's schema metadata
        carries `sextant.truncated = true` when there were more. With `timeout` (seconds),
        a slower query is stopped with a `query_timeout` error.
        """
        ...

    def reading(self) -> AbstractContextManager[Read]:
        """A function running queries whose rows come in batches, to copy large tables in
        little memory; where the engine can, every query in the block sees the store as it
        was when the block began."""
        ...

    def append(self, table: str, data: Batches, *, dedupe: bool = True) -> int:
        """Add rows to `table`; return how many were stored.

        Columns are matched by name and cast to the canonical types; missing optional
        columns are null. With `dedupe`, rows whose key is already stored (or repeated
        within `data`) are skipped.
        """
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All statements inside commit together or not at all."""
        ...

    def schema_version(self) -> int: ...

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply the pending migrations up to `target` (default: latest); return them."""
        ...

    @property
    def data_version(self) -> int:
        """A counter bumped by every write: results cached under it cannot be stale."""
        ...

    @property
    def journal_lsn(self) -> int:
        """The last ingestion-journal record whose rows the store holds."""
        ...

    def record_journal_lsn(self, lsn: int) -> None: ...

    def close(self) -> None: ...


def iter_batches(data: Batches) -> Iterator[pa.RecordBatch]:
    if isinstance(data, pa.Table):
        yield from data.to_batches()
    elif isinstance(data, pa.RecordBatch):
        yield data
    else:
        yield from data


def scalar(engine: Engine, query: exp.Expression | str, params: Params = None) -> object:
    """The first value of the first row, or None when there is no row."""
    result = engine.execute(query, params)
    return result.column(0)[0].as_py() if result.num_rows else None


def is_truncated(result: pa.Table) -> bool:
    return (result.schema.metadata or {}).get(TRUNCATED) == b"true"
