"""Snapshots: a scope's file holds only that scope's rows, masked when PII is not seen; files
are reused while the store is unchanged (or within the refresh period) and pruned."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

from sextant.playground import snapshot as snapshot_module
from sextant.playground.masking import MASK
from sextant.playground.snapshot import Snapshots
from sextant.playground.tables import ALLOWED_TABLES
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from tests.playground.conftest import ACME, BETA, PEOPLE, TENANTS, fill


def tables_in(path) -> dict[str, pa.Table]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {n: con.sql(f'SELECT * FROM "{n}" ORDER BY ALL').to_arrow_table() for n in names}
    finally:
        con.close()


def test_snapshot_holds_only_the_scope_rows_when_the_user_is_tenant_limited(store):
    tables = tables_in(store.acme.path)
    assert sorted(tables) == sorted(ALLOWED_TABLES)
    for name, rows in tables.items():
        assert set(rows.column("tenant_id").to_pylist()) <= {ACME}, name
    assert tables["persons"].column("person_id").to_pylist() == [1, 2, 3]
    assert tables["events"].num_rows == sum(pid + 2 for pid, tenant, *_ in PEOPLE if tenant == ACME)
    assert tables["sessions"].num_rows > 0
    # The query process can read its snapshot's raw bytes: none of them may be Beta's or PII.
    # (The all-tenant admin file does hold them in plain bytes, so this check can see them.)
    raw, admin_raw = store.acme.path.read_bytes(), store.admin.path.read_bytes()
    for secret in [BETA, TENANTS[1]["name"], *(p[2] for p in PEOPLE), *(p[3] for p in PEOPLE)]:
        assert secret.encode() not in raw and secret.encode() in admin_raw, secret


def test_snapshot_masks_pii_columns_when_the_user_does_not_see_pii(store):
    customers = tables_in(store.acme.path)["customers"]
    assert set(customers.column("name").to_pylist()) == {MASK}
    assert set(customers.column("email").to_pylist()) == {MASK}
    admin = tables_in(store.admin.path)["customers"]
    assert sorted(admin.column("email").to_pylist()) == sorted(p[2] for p in PEOPLE)
    assert set(admin.column("tenant_id").to_pylist()) == {ACME, BETA}


def test_snapshot_is_reused_when_the_store_is_unchanged(store):
    again = store.snapshots.path([ACME, ACME], sees_pii=False)
    assert again == store.acme
    assert again.current and again.data_version == store.engine.data_version
    assert again.age_seconds >= 0


@pytest.fixture
def small(tmp_path):
    engine = DuckDBEngine(tmp_path / "small.duckdb")
    engine.append("tenants", pa.Table.from_pylist(TENANTS))
    yield engine, tmp_path / "snapshots"
    engine.close()


def change(engine: DuckDBEngine, tenant_id: str) -> None:
    engine.append("tenants", pa.Table.from_pylist([{"tenant_id": tenant_id}]))


def test_older_snapshot_is_reused_with_its_age_when_the_store_changed_recently(small):
    engine, folder = small
    snapshots = Snapshots(folder, engine, refresh_seconds=3600)
    first = snapshots.path(None, sees_pii=True)
    change(engine, "t_new")
    again = snapshots.path(None, sees_pii=True)
    assert again.path == first.path and again.built_at == first.built_at
    assert not again.current and again.data_version < engine.data_version


def test_snapshot_is_rebuilt_when_the_store_changed_and_the_refresh_period_passed(
    small, monkeypatch
):
    engine, folder = small
    monkeypatch.setattr(snapshot_module, "SUPERSEDED_GRACE_SECONDS", 0)
    snapshots = Snapshots(folder, engine, refresh_seconds=0)
    first = snapshots.path(None, sees_pii=True)
    change(engine, "t_new")
    second = snapshots.path(None, sees_pii=True)
    assert second.current and second.data_version == engine.data_version
    assert second.built_at >= first.built_at
    assert "t_new" in tables_in(second.path)["tenants"].column("tenant_id").to_pylist()
    assert not first.path.exists()  # superseded, and past its grace period


def test_snapshots_are_deleted_when_unused_for_longer_than_kept(small):
    engine, folder = small
    snapshots = Snapshots(folder, engine, keep_seconds=0.2)
    built = snapshots.path((ACME,), sees_pii=False)
    assert snapshots.prune() == []
    time.sleep(0.3)
    assert snapshots.prune() == [built.path]
    assert list(folder.iterdir()) == []


def test_snapshot_is_built_once_when_many_threads_ask_for_one_scope(small):
    engine, folder = small
    snapshots = Snapshots(folder, engine)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(snapshots.path((BETA,), False)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.path for r in results}) == 1 and len({r.built_at for r in results}) == 1
    assert [p.name for p in folder.iterdir()] == [results[0].path.name]


def test_snapshot_is_the_same_when_the_store_is_clickhouse(store, tmp_path):
    with ClickHouseEngine.embedded() as engine:
        fill(engine)
        built = Snapshots(tmp_path, engine).path((ACME,), sees_pii=False)
        from_clickhouse = tables_in(built.path)
    from_duckdb = tables_in(store.acme.path)
    assert sorted(from_clickhouse) == sorted(from_duckdb)
    for name in ("events", "persons", "orders", "order_lines", "customers", "tenants"):
        assert from_clickhouse[name].equals(from_duckdb[name]), name


def test_every_batch_is_masked_when_a_table_arrives_in_many(store, tmp_path):
    def in_pairs(query) -> pa.RecordBatchReader:  # as a large table arrives: many batches
        rows = store.engine.execute(query)
        return pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches(max_chunksize=2))

    con = duckdb.connect(str(tmp_path / "pairs.duckdb"))
    version = store.engine.schema_version()
    for name in ("customers", "events", "persons"):
        key = store.snapshots.key
        snapshot_module._copy(con, in_pairs, name, version, (ACME,), sees_pii=False, key=key)
    con.close()
    copied, built = tables_in(tmp_path / "pairs.duckdb"), tables_in(store.acme.path)
    assert copied["events"].num_rows > 2
    for name in ("customers", "events", "persons"):
        assert copied[name].equals(built[name]), name


def test_email_ids_and_addresses_in_text_become_stable_pseudonyms_when_pii_is_not_seen(
    tmp_path,
):
    engine = DuckDBEngine(tmp_path / "emails.duckdb")
    ids = ["ann@acme.test", "Ann@Acme.test", "bob@acme.test", "d4"]
    engine.append(
        "events",
        pa.table(
            {
                "id": [f"e{i}" for i in range(8)],
                "event": ["$pageview"] * 8,
                "timestamp": pa.array(
                    [datetime(2026, 1, 5, 9, i, tzinfo=UTC) for i in range(8)],
                    pa.timestamp("us", "UTC"),
                ),
                "distinct_id": ids * 2,
                "person_id": pa.array([1, 1, 2, 3] * 2, pa.int64()),
                "tenant_id": [ACME] * 8,
                "properties": ['{"note": "write to ann@acme.test"}'] * 8,
            }
        ),
    )
    snapshots = Snapshots(tmp_path / "snapshots", engine)
    masked = snapshots.path((ACME,), sees_pii=False)
    shown = snapshots.path((ACME,), sees_pii=True)
    raw = masked.path.read_bytes()
    assert b"acme.test" not in raw and b"acme.test" in shown.path.read_bytes()
    events = tables_in(masked.path)["events"]
    distinct = events.column("distinct_id").to_pylist()
    assert "d4" in distinct and all(d == "d4" or d.startswith(MASK) for d in distinct)
    assert len(set(distinct)) == 3  # the two spellings of Ann's address are one person
    notes = {json.loads(p)["note"] for p in events.column("properties").to_pylist()}
    assert len(notes) == 1 and notes.pop().startswith("write to " + MASK)
    engine.close()
