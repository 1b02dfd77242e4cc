"""Connections under the ClickHouse engine: embedded chdb (tests) and clickhouse-connect (servers).

Both offer the same four calls: a query returning Arrow, a statement without rows, an
Arrow insert and close. A query may read the rows of an Arrow table it is given through
the token `BATCH` (chdb's `Python()` table function; external data on a server), which is
how appends look up already stored keys without turning keys into SQL text.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from sextant.errors import StoreError

BATCH = "__sextant_batch__"

# An import can span years of months; ClickHouse refuses more than 100 partitions per insert.
INSERT_SETTINGS = {"max_partitions_per_insert_block": 0}

# Every connection reads instants in UTC, and date functions on DateTime64 columns return
# DateTime64 (microseconds) rather than DateTime, which ClickHouse's Arrow output would give
# as bare uint32 seconds.
SESSION_SETTINGS: dict[str, Any] = {
    "session_timezone": "UTC",
    "enable_extended_results_for_datetime_functions": 1,
    # Standard SQL outer joins: unmatched columns are NULL, not the type's default (0, '').
    "join_use_nulls": 1,
}


class Backend(Protocol):
    database: str

    def query_arrow(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        settings: Mapping[str, Any] | None = None,
        batch: pa.Table | None = None,
    ) -> pa.Table: ...

    def command(self, sql: str) -> None: ...

    def insert_arrow(self, table: str, data: pa.Table) -> None: ...

    def close(self) -> None: ...


def query_error(exc: Exception, timeout: float | None = None) -> StoreError:
    """A stable error for a failed ClickHouse statement (code 159 is TIMEOUT_EXCEEDED)."""
    text = str(exc)
    if "TIMEOUT_EXCEEDED" in text or "Code: 159." in text:
        limit = f" after {timeout:g} s" if timeout else ""
        return StoreError(
            "query_timeout", f"query stopped{limit}", hint="narrow the date range or filters"
        )
    return StoreError("query_failed", text.strip().splitlines()[0] if text else repr(exc))


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(value)


class ChdbBackend:
    """The embedded engine: a chdb session on a directory, or in memory when `path` is None.

    chdb runs one embedded server per process: every session shares it, and a session on a
    directory cannot open while another path (or memory) is in use. Engines therefore keep
    their tables in a database of their own; an in-memory engine gets a fresh one, dropped
    on close. A session is not safe for concurrent use, so calls take a lock.
    """

    def __init__(self, path: Path | str | None = None, database: str | None = None) -> None:
        from chdb import session

        self.path = Path(path) if path is not None else None
        self.ephemeral = path is None
        self.database = database or ("sextant_" + uuid.uuid4().hex if self.ephemeral else "sextant")
        self._lock = threading.RLock()
        try:
            if self.path is not None:
                self.path.mkdir(parents=True, exist_ok=True)
                self._session = session.Session(str(self.path))
            else:
                self._session = session.Session()
        except Exception as exc:  # chdb raises plain RuntimeError for every open failure
            raise StoreError(
                "store_unreadable",
                f"cannot open the embedded ClickHouse store: {exc}",
                field="data_dir",
                hint="chdb allows one data directory per process",
            ) from None
        self.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        self.command(f"USE {self.database}")
        for name, value in SESSION_SETTINGS.items():
            self.command(f"SET {name} = {_literal(value)}")

    def query_arrow(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        settings: Mapping[str, Any] | None = None,
        batch: pa.Table | None = None,
    ) -> pa.Table:
        # chdb's Python() table function finds the table by this local variable's name.
        sextant_batch = batch  # noqa: F841
        sql = sql.replace(BATCH, "Python(sextant_batch)")
        with self._lock:
            for name, value in (settings or {}).items():
                self._run(f"SET {name} = {_literal(value)}")
            try:
                result = self._run(sql, "ArrowTable", dict(params) if params else None)
            finally:
                for name in settings or {}:
                    self._run(f"SET {name} = DEFAULT")
        return result if isinstance(result, pa.Table) else pa.table({})

    def command(self, sql: str) -> None:
        with self._lock:
            self._run(sql)

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        names = ", ".join(f"`{n}`" for n in data.schema.names)
        sql = f"INSERT INTO `{table}` ({names}) SELECT {names} FROM {BATCH}"
        self.query_arrow(sql, settings=INSERT_SETTINGS, batch=data)

    def _run(self, sql: str, fmt: str = "CSV", params: dict | None = None) -> object:
        try:
            return self._session.query(sql, fmt, params=params)
        except Exception as exc:  # ChdbError; its code is only in the message
            raise query_error(exc) from exc

    def close(self) -> None:
        with self._lock:
            if self.ephemeral:
                self._run(f"DROP DATABASE IF EXISTS {self.database}")
            self._session.close()


class ConnectBackend:
    """A ClickHouse server or cluster through clickhouse-connect (HTTP).

    Untested here: no server runs in CI. It uses only the library's documented calls
    (`get_client`, `query_arrow`, `command`, `insert_arrow`, `ExternalData`); tables are
    plain MergeTree, so a cluster needs Replicated/Distributed DDL, which is not done yet.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | None = None,
        username: str = "default",
        password: str = "",
        database: str = "sextant",
        secure: bool = False,
    ) -> None:
        import clickhouse_connect

        self.database = database
        try:
            self._client = clickhouse_connect.get_client(
                host=host,
                port=port,
                username=username,
                password=password,
                secure=secure,
                settings=SESSION_SETTINGS,
                # Settings travel with every request, so no server session is needed, and
                # threads can query at once (one session allows one query at a time).
                autogenerate_session_id=False,
            )
            self._client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
        except Exception as exc:
            raise StoreError(
                "store_unreachable",
                f"cannot reach ClickHouse at {host}:{port or 'default port'}: {exc}",
                field="clickhouse_host",
            ) from None
        self._client.database = database

    def query_arrow(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        settings: Mapping[str, Any] | None = None,
        batch: pa.Table | None = None,
    ) -> pa.Table:
        external = None
        if batch is not None:
            external = _external_data(batch)
            sql = sql.replace(BATCH, "sextant_batch")
        try:
            return self._client.query_arrow(
                sql,
                parameters=dict(params) if params else None,
                settings=dict(settings) if settings else None,
                use_strings=True,
                external_data=external,
            )
        except Exception as exc:
            raise query_error(exc, (settings or {}).get("max_execution_time")) from exc

    def command(self, sql: str) -> None:
        try:
            self._client.command(sql)
        except Exception as exc:
            raise query_error(exc) from exc

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        try:
            self._client.insert_arrow(table, data, settings=INSERT_SETTINGS)
        except Exception as exc:
            raise query_error(exc) from exc

    def close(self) -> None:
        self._client.close()


def _external_data(batch: pa.Table) -> object:
    """The batch as an external table; its columns are canonical key columns (never null)."""
    import io

    import pyarrow.parquet as pq
    from clickhouse_connect.driver.external import ExternalData

    buffer = io.BytesIO()
    pq.write_table(batch, buffer)
    structure = [f"{f.name} {_EXTERNAL_TYPES[str(f.type)]}" for f in batch.schema]
    return ExternalData(
        file_name="sextant_batch", data=buffer.getvalue(), fmt="Parquet", structure=structure
    )


_EXTERNAL_TYPES = {
    "string": "String",
    "int64": "Int64",
    "int32": "Int32",
    "timestamp[us, tz=UTC]": "DateTime64(6, 'UTC')",
    "date32[day]": "Date32",
    "bool": "Bool",
    "double": "Float64",
    "decimal128(18, 2)": "Decimal(18, 2)",
}
