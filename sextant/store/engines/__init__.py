"""Engines by name; `open_engine` gives the one the settings choose."""

from __future__ import annotations

from sextant.config import Settings
from sextant.store.engine import Engine
from sextant.store.engines.duckdb import DuckDBEngine


def open_engine(settings: Settings, *, read_only: bool = False) -> Engine:
    if settings.engine == "duckdb":
        return DuckDBEngine(
            settings.database_path,
            read_only=read_only,
            threads=settings.duckdb_threads,
            memory_limit=settings.duckdb_memory_limit,
        )
    raise ValueError(f"unknown engine {settings.engine!r}")  # settings validation prevents this


__all__ = ["DuckDBEngine", "Engine", "open_engine"]
