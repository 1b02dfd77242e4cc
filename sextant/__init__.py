"""Sextant: self-hosted, self-service product analytics on DuckDB and ClickHouse."""

__version__ = "0.1.0"
