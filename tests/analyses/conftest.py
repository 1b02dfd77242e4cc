"""Fixtures for analysis tests: the catalog, empty stores of each engine, and `analyze`, which
runs one analysis the way the API does (parse, validate, compile, run, shape)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from sextant.analyses import run_analysis
from sextant.catalog import load_catalog
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from tests.catalog.builders import hand_built, load

TODAY = date(2024, 11, 15)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(params=["duckdb", "chdb"])
def empty_store(request, tmp_path):
    """A new empty store of each engine in turn, for a test that loads data of its own."""
    if request.param == "duckdb":
        engine = DuckDBEngine(tmp_path / "sextant.duckdb")
    else:
        engine = ClickHouseEngine.embedded()
    yield engine
    engine.close()


@pytest.fixture
def store(empty_store):
    """An empty store of each engine in turn, loaded with the hand-built data set
    (`tests/catalog/builders.hand_built`)."""
    load(empty_store, hand_built())
    return empty_store


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """One DuckDB and one chdb store for a module's random-log tests, which empty them
    between examples (chdb runs one embedded server per process)."""
    duck = DuckDBEngine(tmp_path_factory.mktemp("random-logs") / "sextant.duckdb")
    chdb = ClickHouseEngine.embedded()
    yield duck, chdb
    duck.close()
    chdb.close()


@pytest.fixture
def analyze(catalog):
    """`analyze(engine, kind, body, today=TODAY)` -> the result dict (as the API answers)."""

    def run(engine: Any, kind: str, body: dict[str, Any], today: date = TODAY) -> dict[str, Any]:
        return run_analysis(engine, catalog, kind, body, today=today).as_dict()

    return run
