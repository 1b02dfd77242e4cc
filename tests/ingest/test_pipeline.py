"""The pipeline: journal, then store; replay after a crash; backpressure; identity and updates."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime

import pytest

from sextant.errors import Unavailable
from sextant.ingest.journal import Journal
from sextant.ingest.model import Accepted, GroupUpdate, Limits, Merge
from sextant.ingest.pipeline import Ingestor, encode
from sextant.ingest.requests import CaptureRequest, to_record
from sextant.store.engines.duckdb import DuckDBEngine

T0 = int(datetime(2025, 3, 1, 12, tzinfo=UTC).timestamp() * 1_000_000)


def event(i: int, distinct_id: str = "u1", name: str = "clicked", **extra) -> Accepted:
    row = {
        "id": f"ev-{i}",
        "event": name,
        "timestamp": T0 + i * 1_000_000,
        "received_at": T0 + i * 1_000_000,
        "distinct_id": distinct_id,
        "source": "test",
        "properties": "{}",
    }
    return Accepted(i, row, **extra)


def count(engine, sql="SELECT count(*) FROM events") -> int:
    return engine.execute(sql).column(0)[0].as_py()


@pytest.fixture
def engine(tmp_path):
    with DuckDBEngine(tmp_path / "s.duckdb") as eng:
        yield eng


def test_accepted_events_are_stored_and_position_recorded_when_stopped(engine, tmp_path):
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    lsns = [ingestor.submit_sync([event(i), event(i + 100)]) for i in range(5)]
    ingestor.stop()
    assert count(engine) == 10
    assert engine.journal_lsn == max(lsns) == 5
    assert ingestor.stats.stored == 10 and ingestor.backlog == 0


def test_events_become_queryable_without_a_stop_when_flusher_runs(engine, tmp_path):
    # The one-second freshness bound is measured alone in tests/e2e/test_freshness.py; here a
    # generous deadline only shows the flusher stores on its own, beside busy test workers.
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    ingestor.submit_sync([event(1)])
    deadline = time.monotonic() + 10.0
    while count(engine) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert count(engine) == 1
    ingestor.stop()


def test_journal_tail_is_replayed_once_when_store_missed_it(engine, tmp_path):
    journal = Journal(tmp_path / "journal")  # as if the process died after fsync, before store
    journal.append([encode([event(1), event(2)]), encode([event(3)])])
    journal.close()
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    ingestor.stop()
    assert count(engine) == 3 and ingestor.stats.replayed == 3
    again = Ingestor(engine, tmp_path / "journal")
    again.start()
    again.stop()
    assert count(engine) == 3 and again.stats.replayed == 0


def test_journaled_capture_request_is_validated_again_when_replayed(engine, tmp_path):
    body = json.dumps(
        {
            "api_key": "phc_x",
            "batch": [
                {
                    "event": "a",
                    "distinct_id": "u",
                    "uuid": "r-1",
                    "properties": {"$groups": {"company": "c1"}},
                },
                {"distinct_id": "u"},  # rejected at capture, rejected again on replay
                {"event": "b", "distinct_id": "u", "uuid": "r-2"},
            ],
        }
    ).encode()
    request = CaptureRequest("posthog", gzip.compress(body), T0, content_encoding="gzip")
    journal = Journal(tmp_path / "journal")
    journal.append([to_record(request, "web", Limits(), 1_000_000)])
    journal.close()
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    ingestor.stop()
    rows = engine.execute("SELECT id, tenant_id, source, received_at FROM events ORDER BY id")
    assert rows.column("id").to_pylist() == ["r-1", "r-2"]
    assert rows.column("tenant_id").to_pylist() == ["c1", None]
    assert set(rows.column("source").to_pylist()) == {"web"}
    assert int(rows.column("received_at")[0].as_py().timestamp() * 1_000_000) == T0


def test_retried_events_are_stored_once_when_ids_repeat(engine, tmp_path):
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    ingestor.submit_sync([event(1), event(2)])
    ingestor.submit_sync([event(2), event(3)])
    ingestor.stop()
    assert count(engine) == 3
    assert ingestor.stats.duplicates == 1


def test_submit_is_refused_with_retry_when_backlog_is_full(engine, tmp_path):
    ingestor = Ingestor(engine, tmp_path / "journal", max_backlog=3)
    ingestor.start()
    with pytest.raises(Unavailable) as err:
        ingestor.submit_sync([event(i) for i in range(4)])
    assert err.value.code == "overloaded" and err.value.status == 503
    assert err.value.retry_after >= 1
    ingestor.stop()
    with pytest.raises(Unavailable) as err:
        ingestor.submit_sync([event(9)])
    assert err.value.code == "shutting_down"


def test_identify_merges_anonymous_history_when_sent_in_the_same_batch(engine, tmp_path):
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    ingestor.submit_sync(
        [
            event(1, "anon-1", "$pageview"),
            event(2, "user-1", "$identify", merge=Merge("identify", "user-1", "anon-1")),
            event(3, "user-1", "signed_up"),
        ]
    )
    ingestor.stop()
    resolved = engine.execute(
        "SELECT count(DISTINCT coalesce(o.person_id, e.person_id)) FROM events e "
        "LEFT JOIN person_overrides o ON o.old_person_id = e.person_id"
    )
    assert resolved.column(0)[0].as_py() == 1
    first_seen = engine.execute("SELECT min(created_at) FROM persons").column(0)[0].as_py()
    assert int(first_seen.timestamp() * 1_000_000) == T0 + 1_000_000


def test_set_overwrites_and_set_once_keeps_first_value(engine, tmp_path):
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    ingestor.submit_sync(
        [
            event(1, person_set={"plan": "free", "email": "a@x.io"}),
            event(2, person_set_once={"first_utm": "ad", "plan": "never"}),
            event(3, person_set={"plan": "plus"}, person_set_once={"first_utm": "later"}),
        ]
    )
    ingestor.stop()
    props = json.loads(engine.execute("SELECT properties FROM persons").column(0)[0].as_py())
    assert props == {"plan": "plus", "email": "a@x.io", "first_utm": "ad"}


def test_set_lands_on_surviving_person_when_merged_in_the_same_batch(engine, tmp_path):
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    ingestor.submit_sync(
        [
            event(1, "anon", "$pageview", person_set_once={"utm": "ad"}),
            event(2, "user", "login"),
            event(3, "user", "$identify", merge=Merge("identify", "user", "anon")),
        ]
    )
    ingestor.stop()
    rows = engine.execute("SELECT properties, is_identified FROM persons").to_pylist()
    assert len(rows) == 1 and rows[0]["is_identified"]
    assert json.loads(rows[0]["properties"]) == {"utm": "ad"}


def test_group_identify_creates_then_updates_tenant(engine, tmp_path):
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()
    ingestor.submit_sync(
        [event(1, group=GroupUpdate("organization", "org-1", {"name": "Acme", "plan": "free"}))]
    )
    ingestor.submit_sync([event(2, group=GroupUpdate("organization", "org-1", {"plan": "plus"}))])
    ingestor.stop()
    rows = engine.execute("SELECT tenant_id, name, plan FROM tenants").to_pylist()
    assert rows == [{"tenant_id": "org-1", "name": "Acme", "plan": "plus"}]


def test_events_are_refused_retryably_when_journal_cannot_write(engine, tmp_path, monkeypatch):
    ingestor = Ingestor(engine, tmp_path / "journal")
    ingestor.start()

    def disk_full(payloads):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingestor.journal, "append", disk_full)
    with pytest.raises(Unavailable) as err:
        ingestor.submit_sync([event(1)])
    assert err.value.code == "journal_unavailable" and "No space left" in err.value.message
    assert ingestor.backlog == 0
    monkeypatch.undo()
    ingestor.submit_sync([event(2)])
    ingestor.stop()
    assert count(engine) == 1
