"""Engines by name; `open_engine` gives the one the settings choose.

DuckDB is the store: every write (capture, import, generate) goes to it. With
`SEXTANT_ENGINE=clickhouse`, reads (metric queries, the store summary) go to ClickHouse,
holding a copy loaded from the store with `sextant clickhouse load` (`load_from`); writing
to ClickHouse directly arrives with the ClickHouse deployment.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from sextant.config import Settings
from sextant.errors import InvalidInput, Unsupported
from sextant.store.engine import Engine
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine


def open_engine(settings: Settings, *, read_only: bool = False) -> Engine:
    """The engine the settings choose. A writable engine is always the DuckDB store."""
    if settings.engine == "clickhouse":
        if not read_only:
            raise Unsupported(
                "engine_read_only",
                "with SEXTANT_ENGINE=clickhouse, ClickHouse answers queries only; capture, "
                "import and generate write the DuckDB store",
                field="engine",
                hint="unset SEXTANT_ENGINE to write, then `sextant clickhouse load` to copy",
            )
        return open_clickhouse(settings, migrate=False)
    return open_duckdb(settings, read_only=read_only)


def open_duckdb(settings: Settings, *, read_only: bool = False) -> DuckDBEngine:
    return DuckDBEngine(
        settings.database_path,
        read_only=read_only,
        threads=settings.duckdb_threads,
        memory_limit=settings.duckdb_memory_limit,
    )


def open_clickhouse(settings: Settings, *, migrate: bool = True) -> ClickHouseEngine:
    """ClickHouse at `settings.clickhouse_url` (see `clickhouse_target`)."""
    kind, target = clickhouse_target(settings.clickhouse_url, settings.clickhouse_path)
    if kind == "chdb":
        return ClickHouseEngine.embedded(target["path"], migrate=migrate)
    return ClickHouseEngine.connect(**target, migrate=migrate)


def clickhouse_target(url: str, default_path: Path) -> tuple[str, dict]:
    """("chdb", {path}) or ("server", connect arguments) for a ClickHouse URL.

    >>> clickhouse_target("chdb:", Path("/data/clickhouse"))
    ('chdb', {'path': PosixPath('/data/clickhouse')})
    >>> clickhouse_target("clickhouse://bob:s%40cret@db.example:9443/prod?secure=1", Path())[1]
    {'host': 'db.example', 'port': 9443, 'username': 'bob', 'password': 's@cret', \
'database': 'prod', 'secure': True}
    """
    parsed = urlparse(url)
    if parsed.scheme == "chdb":
        return "chdb", {"path": Path(parsed.path) if parsed.path else default_path}
    if parsed.scheme not in ("clickhouse", "http", "https") or not parsed.hostname:
        raise InvalidInput(
            "clickhouse_url_invalid",
            f"cannot read the ClickHouse URL {url!r}; expected chdb:, chdb:///path or "
            "clickhouse://user:password@host:8123/database",
            field="clickhouse_url",
        )
    secure = parsed.scheme == "https" or parse_qs(parsed.query).get("secure") == ["1"]
    return "server", {
        "host": parsed.hostname,
        "port": parsed.port,
        "username": unquote(parsed.username or "default"),
        "password": unquote(parsed.password or ""),
        "database": parsed.path.lstrip("/") or "sextant",
        "secure": secure,
    }


__all__ = [
    "ClickHouseEngine",
    "DuckDBEngine",
    "Engine",
    "clickhouse_target",
    "open_clickhouse",
    "open_duckdb",
    "open_engine",
]
