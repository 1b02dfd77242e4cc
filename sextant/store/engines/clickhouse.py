"""The ClickHouse engine: a server or cluster through clickhouse-connect, or embedded chdb.

Tables are MergeTrees built from the canonical schema. Events are ordered by (tenant_id,
event, timestamp) and every table with a time column is partitioned by its month.
Nullable columns in a sorting or partition key need `allow_nullable_key = 1`, which such
tables set: the key then keeps serving `WHERE tenant_id = ...` (an `ifNull(...)` key
expression would not), and nulls keep their meaning.

ClickHouse has no multi-statement transactions: `transaction()` only serialises this
process's writers, and nothing is rolled back. Appends validate every batch before the
first insert, so a bad batch still leaves nothing behind.

Results come back with the Arrow types DuckDB gives: timestamps as microseconds in Etc/UTC,
strings as `string`, unsigned integers as int64, and every field nullable.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sextant.errors import InvalidInput, StoreError
from sextant.store import sessions
from sextant.store.appends import conform, time_window
from sextant.store.engine import TRUNCATED, Batches, Params, Read, iter_batches
from sextant.store.engines.clickhouse_backends import BATCH, Backend, ChdbBackend, ConnectBackend
from sextant.store.migrations import AddColumn, CreateTable, pending, too_new_error
from sextant.store.schema import LATEST_VERSION, SESSIONS, TABLES, Column, Table, Type, table

CLICKHOUSE_TYPES = {
    Type.TEXT: "String",
    Type.BIGINT: "Int64",
    Type.INTEGER: "Int32",
    Type.DOUBLE: "Float64",
    Type.BOOLEAN: "Bool",
    Type.TIMESTAMP: "DateTime64(6, 'UTC')",
    Type.DATE: "Date32",
    Type.MONEY: "Decimal(18, 2)",
    Type.JSON: "String",
}

# Sorting keys that are not simply the table's unique key (DESIGN.md, Engines).
SORT_KEYS = {
    "events": ("tenant_id", "event", "timestamp"),
    "sessions": ("tenant_id", "started_at"),
}

# Words that start a statement with rows; anything else runs as a command.
_QUERY_WORDS = ("select", "with", "show", "describe", "desc", "explain", "exists", "(")

LOAD_CHUNK_ROWS = 250_000

# What DuckDB gives for TIMESTAMPTZ with its session in UTC: the zone is named Etc/UTC.
RESULT_TIMESTAMP = pa.timestamp("us", tz="Etc/UTC")


_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


def _without_comments(sql: str) -> str:
    r"""The statement after its leading whitespace and comments.

    >>> _without_comments("/* metric dau */\n-- note\n  SELECT 1")
    'SELECT 1'
    """
    return sql[_LEADING_COMMENTS.match(sql).end() :]


def _q(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _column_type(col: Column) -> str:
    base = CLICKHOUSE_TYPES[col.type]
    return base if col.required else f"Nullable({base})"


class ClickHouseEngine:
    name = "clickhouse"
    dialect = "clickhouse"
    capabilities = frozenset({"qualify", "asof_join", "list_aggregates"})
    sessions_paused = False  # see store/sessions.py: `paused`, `bulk`

    def __init__(self, backend: Backend, *, migrate: bool = True) -> None:
        self._db = backend
        self._lock = threading.RLock()
        self._ensure_meta()
        if migrate:
            self.migrate()
        elif self.schema_version() > LATEST_VERSION:
            raise too_new_error(self.schema_version())

    @classmethod
    def embedded(
        cls, path: Path | str | None = None, *, database: str | None = None, migrate: bool = True
    ) -> ClickHouseEngine:
        """chdb in this process: on a directory, or in memory (a fresh database) without one."""
        return cls(ChdbBackend(path, database), migrate=migrate)

    @classmethod
    def connect(
        cls,
        host: str = "localhost",
        *,
        port: int | None = None,
        username: str = "default",
        password: str = "",
        database: str = "sextant",
        secure: bool = False,
        migrate: bool = True,
    ) -> ClickHouseEngine:
        """A ClickHouse server through clickhouse-connect (untested here: no server in CI)."""
        backend = ConnectBackend(host, port, username, password, database, secure)
        return cls(backend, migrate=migrate)

    # --- queries -------------------------------------------------------------------------

    def execute(
        self,
        query: exp.Expression | str,
        params: Params = None,
        *,
        max_rows: int | None = None,
        timeout: float | None = None,
    ) -> pa.Table:
        """Run one statement; `params` fill ClickHouse `{name:Type}` placeholders by name.

        Positional (`?`) parameters are refused: ClickHouse has no such placeholder, and
        rewriting them into literals would be SQL-text surgery.
        """
        sql = query.sql(dialect=self.dialect) if isinstance(query, exp.Expression) else query
        if params is not None and not isinstance(params, Mapping):
            raise InvalidInput(
                "positional_params_unsupported",
                "the ClickHouse engine takes named parameters ({name:Type}), not '?'",
                field="params",
                hint="write {name:Type} placeholders and pass a mapping",
            )
        if not _without_comments(sql).lower().startswith(_QUERY_WORDS):
            with self._lock:
                self._db.command(sql)
            return pa.table({})
        settings: dict[str, object] = {}
        if timeout:
            settings["max_execution_time"] = timeout
        if max_rows is not None:
            # `break` stops at a block boundary past the limit, so "more rows" is visible.
            settings.update(max_result_rows=max_rows + 1, result_overflow_mode="break")
        try:
            result = self._db.query_arrow(sql, params, settings)
        except StoreError as err:
            if err.code == "query_timeout" and timeout:
                message = f"query stopped after {timeout:g} s"
                raise StoreError("query_timeout", message, hint=err.hint) from None
            raise
        result = normalise(result)
        return result if max_rows is None else _capped(result, max_rows)

    # --- writes --------------------------------------------------------------------------

    def append(self, table_name: str, data: Batches, *, dedupe: bool = True) -> int:
        spec = table(table_name)
        batches = [conform(spec, b) for b in iter_batches(data) if b.num_rows]
        stored = 0
        touched = sessions.Touched()
        with self.transaction():
            for batch in batches:
                stored += self._append_batch(spec, pa.Table.from_batches([batch]), dedupe)
                touched.add(spec.name, batch)
            if stored:
                sessions.refresh(self, touched)  # here: a full rebuild
                self._bump_data_version()
        return stored

    @contextmanager
    def scratch(self, name: str, data: pa.Table) -> Iterator[None]:
        """`data` readable as table `name` (a Memory table, dropped after)."""
        cols = ", ".join(f"{_q(f.name)} Nullable({_scratch_type(f.type)})" for f in data.schema)
        self._db.command(f"DROP TABLE IF EXISTS {_q(name)}")
        self._db.command(f"CREATE TABLE {_q(name)} ({cols}) ENGINE = Memory")
        try:
            if data.num_rows:
                self._db.insert_arrow(name, data)
            yield
        finally:
            self._db.command(f"DROP TABLE IF EXISTS {_q(name)}")

    def _append_batch(self, spec: Table, rows: pa.Table, dedupe: bool) -> int:
        if dedupe and spec.key:
            rows = _first_per_key(rows, spec.key)
            rows = _without(rows, self._stored_keys(spec, rows), spec.key)
        if rows.num_rows:
            self._db.insert_arrow(spec.name, rows)
        return rows.num_rows

    def _stored_keys(self, spec: Table, rows: pa.Table) -> pa.Table:
        """The keys of `rows` that are already stored (within the dedupe window)."""
        key = ", ".join(_q(k) for k in spec.key)
        where = f"({key}) IN (SELECT {key} FROM {BATCH})"
        window = time_window(spec, rows.combine_chunks().to_batches()[0])
        if window:
            low, high = (_timestamp_literal(t) for t in window)
            where += f" AND {_q(spec.time)} BETWEEN {low} AND {high}"
        sql = f"SELECT DISTINCT {key} FROM {_q(spec.name)} WHERE {where}"
        return self._db.query_arrow(sql, batch=rows.select(list(spec.key)))

    @contextmanager
    def reading(self) -> Iterator[Read]:
        """Each query's rows as a reader over its whole result: ClickHouse offers no moment
        shared by several queries, and the backends return results whole."""
        yield lambda query: self.execute(query).to_reader()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Serialise this process's writers; ClickHouse cannot commit or roll back a group."""
        with self._lock:
            yield

    # --- schema and versions ---------------------------------------------------------------

    def _ensure_meta(self) -> None:
        self._db.command(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version Int32, description String, "
            "applied_at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY version"
        )
        # Counters as rows that merges fold together: data_version is the sum of the bumps
        # (so concurrent writers never lose one), journal_lsn the largest recorded.
        self._db.command(
            "CREATE TABLE IF NOT EXISTS store_state ("
            "data_version SimpleAggregateFunction(sum, Int64), "
            "journal_lsn SimpleAggregateFunction(max, Int64)"
            ") ENGINE = AggregatingMergeTree ORDER BY tuple()"
        )

    def schema_version(self) -> int:
        return int(self._scalar("SELECT max(version) FROM schema_migrations") or 0)

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations. Each DDL is idempotent, so a crash midway is re-run."""
        current = self.schema_version()
        if current > LATEST_VERSION:
            raise too_new_error(current)
        applied = []
        for m in pending(current, target or LATEST_VERSION):
            with self.transaction():
                for step in m.steps:
                    self._db.command(_ddl(step))
                if m.version == SESSIONS.since:  # an old store's events get their sessions
                    sessions.rebuild(self)
                self._db.command(
                    f"INSERT INTO schema_migrations VALUES ({m.version}, "
                    f"{_string_literal(m.description)}, now64(6))"
                )
            applied.append(m.version)
        return applied

    def table_columns(self, name: str) -> list[str]:
        result = self._db.query_arrow(
            "SELECT name FROM system.columns WHERE database = currentDatabase() "
            "AND table = {table:String} ORDER BY position",
            {"table": name},
        )
        return result.column(0).to_pylist()

    @property
    def data_version(self) -> int:
        return int(self._scalar("SELECT sum(data_version) FROM store_state") or 0)

    def _bump_data_version(self) -> None:
        self._db.command("INSERT INTO store_state VALUES (1, 0)")

    @property
    def journal_lsn(self) -> int:
        return int(self._scalar("SELECT max(journal_lsn) FROM store_state") or 0)

    def record_journal_lsn(self, lsn: int) -> None:
        """Remember the last journal record stored (not atomic with the rows: no transactions)."""
        self._db.command(f"INSERT INTO store_state VALUES (0, {int(lsn)})")

    def mark_written(self) -> None:
        with self._lock:
            self._bump_data_version()

    def _scalar(self, sql: str) -> object:
        result = self._db.query_arrow(sql)
        return result.column(0)[0].as_py() if result.num_rows else None

    # --- loading ---------------------------------------------------------------------------

    def load_from(self, source: object, *, chunk_rows: int = LOAD_CHUNK_ROWS) -> dict[str, int]:
        """Copy every canonical table of a DuckDB store (engine or file path); rows per table.

        Rows are read in rowid ranges, so memory stays at one chunk however big the store.
        Keys are checked, so loading twice stores nothing new.
        """
        from sextant.store.engines.duckdb import DuckDBEngine

        owned = not isinstance(source, DuckDBEngine)
        duck = DuckDBEngine(source, read_only=True) if owned else source
        try:
            return {name: self.load_table(duck, name, chunk_rows) for name in TABLES}
        finally:
            if owned:
                duck.close()

    def load_table(self, duck: object, name: str, chunk_rows: int = LOAD_CHUNK_ROWS) -> int:
        """Copy one table of a DuckDB engine in rowid chunks; rows stored (new keys).

        No session upkeep runs meanwhile: the copy brings the source's sessions, which are
        replaced whole (a stored session changes when late events arrive).
        """
        if name == SESSIONS.name:
            return self._replace_sessions(duck, chunk_rows)
        stored = 0
        with sessions.paused(self):
            for chunk in _chunks(duck, name, chunk_rows):
                stored += self.append(name, chunk)
        return stored

    def _replace_sessions(self, duck: object, chunk_rows: int) -> int:
        staging = _q("__sextant_sessions_load")
        self._db.command(f"DROP TABLE IF EXISTS {staging}")
        self._db.command(f"CREATE TABLE {staging} AS sessions")
        try:
            for chunk in _chunks(duck, SESSIONS.name, chunk_rows):
                if chunk.num_rows:
                    rows = pa.Table.from_batches([conform(SESSIONS, b) for b in chunk.to_batches()])
                    self._db.insert_arrow("__sextant_sessions_load", rows)
            new = self._scalar(
                f"SELECT count() FROM {staging} "
                "WHERE (session_id, ifNull(tenant_id, '')) NOT IN "
                "(SELECT session_id, ifNull(tenant_id, '') FROM sessions)"
            )
            with self.transaction():
                self._db.command("TRUNCATE TABLE sessions")
                self._db.command(f"INSERT INTO sessions SELECT * FROM {staging}")
                self._bump_data_version()
        finally:
            self._db.command(f"DROP TABLE IF EXISTS {staging}")
        return int(new or 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ClickHouseEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- DDL -------------------------------------------------------------------------------------


def _ddl(step: CreateTable | AddColumn) -> str:
    if isinstance(step, AddColumn):
        return (
            f"ALTER TABLE {_q(step.table.name)} ADD COLUMN IF NOT EXISTS "
            f"{_q(step.column.name)} {_column_type(step.column)}"
        )
    spec = step.table
    cols = ", ".join(f"{_q(c.name)} {_column_type(c)}" for c in step.columns)
    sort = SORT_KEYS.get(spec.name) or spec.key or ((spec.time,) if spec.time else ())
    order = "(" + ", ".join(_q(c) for c in sort) + ")" if sort else "tuple()"
    ddl = f"CREATE TABLE IF NOT EXISTS {_q(spec.name)} ({cols}) ENGINE = MergeTree"
    if spec.time:
        ddl += f" PARTITION BY toYYYYMM({_q(spec.time)})"
    ddl += f" ORDER BY {order}"
    keyed = {*sort, *([spec.time] if spec.time else [])}
    if any(not spec.column(c).required for c in keyed):
        ddl += " SETTINGS allow_nullable_key = 1"
    return ddl


def _chunks(duck: object, name: str, chunk_rows: int) -> Iterator[pa.Table]:
    """The rows of a DuckDB table in rowid ranges, so memory stays at one chunk."""
    top = duck.execute(f'SELECT max(rowid) FROM "{name}"').column(0)[0].as_py()
    for start in range(0, (top if top is not None else -1) + 1, chunk_rows):
        yield duck.execute(
            f'SELECT * FROM "{name}" WHERE rowid >= {start} AND rowid < {start + chunk_rows}'
        )


def _scratch_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "DateTime64(6, 'UTC')"
    if pa.types.is_boolean(t):
        return "Bool"
    if pa.types.is_integer(t):
        return "Int64"
    return "String"


def _string_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _timestamp_literal(iso: str) -> str:
    return f"parseDateTime64BestEffort({_string_literal(iso)}, 6, 'UTC')"


# --- dedupe ----------------------------------------------------------------------------------


def _first_per_key(rows: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """`rows` without later repeats of a key (the first occurrence wins, as in DuckDB)."""
    index = rows.append_column("__row", pa.array(range(rows.num_rows), pa.int64()))
    first = index.group_by(list(key), use_threads=False).aggregate([("__row", "min")])
    if first.num_rows == rows.num_rows:
        return rows
    firsts = first.column("__row_min")
    return rows.take(pc.take(firsts, pc.sort_indices(firsts)))


def _without(rows: pa.Table, stored: pa.Table, key: tuple[str, ...]) -> pa.Table:
    if not stored.num_rows:
        return rows
    stored = stored.cast(rows.select(list(key)).schema)
    return rows.join(stored, list(key), join_type="left anti", use_threads=False)


# --- results ---------------------------------------------------------------------------------


def normalise(result: pa.Table) -> pa.Table:
    """Give `result` the Arrow types DuckDB would (see the module docstring)."""
    columns, fields = [], []
    for field, column in zip(result.schema, result.columns, strict=True):
        target = _duckdb_like(field.type)
        if target != field.type:
            try:
                column = column.cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                target = field.type  # e.g. binary that is not UTF-8: leave it as it is
        columns.append(column)
        fields.append(pa.field(field.name, target, nullable=True))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=result.schema.metadata))


def _duckdb_like(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return RESULT_TIMESTAMP
    if pa.types.is_dictionary(t):
        return _duckdb_like(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return pa.string()
    if pa.types.is_unsigned_integer(t):
        return pa.int64()
    return t


def _capped(result: pa.Table, max_rows: int) -> pa.Table:
    if result.num_rows <= max_rows:
        return result
    capped = result.slice(0, max_rows)
    return capped.replace_schema_metadata({**(capped.schema.metadata or {}), TRUNCATED: b"true"})
