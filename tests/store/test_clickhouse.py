"""The ClickHouse engine on embedded chdb: migrations, appends, exact types, limits, loading."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlglot

from sextant.errors import InvalidInput, StoreError
from sextant.store import schema
from sextant.store.engine import Engine, is_truncated, scalar
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from sextant.synth.dataset import generate

BIG = 2**53 + 1  # the first integer a float64 cannot hold
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def ch():
    with ClickHouseEngine.embedded() as engine:
        yield engine


def event_rows(ids, day=1):
    n = len(ids)
    return pa.table(
        {
            "id": ids,
            "event": ["e"] * n,
            "timestamp": pa.array(
                [datetime(2024, 1, day, tzinfo=UTC)] * n, pa.timestamp("us", "UTC")
            ),
            "distinct_id": ["d"] * n,
            "person_id": pa.array([1] * n, pa.int64()),
        }
    )


def sample_rows(spec: schema.Table) -> pa.Table:
    """Two rows for any canonical table: one with every column set, one with only required."""
    values = {
        schema.Type.TEXT: ["x", "y"],
        schema.Type.BIGINT: [BIG, 2],
        schema.Type.INTEGER: [7, 8],
        schema.Type.DOUBLE: [0.25, -1.5],
        schema.Type.BOOLEAN: [True, False],
        schema.Type.TIMESTAMP: [datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), T0],
        schema.Type.DATE: [date(2025, 1, 2), date(2024, 1, 1)],
        schema.Type.MONEY: [Decimal("1234567890.99"), Decimal("0.01")],
        schema.Type.JSON: ['{"a": 1}', "{}"],
    }
    arrow = spec.arrow_schema()
    columns = {}
    for col in spec.columns:
        first, second = values[col.type]
        columns[col.name] = pa.array(
            [first, second if col.required else None], arrow.field(col.name).type
        )
    return pa.table(columns)


def test_fresh_store_ends_at_latest_version_with_duckdb_columns(ch):
    assert isinstance(ch, Engine)
    assert ch.schema_version() == schema.LATEST_VERSION
    duck = DuckDBEngine(":memory:")
    for name in schema.TABLES:
        assert ch.table_columns(name) == duck.table_columns(name)
    duck.close()
    history = ch.execute("SELECT version FROM schema_migrations ORDER BY 1")
    assert history.column(0).to_pylist() == list(range(1, schema.LATEST_VERSION + 1))
    assert ch.migrate() == []


def test_old_store_is_upgraded_and_keeps_its_rows(tmp_path):
    with ClickHouseEngine.embedded(migrate=False) as engine:
        assert engine.migrate(target=1) == [1]
        assert "orders" not in engine.execute("SHOW TABLES").column(0).to_pylist()
        engine.append("events", event_rows(["a", "b"]))
        assert engine.migrate() == list(range(2, schema.LATEST_VERSION + 1))
        assert scalar(engine, "SELECT count() FROM events") == 2
        assert engine.table_columns("orders") == [c.name for c in schema.ORDERS.columns]


def test_events_are_sorted_by_tenant_event_time_and_partitioned_by_month(ch):
    ddl = scalar(ch, "SHOW CREATE TABLE events")
    assert "ORDER BY (tenant_id, event, timestamp)" in ddl
    assert "PARTITION BY toYYYYMM(timestamp)" in ddl


def test_append_skips_stored_and_repeated_keys_when_replayed(ch):
    assert ch.append("events", event_rows(["a", "b", "a"])) == 2
    assert ch.append("events", event_rows(["b", "c"])) == 1
    assert ch.append("events", event_rows(["a"])) == 0
    assert ch.execute("SELECT id FROM events ORDER BY id").column(0).to_pylist() == ["a", "b", "c"]


def test_composite_keys_and_the_event_window_decide_duplicates(ch):
    lines = pa.table({"tenant_id": ["s", "s", "t"], "line_id": [1, 2, 1], "order_id": [9, 9, 9]})
    assert ch.append("order_lines", lines) == 3
    assert ch.append("order_lines", lines) == 0
    assert ch.append("events", event_rows(["a", "b"], day=10)) == 2
    assert ch.append("events", event_rows(["a"], day=11)) == 0  # a retry within a day
    assert ch.append("events", event_rows(["b"], day=20)) == 1  # beyond the window: not looked at


def test_data_version_moves_only_when_rows_are_stored(ch):
    v0 = ch.data_version
    ch.append("events", event_rows(["a"]))
    ch.append("events", event_rows(["a"]))
    assert ch.data_version == v0 + 1
    ch.record_journal_lsn(12)
    ch.record_journal_lsn(5)
    assert ch.journal_lsn == 12


def test_bad_batch_leaves_nothing_and_names_the_column(ch):
    good = event_rows(["a"]).to_batches()[0]
    bad = event_rows(["b"]).drop_columns(["event"]).to_batches()[0]
    with pytest.raises(InvalidInput) as err:
        ch.append("events", [good, bad])
    assert (err.value.code, err.value.field) == ("missing_column", "event")
    assert scalar(ch, "SELECT count() FROM events") == 0


def test_shopify_scale_ids_and_money_survive_exactly(tmp_path):
    path = tmp_path / "ch"
    with ClickHouseEngine.embedded(path) as engine:
        engine.append(
            "orders",
            pa.table(
                {
                    "tenant_id": ["shop"],
                    "order_id": pa.array([BIG], pa.int64()),
                    "created_at": pa.array([T0], pa.timestamp("us")),
                    "total_price": pa.array([Decimal("1234567890.99")], pa.decimal128(18, 2)),
                }
            ),
        )
    with ClickHouseEngine.embedded(path) as engine:  # reopened from its directory
        row = engine.execute("SELECT order_id, total_price FROM orders").to_pylist()[0]
        assert row == {"order_id": BIG, "total_price": Decimal("1234567890.99")}


def test_every_table_reads_back_with_duckdb_types_and_values(ch):
    with DuckDBEngine(":memory:") as duck:
        for name, spec in schema.TABLES.items():
            rows = sample_rows(spec)
            stored = 1 if name == "sessions" else 2  # session "x" is derived from event "x"
            assert ch.append(name, rows) == duck.append(name, rows) == stored
            order = ", ".join(f'"{k}"' for k in spec.key or [spec.columns[0].name])
            want = duck.execute(f"SELECT * FROM {name} ORDER BY {order}")
            got = ch.execute(f"SELECT * FROM {name} ORDER BY {order.replace(chr(34), '`')}")
            assert got.schema.types == want.schema.types, name
            assert got.to_pylist() == want.to_pylist(), name


def test_row_cap_marks_result_truncated_when_more_rows_exist(ch):
    capped = ch.execute("SELECT number FROM numbers(200000)", max_rows=70_000)
    assert capped.num_rows == 70_000 and is_truncated(capped)
    whole = ch.execute("SELECT number FROM numbers(10)", max_rows=10)
    assert whole.num_rows == 10 and not is_truncated(whole)
    assert ch.execute("SELECT number FROM numbers(200000)").num_rows == 200_000  # cap is reset


def test_slow_query_is_stopped_with_timeout_error(ch):
    started = time.monotonic()
    with pytest.raises(StoreError) as err:
        ch.execute("SELECT count() FROM numbers(100000000000)", timeout=0.3)
    assert err.value.code == "query_timeout"
    assert time.monotonic() - started < 5
    assert scalar(ch, "SELECT count() FROM numbers(1000000)") == 1_000_000


def test_named_params_work_and_positional_ones_are_refused_clearly(ch):
    ch.append("events", event_rows(["a", "b"]))
    assert scalar(ch, "SELECT count() FROM events WHERE id = {id:String}", {"id": "a"}) == 1
    with pytest.raises(InvalidInput) as err:
        ch.execute("SELECT count() FROM events WHERE id = ?", ["a"])
    assert err.value.code == "positional_params_unsupported"


def test_failing_query_gives_store_error(ch):
    with pytest.raises(StoreError) as err:
        ch.execute("SELECT * FROM no_such_table")
    assert err.value.code == "query_failed"


QUERIES = {
    "people per event": "SELECT event, count(DISTINCT person_id) FROM events GROUP BY event",
    "revenue per currency": "SELECT currency, sum(total_price) FROM orders GROUP BY currency",
    "events per day": "SELECT CAST(timestamp AS DATE), count(*) FROM events GROUP BY 1",
    "hourly buckets": "SELECT date_trunc('hour', timestamp) AS h, count(*) FROM events GROUP BY h",
    "ticket csat": "SELECT priority, avg(csat), max(created_at) FROM tickets GROUP BY priority",
}


def test_loading_a_duckdb_store_gives_the_same_rows_and_answers(tmp_path, ch):
    path = tmp_path / "sextant.duckdb"
    cfg = SynthConfig(users=300, events=4000, start=date(2025, 1, 1), end=date(2025, 2, 28))
    with DuckDBEngine(path) as duck:
        generate(duck, cfg)
    loaded = ch.load_from(path)
    with DuckDBEngine(path, read_only=True) as duck:
        for name in schema.TABLES:
            assert loaded[name] == scalar(duck, f"SELECT count(*) FROM {name}"), name
            assert scalar(ch, f"SELECT count() FROM {name}") == loaded[name], name
        assert loaded["events"] > 1000 and loaded["orders"] > 0
        for label, sql in QUERIES.items():
            (translated,) = sqlglot.transpile(sql, read="duckdb", write="clickhouse")
            want = sorted(duck.execute(sql).to_pylist(), key=repr)
            got = sorted(ch.execute(translated).to_pylist(), key=repr)
            assert [list(r.values()) for r in got] == [list(r.values()) for r in want], label
        assert ch.load_from(duck) == dict.fromkeys(schema.TABLES, 0)  # loading again adds nothing


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(StoreError) as err:
        ClickHouseEngine.connect("127.0.0.1", port=1)
    assert err.value.code == "store_unreachable"
    assert "127.0.0.1:1" in err.value.message
