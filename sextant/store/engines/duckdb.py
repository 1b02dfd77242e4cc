"""The embedded DuckDB engine: one file, `sextant.duckdb`, in the data directory.

The process that opens the file owns it (DuckDB allows one writer process). Every
connection runs in UTC so that stored instants never shift; queries bucket by an explicit
time zone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from sextant.errors import InvalidInput, SextantError, StoreError
from sextant.store import sessions
from sextant.store.appends import conform, time_window
from sextant.store.engine import TRUNCATED, Batches, Params, Read, iter_batches
from sextant.store.migrations import AddColumn, CreateTable, pending, too_new_error
from sextant.store.schema import LATEST_VERSION, SESSIONS, Column, Table, Type, table

DUCKDB_TYPES = {
    Type.TEXT: "VARCHAR",
    Type.BIGINT: "BIGINT",
    Type.INTEGER: "INTEGER",
    Type.DOUBLE: "DOUBLE",
    Type.BOOLEAN: "BOOLEAN",
    Type.TIMESTAMP: "TIMESTAMPTZ",
    Type.DATE: "DATE",
    Type.MONEY: "DECIMAL(18, 2)",
    Type.JSON: "JSON",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_ddl(col: Column) -> str:
    return f"{_q(col.name)} {DUCKDB_TYPES[col.type]}" + (" NOT NULL" if col.required else "")


class DuckDBEngine:
    name = "duckdb"
    dialect = "duckdb"
    capabilities = frozenset({"qualify", "asof_join", "list_aggregates"})
    sessions_paused = False  # see store/sessions.py: `paused`, `bulk`

    def __init__(
        self,
        path: Path | str,
        *,
        read_only: bool = False,
        threads: int | None = None,
        memory_limit: str | None = None,
        migrate: bool = True,
    ) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        config: dict[str, str | int] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if self.path is not None and not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if read_only and self.path is not None and not self.path.exists():
            raise StoreError(
                "store_missing",
                f"no store at {self.path}",
                field="data_dir",
                hint="run `sextant generate` or `sextant import` first, or pass --data-dir",
            )
        self._con = _connect(path, read_only, config)
        if read_only and migrate and _version(self._con) < LATEST_VERSION:
            # An old file is upgraded once by a short writable open, then read as asked.
            self._con.close()
            DuckDBEngine(path, threads=threads, memory_limit=memory_limit).close()
            self._con = _connect(path, read_only, config)
        # The CLI draws its own progress; DuckDB's bar (long rebuilds) would break into it.
        self._con.execute("SET enable_progress_bar = false")
        # Readers' cursors come from a connection that never runs statements itself, so
        # making one never waits for the writer connection.
        self._read_root = self._con.cursor()
        self.read_only = read_only
        self._lock = threading.RLock()
        self._tx_owner: int | None = None
        self._ensure_meta()
        if migrate and not read_only:
            self.migrate()
        elif self.schema_version() > LATEST_VERSION:
            raise too_new_error(self.schema_version())

    # --- queries -------------------------------------------------------------------------

    def execute(
        self,
        query: exp.Expression | str,
        params: Params = None,
        *,
        max_rows: int | None = None,
        timeout: float | None = None,
    ) -> pa.Table:
        sql = query.sql(dialect=self.dialect) if isinstance(query, exp.Expression) else query
        with self._reader() as cur:
            timer = threading.Timer(timeout, cur.interrupt) if timeout else None
            try:
                if timer:
                    timer.start()
                rel = cur.sql(sql, params=params) if params else cur.sql(sql)
                if rel is None:  # a statement without rows
                    return pa.table({})
                reader = rel.to_arrow_reader(batch_size=65_536)
                return reader.read_all() if max_rows is None else _capped(reader, max_rows)
            except duckdb.InterruptException:
                raise StoreError(
                    "query_timeout",
                    f"query stopped after {timeout:g} s",
                    hint="narrow the date range or filters",
                ) from None
            finally:
                if timer:
                    timer.cancel()

    # --- writes --------------------------------------------------------------------------

    def append(self, table_name: str, data: Batches, *, dedupe: bool = True) -> int:
        spec = table(table_name)
        stored = 0
        touched = sessions.Touched()
        with self.transaction():
            for batch in iter_batches(data):
                if batch.num_rows:
                    batch = conform(spec, batch)
                    stored += self._append_batch(spec, batch, dedupe)
                    touched.add(spec.name, batch)
            if stored:
                sessions.refresh(self, touched)
                self._bump_data_version()
        return stored

    @contextmanager
    def scratch(self, name: str, data: pa.Table) -> Iterator[None]:
        """`data` readable as table `name` by this thread's statements inside a transaction."""
        self._con.register(name, data)
        try:
            yield
        finally:
            self._con.unregister(name)

    def _append_batch(self, spec: Table, batch: pa.RecordBatch, dedupe: bool) -> int:
        names = ", ".join(_q(n) for n in batch.schema.names)
        source = "__sextant_batch"
        params: list[object] = []
        if dedupe and spec.key:
            key = ", ".join(_q(k) for k in spec.key)
            match = " AND ".join(f"t.{_q(k)} = b.{_q(k)}" for k in spec.key)
            stored = _q(spec.name)
            window = time_window(spec, batch)
            if window:
                stored = (
                    f"(SELECT {key} FROM {stored} WHERE {_q(spec.time)} "
                    "BETWEEN CAST(? AS TIMESTAMPTZ) AND CAST(? AS TIMESTAMPTZ))"
                )
                params = list(window)
            select = (
                f"SELECT {names} FROM {source} b "
                f"WHERE NOT EXISTS (SELECT 1 FROM {stored} t WHERE {match}) "
                f"QUALIFY row_number() OVER (PARTITION BY {key}) = 1"
            )
        else:
            select = f"SELECT {names} FROM {source}"
        self._con.register(source, batch)
        try:
            inserted = self._con.execute(
                f"INSERT INTO {_q(spec.name)} ({names}) {select}", params or None
            )
            return inserted.fetchall()[0][0]
        except duckdb.ConstraintException as exc:
            raise InvalidInput("constraint_violation", str(exc), field=spec.name) from None
        finally:
            self._con.unregister(source)

    @contextmanager
    def reading(self) -> Iterator[Read]:
        """One read transaction on a cursor of its own: every query sees the same moment,
        whatever is appended meanwhile."""
        cur = self._read_root.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")

            def read(query: exp.Expression | str) -> pa.RecordBatchReader:
                sql = (
                    query.sql(dialect=self.dialect) if isinstance(query, exp.Expression) else query
                )
                return cur.sql(sql).to_arrow_reader(batch_size=65_536)

            yield read
        finally:
            cur.close()  # ends the transaction, which wrote nothing

    @contextmanager
    def _reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection for a read: this thread's transaction, else a cursor of its own."""
        if self._tx_owner == threading.get_ident():
            yield self._con
            return
        cur = self._read_root.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._tx_owner is not None:  # nested: the outer transaction decides
                yield
                return
            self._con.execute("BEGIN TRANSACTION")
            self._tx_owner = threading.get_ident()
            try:
                yield
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            else:
                self._con.execute("COMMIT")
            finally:
                self._tx_owner = None

    # --- schema and versions ---------------------------------------------------------------

    def _ensure_meta(self) -> None:
        if self.read_only:
            return
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER NOT NULL, description VARCHAR, applied_at TIMESTAMPTZ)"
        )
        self._con.execute("CREATE TABLE IF NOT EXISTS store_state (data_version BIGINT NOT NULL)")
        # The last journal record the store holds, written with the rows it brought.
        self._con.execute(
            "ALTER TABLE store_state ADD COLUMN IF NOT EXISTS journal_lsn BIGINT DEFAULT 0"
        )
        if self._con.execute("SELECT count(*) FROM store_state").fetchall()[0][0] == 0:
            self._con.execute("INSERT INTO store_state (data_version) VALUES (0)")

    def schema_version(self) -> int:
        with self._reader() as con:
            return _version(con)

    def migrate(self, target: int | None = None) -> list[int]:
        current = self.schema_version()
        if current > LATEST_VERSION:
            raise too_new_error(current)
        applied = []
        for m in pending(current, target or LATEST_VERSION):
            with self.transaction():
                for step in m.steps:
                    self._con.execute(_ddl(step))
                if m.version == SESSIONS.since:  # an old store's events get their sessions
                    sessions.rebuild(self)
                self._con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, now())", [m.version, m.description]
                )
            applied.append(m.version)
        return applied

    def table_columns(self, name: str) -> list[str]:
        with self._reader() as con:
            rows = con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [name],
            ).fetchall()
        return [r[0] for r in rows]

    @property
    def data_version(self) -> int:
        with self._reader() as con:
            return con.execute("SELECT data_version FROM store_state").fetchall()[0][0]

    def _bump_data_version(self) -> None:
        self._con.execute("UPDATE store_state SET data_version = data_version + 1")

    @property
    def journal_lsn(self) -> int:
        with self._reader() as con:
            return con.execute("SELECT journal_lsn FROM store_state").fetchall()[0][0]

    def record_journal_lsn(self, lsn: int) -> None:
        """Remember the last journal record stored; call inside the rows' transaction."""
        self.execute("UPDATE store_state SET journal_lsn = greatest(journal_lsn, ?)", [lsn])

    def mark_written(self) -> None:
        """Bump the data version after writes made with `execute` (identity merges)."""
        with self._lock:
            self._bump_data_version()

    def checkpoint(self) -> None:
        with self._lock:
            self._con.execute("CHECKPOINT")

    def cluster(self, table_name: str) -> None:
        """Rewrite `table_name` in the order of its time column (then its key), as capture
        stores events. Each row group then holds a narrow time span, and a query over a
        date range skips the others by their min/max: after a bulk load written person by
        person (the generator), a 90-day query at 10M events reads a tenth of the rows."""
        spec = table(table_name)
        if spec.time is None:
            return
        order = ", ".join(_q(c) for c in (spec.time, *spec.key))
        scratch = _q(f"__sextant_cluster_{table_name}")
        with self.transaction():
            self._con.execute(
                f"CREATE TEMP TABLE {scratch} AS SELECT * FROM {_q(table_name)} ORDER BY {order}"
            )
            self._con.execute(f"DELETE FROM {_q(table_name)}")
            self._con.execute(f"INSERT INTO {_q(table_name)} SELECT * FROM {scratch}")
            self._con.execute(f"DROP TABLE {scratch}")
        self.checkpoint()

    def close(self) -> None:
        with self._lock:
            self._read_root.close()
            self._con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ddl(step: CreateTable | AddColumn) -> str:
    if isinstance(step, CreateTable):
        cols = ", ".join(_column_ddl(c) for c in step.columns)
        return f"CREATE TABLE IF NOT EXISTS {_q(step.table.name)} ({cols})"
    return (
        f"ALTER TABLE {_q(step.table.name)} ADD COLUMN IF NOT EXISTS "
        f"{_q(step.column.name)} {DUCKDB_TYPES[step.column.type]}"
    )


def _connect(path: Path | str, read_only: bool, config: dict) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.Error as exc:
        raise _open_error(Path(path), exc) from None
    con.execute("SET TimeZone = 'UTC'")  # needs ICU, which loads only after connect
    return con


def _version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]


def _capped(reader: pa.RecordBatchReader, max_rows: int) -> pa.Table:
    batches, rows, truncated = [], 0, False
    for batch in reader:
        if rows + batch.num_rows > max_rows:
            batches.append(batch.slice(0, max_rows - rows))
            truncated = True
            break
        batches.append(batch)
        rows += batch.num_rows
    result = pa.Table.from_batches(batches, schema=reader.schema)
    if truncated:
        result = result.replace_schema_metadata(
            {**(result.schema.metadata or {}), TRUNCATED: b"true"}
        )
    return result


def _open_error(path: Path, exc: Exception) -> SextantError:
    text = str(exc)
    if "lock" in text.lower():
        return StoreError(
            "store_locked",
            f"the store {path} is in use by another Sextant process",
            field="data_dir",
            hint="stop that process (for example `sextant serve`) or use another --data-dir",
        )
    return StoreError("store_unreadable", f"cannot open the store {path}: {text}", field="data_dir")
