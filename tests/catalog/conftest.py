"""Fixtures for metric tests: the catalog, and the hand-built data in DuckDB and in chdb."""

from __future__ import annotations

import pytest

from sextant.catalog import load_catalog
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from tests.catalog.builders import hand_built, load


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def data():
    """The hand-built data set (tests/catalog/builders.py); never modified by tests."""
    return hand_built()


@pytest.fixture(scope="session")
def duckdb_store(tmp_path_factory, data):
    engine = DuckDBEngine(tmp_path_factory.mktemp("metrics") / "sextant.duckdb")
    load(engine, data)
    yield engine
    engine.close()


# Module scope: chdb runs one embedded server per process, and a test elsewhere may need it
# on a directory, which it cannot open while this in-memory one is alive.
@pytest.fixture(scope="module")
def chdb_store(duckdb_store):
    engine = ClickHouseEngine.embedded()
    engine.load_from(duckdb_store)
    yield engine
    engine.close()


@pytest.fixture(params=["duckdb", "chdb"])
def engines(request):
    """Each engine in turn (the test runs once per engine), holding the same hand-built data."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture(params=["duckdb", "chdb"])
def empty_store(request, tmp_path):
    """A new empty store of each engine in turn, for a test that loads data of its own."""
    if request.param == "duckdb":
        engine = DuckDBEngine(tmp_path / "sextant.duckdb")
    else:
        engine = ClickHouseEngine.embedded()
    yield engine
    engine.close()
