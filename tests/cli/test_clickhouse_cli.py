"""`sextant clickhouse load` and SEXTANT_ENGINE=clickhouse: the same numbers from a copy."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import SMALL, assert_clean_error, sextant


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("store")
    assert sextant("generate", "--data-dir", str(data_dir), *SMALL).returncode == 0
    result = sextant("clickhouse", "load", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert "Loaded" in result.stdout and (data_dir / "clickhouse").is_dir()
    return data_dir


def query(data_dir, *args: str, engine: str = "duckdb") -> list[dict]:
    result = sextant(
        "metrics", "query", *args, "--data-dir", str(data_dir), "--format", "json",
        env={"SEXTANT_ENGINE": engine},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ("wau", "--from", "2025-03-01", "--to", "2025-03-31"),
        ("revenue", "--from", "2025-02-01", "--to", "2025-03-31", "--grain", "week"),
        ("signups", "--from", "2025-01-01", "--to", "2025-03-31", "--grain", "month"),
    ],
)
def test_clickhouse_answers_like_duckdb_when_loaded_from_the_store(loaded_store, args):
    duck = query(loaded_store, *args)
    assert duck and any(row["value"] for row in duck)
    assert query(loaded_store, *args, engine="clickhouse") == duck


def test_loading_twice_adds_nothing_when_the_store_is_unchanged(loaded_store):
    result = sextant("clickhouse", "load", "--data-dir", str(loaded_store))
    assert result.returncode == 0, result.stderr
    assert "Loaded 0 new rows" in result.stdout


def test_writes_are_refused_when_clickhouse_answers_queries(loaded_store, tmp_path):
    rows = tmp_path / "events.csv"
    rows.write_text("id,event,timestamp,distinct_id\ne1,signed_up,2025-01-01T00:00:00Z,u1\n")
    result = sextant(
        "import", str(rows), "--table", "events", "--data-dir", str(loaded_store),
        env={"SEXTANT_ENGINE": "clickhouse"},
    )  # fmt: skip
    assert_clean_error(result, "ClickHouse answers queries only", "sextant clickhouse load")


def test_bad_clickhouse_url_is_named_when_loading(tmp_path):
    result = sextant(
        "clickhouse", "load", "--data-dir", str(tmp_path), "--url", "mysql://somewhere"
    )
    assert_clean_error(result, "cannot read the ClickHouse URL 'mysql://somewhere'")
