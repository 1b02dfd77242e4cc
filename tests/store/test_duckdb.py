"""The DuckDB engine: migrations on fresh and old files, appends, limits and clear errors."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from sextant.errors import InvalidInput, StoreError
from sextant.store import migrations, schema
from sextant.store.engine import Engine, is_truncated, scalar
from sextant.store.engines.duckdb import DuckDBEngine

BIG = 2**53 + 1  # the first integer a float64 cannot hold


def event_rows(ids, person=1):
    n = len(ids)
    return pa.table(
        {
            "id": ids,
            "event": ["e"] * n,
            "timestamp": pa.array(
                [datetime(2024, 1, 1, tzinfo=UTC)] * n, pa.timestamp("us", "UTC")
            ),
            "distinct_id": ["d"] * n,
            "person_id": pa.array([person] * n, pa.int64()),
        }
    )


def columns_in_file(engine: DuckDBEngine) -> dict[str, list[str]]:
    return {name: engine.table_columns(name) for name in schema.TABLES}


def test_fresh_file_ends_at_latest_version_with_every_table(tmp_path):
    with DuckDBEngine(tmp_path / "s.duckdb") as engine:
        assert isinstance(engine, Engine)
        assert engine.schema_version() == schema.LATEST_VERSION
        for name, table in schema.TABLES.items():
            assert engine.table_columns(name) == [c.name for c in table.columns]
        history = engine.execute("SELECT version FROM schema_migrations ORDER BY 1")
        assert history.column(0).to_pylist() == list(range(1, schema.LATEST_VERSION + 1))


def test_old_file_is_upgraded_and_keeps_its_rows_when_reopened(tmp_path):
    path = tmp_path / "old.duckdb"
    with DuckDBEngine(path, migrate=False) as old:
        assert old.migrate(target=1) == [1]
        assert "orders" not in old.execute("SHOW TABLES").column(0).to_pylist()
        old.append("events", event_rows(["a", "b"]))
    with DuckDBEngine(path) as engine:
        assert engine.schema_version() == schema.LATEST_VERSION
        assert engine.execute("SELECT count(*) FROM events").column(0)[0].as_py() == 2
        fresh = DuckDBEngine(tmp_path / "fresh.duckdb")
        assert columns_in_file(engine) == columns_in_file(fresh)
        fresh.close()


def test_reopening_applies_nothing_when_already_latest(tmp_path):
    path = tmp_path / "s.duckdb"
    DuckDBEngine(path).close()
    with DuckDBEngine(path) as engine:
        assert engine.migrate() == []
        assert scalar(engine, "SELECT count(*) FROM schema_migrations") == schema.LATEST_VERSION


def test_added_column_migrates_old_rows_to_null_when_schema_grows(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    with DuckDBEngine(path) as engine:
        engine.append("events", event_rows(["a"]))
    future = schema.LATEST_VERSION + 1
    extra = schema.Column("referrer", schema.Type.TEXT, since=future)
    events = dataclasses.replace(schema.EVENTS, columns=(*schema.EVENTS.columns, extra))
    monkeypatch.setitem(schema.TABLES, "events", events)
    monkeypatch.setattr(schema, "LATEST_VERSION", future)
    monkeypatch.setitem(migrations.DESCRIPTIONS, future, "events.referrer")
    monkeypatch.setattr("sextant.store.engines.duckdb.LATEST_VERSION", future)
    monkeypatch.setattr("sextant.store.migrations.LATEST_VERSION", future)
    with DuckDBEngine(path) as engine:
        assert engine.schema_version() == future
        rows = engine.execute("SELECT id, referrer FROM events").to_pylist()
        assert rows == [{"id": "a", "referrer": None}]


def test_newer_store_is_refused_with_clear_error_when_code_is_older(tmp_path):
    path = tmp_path / "s.duckdb"
    with DuckDBEngine(path) as engine:
        engine.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', now())")
    with pytest.raises(StoreError) as err:
        DuckDBEngine(path)
    assert err.value.code == "schema_too_new"
    assert "99" in err.value.message


def test_append_skips_stored_and_repeated_keys_when_replayed():
    with DuckDBEngine(":memory:") as engine:
        assert engine.append("events", event_rows(["a", "b", "a"])) == 2
        assert engine.append("events", event_rows(["b", "c"])) == 1
        assert engine.append("events", event_rows(["a"])) == 0
        ids = engine.execute("SELECT id FROM events ORDER BY id").column(0).to_pylist()
        assert ids == ["a", "b", "c"]


def test_event_duplicates_are_looked_for_within_a_day_of_their_timestamp():
    def at(day: int, ids: list[str]) -> pa.Table:
        rows = event_rows(ids)
        when = pa.array([datetime(2024, 1, day, tzinfo=UTC)] * len(ids), pa.timestamp("us", "UTC"))
        return rows.set_column(rows.schema.get_field_index("timestamp"), "timestamp", when)

    with DuckDBEngine(":memory:") as engine:
        assert engine.append("events", at(10, ["a", "b"])) == 2
        assert engine.append("events", at(11, ["a"])) == 0  # a retry, a day later at most
        # Beyond the window the check does not look (schema.EVENTS.dedupe_window_seconds):
        # the cost of an append stays flat however long the history is.
        assert engine.append("events", at(20, ["b"])) == 1


def test_reading_sees_one_moment_in_batches_while_rows_are_appended():
    with DuckDBEngine(":memory:") as engine:
        engine.append("events", event_rows(["a", "b"]))
        with engine.reading() as read:
            before = read("SELECT count(*) AS n FROM events").read_all()
            engine.append("events", event_rows(["c"]))
            during = read("SELECT count(*) AS n FROM events").read_all()
            batches = list(read("SELECT range AS i FROM range(200000)"))
        assert before.column(0).to_pylist() == during.column(0).to_pylist() == [2]
        assert scalar(engine, "SELECT count(*) FROM events") == 3
        assert len(batches) > 1 and sum(b.num_rows for b in batches) == 200_000


def test_data_version_moves_only_when_rows_are_stored():
    with DuckDBEngine(":memory:") as engine:
        v0 = engine.data_version
        engine.append("events", event_rows(["a"]))
        v1 = engine.data_version
        engine.append("events", event_rows(["a"]))
        assert v1 == v0 + 1
        assert engine.data_version == v1


def test_shopify_scale_ids_and_money_survive_exactly(tmp_path):
    path = tmp_path / "s.duckdb"
    with DuckDBEngine(path) as engine:
        engine.append(
            "orders",
            pa.table(
                {
                    "tenant_id": ["shop"],
                    "order_id": pa.array([BIG], pa.int64()),
                    "created_at": pa.array([datetime(2024, 1, 1, tzinfo=UTC)], pa.timestamp("us")),
                    "total_price": pa.array([Decimal("1234567890.99")], pa.decimal128(18, 2)),
                }
            ),
        )
    with DuckDBEngine(path, read_only=True) as engine:
        row = engine.execute("SELECT order_id, total_price FROM orders").to_pylist()[0]
        assert row == {"order_id": BIG, "total_price": Decimal("1234567890.99")}
        assert engine.execute("SELECT order_id FROM orders").schema.field(0).type == pa.int64()


def test_append_refuses_unknown_and_missing_columns_with_their_names():
    with DuckDBEngine(":memory:") as engine:
        with pytest.raises(InvalidInput) as err:
            engine.append("events", event_rows(["a"]).append_column("colour", pa.array(["red"])))
        assert (err.value.code, err.value.field) == ("unknown_column", "colour")
        with pytest.raises(InvalidInput) as err:
            engine.append("events", event_rows(["a"]).drop_columns(["event"]))
        assert (err.value.code, err.value.field) == ("missing_column", "event")
        with pytest.raises(Exception) as err:
            engine.append("no_such_table", event_rows(["a"]))
        assert err.value.code == "unknown_table"
        assert engine.execute("SELECT count(*) FROM events").column(0)[0].as_py() == 0


def test_failed_batch_leaves_nothing_when_a_later_batch_is_bad():
    with DuckDBEngine(":memory:") as engine:
        good = event_rows(["a"]).to_batches()[0]
        bad = event_rows(["b"]).drop_columns(["event"]).to_batches()[0]
        with pytest.raises(InvalidInput):
            engine.append("events", [good, bad])
        assert engine.execute("SELECT count(*) FROM events").column(0)[0].as_py() == 0


def test_row_cap_marks_result_truncated_when_more_rows_exist():
    with DuckDBEngine(":memory:") as engine:
        capped = engine.execute("SELECT * FROM range(200000)", max_rows=70_000)
        assert capped.num_rows == 70_000 and is_truncated(capped)
        whole = engine.execute("SELECT * FROM range(10)", max_rows=10)
        assert whole.num_rows == 10 and not is_truncated(whole)


def test_slow_query_is_stopped_with_timeout_error():
    with DuckDBEngine(":memory:") as engine:
        started = time.monotonic()
        with pytest.raises(StoreError) as err:
            engine.execute("SELECT count(*) FROM range(10000000000) a", timeout=0.3)
        assert err.value.code == "query_timeout"
        assert time.monotonic() - started < 5


def test_second_process_gets_store_locked_error_when_file_is_in_use(tmp_path, store_holder):
    path = tmp_path / "s.duckdb"
    DuckDBEngine(path).close()
    store_holder(path)
    with pytest.raises(StoreError) as err:
        DuckDBEngine(path)
    assert err.value.code == "store_locked"
    assert "another Sextant process" in err.value.message


def test_read_only_open_of_missing_store_says_what_to_do(tmp_path):
    with pytest.raises(StoreError) as err:
        DuckDBEngine(tmp_path / "none.duckdb", read_only=True)
    assert err.value.code == "store_missing"
    assert "sextant generate" in err.value.hint
