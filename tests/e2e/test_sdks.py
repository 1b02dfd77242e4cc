"""The official PostHog and Segment Python SDKs against a real `sextant serve` on 127.0.0.1.

One scenario sends capture, identify, alias, group, flags and person updates through
both SDKs (plus a raw retried batch); the server is then stopped with SIGTERM and the
tests read the DuckDB store directly to check what landed, including the merged persons.
"""

from __future__ import annotations

import json
import signal
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import posthog
import pytest
from segment import analytics

from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.identity import events_with_persons
from tests.conftest import add_source, start_server, wait_drained

SOURCE = "test"  # the source name `add_source` gives the write key
# PostHog people: an anonymous visitor who signs in, then gets an alias.
ANON, USER, ALIAS = "ph-anon-7f3a", "ph-user-ann", "ph-alias-ann"
# Segment people: the same story told through analytics-python.
SEG_ANON, SEG_USER, SEG_ALIAS = "seg-anon-19c2", "seg-user-bo", "seg-alias-bo"
# Fixed client timestamps (recent, so no limit applies); the skew correction moves them
# by the few milliseconds between the SDK's sent_at and the server's receive time.
T0 = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=250_000)
SKEW_TOLERANCE = timedelta(seconds=2)


def ident(n: int) -> str:
    return str(uuid.UUID(int=0x5E71A000_0000_4000_8000_000000000000 + n))


PAGEVIEW_ID, CLICK_ID, IDENTIFY_ID, ORDER_ID = ident(1), ident(2), ident(3), ident(4)
SEG_TRACK_ID, SEG_PAGE_ID, SEG_UPGRADE_ID = ident(11), ident(12), ident(13)
RETRIED_IDS = [ident(100 + i) for i in range(3)]


@dataclass
class Scenario:
    data_dir: Path
    exit_code: int
    log: str
    started: datetime
    finished: datetime
    flag_value: object = None
    flag_enabled: object = None
    snapshot_enabled: object = None
    retry_answers: list[int] = field(default_factory=list)

    def query(self, sql: str, params: list | None = None) -> list[dict]:
        engine = DuckDBEngine(self.data_dir / "sextant.duckdb", read_only=True)
        try:
            return engine.execute(sql, params).to_pylist()
        finally:
            engine.close()


def send_with_posthog(server, scenario: Scenario) -> None:
    ph = posthog.Posthog(
        project_api_key=server.key,
        host=server.url,
        sync_mode=True,  # each call posts /batch/ before returning
        max_retries=0,
        debug=True,  # re-raise a refused send (sync mode would only log it)
    )
    ph.capture(
        "$pageview",
        distinct_id=ANON,
        properties={
            "$current_url": "https://shop.example/pricing?ref=ad",
            "plan": "pro",
            "amount": 12.5,
            "nested": {"tags": ["a", "b"], "depth": {"x": 1}},
        },
        groups={"organization": "org-42"},
        timestamp=T0,
        uuid=PAGEVIEW_ID,
    )
    ph.capture("clicked_buy", distinct_id=ANON, timestamp=T0 + timedelta(seconds=5), uuid=CLICK_ID)
    # Stored before the identify, so the merge must go through person_overrides.
    assert server.wait_rows(2) == 2
    # posthog-python 7 has no identify(): an $identify event with $anon_distinct_id is it.
    ph.capture(
        "$identify",
        distinct_id=USER,
        properties={
            "$anon_distinct_id": ANON,
            "$set": {"email": "ann@example.com", "name": "Ann"},
        },
        uuid=IDENTIFY_ID,
    )
    ph.set(distinct_id=USER, properties={"name": "Ann Lee"})  # later $set wins
    ph.set_once(distinct_id=USER, properties={"email": "other@example.com", "via": "ads"})
    ph.alias(previous_id=USER, distinct_id=ALIAS)
    ph.capture("ordered", distinct_id=ALIAS, properties={"total": "19.90"}, uuid=ORDER_ID)
    ph.group_identify(
        "organization",
        "org-42",
        {"name": "Acme", "plan": "business", "country": "FR", "seats": 12},
        distinct_id=USER,
    )
    with warnings.catch_warnings():  # the 7.x per-flag calls are deprecated, still used
        warnings.simplefilter("ignore", DeprecationWarning)
        scenario.flag_value = ph.get_feature_flag("new-checkout", USER)  # + $feature_flag_called
        scenario.flag_enabled = ph.feature_enabled(
            "new-checkout", USER, send_feature_flag_events=False
        )
    scenario.snapshot_enabled = ph.evaluate_flags(USER, flag_keys=["new-checkout"]).is_enabled(
        "new-checkout"
    )
    ph.flush()
    ph.shutdown()


def send_with_segment(server, scenario: Scenario) -> None:
    client = analytics.Client(
        server.key,
        host=server.url,
        sync_mode=True,  # each call posts /v1/batch and raises on a non-2xx answer
        max_retries=0,
    )
    client.track(
        anonymous_id=SEG_ANON,
        event="Viewed Pricing",
        properties={"plan": "pro", "price": 29},
        timestamp=T0,
        message_id=SEG_TRACK_ID,
        context={"page": {"path": "/pricing"}, "campaign": {"source": "newsletter"}},
    )
    assert wait_drained(server)["backlog"] == 0  # stored before the identify
    client.identify(user_id=SEG_USER, anonymous_id=SEG_ANON, traits={"email": "bo@example.com"})
    client.page(
        user_id=SEG_USER,
        category="Docs",
        name="Install",
        properties={"url": "https://docs.example/install", "path": "/install"},
        message_id=SEG_PAGE_ID,
    )
    client.screen(user_id=SEG_USER, name="Home")
    client.group(user_id=SEG_USER, group_id="org-7", traits={"name": "Beta Ltd", "plan": "free"})
    client.alias(previous_id=SEG_USER, user_id=SEG_ALIAS)
    client.track(user_id=SEG_ALIAS, event="Upgraded", message_id=SEG_UPGRADE_ID)
    client.flush()  # no shutdown(): analytics-python 2.4 fails on it in sync_mode


def send_retried_batch(server, scenario: Scenario) -> None:
    """One /batch/ body sent twice, as an SDK retries after a lost answer."""
    body = {
        "api_key": server.key,
        "sent_at": datetime.now(UTC).isoformat(),
        "batch": [
            {"event": "retried", "distinct_id": "retry-user", "uuid": uid, "properties": {"n": i}}
            for i, uid in enumerate(RETRIED_IDS)
        ],
    }
    content = json.dumps(body).encode()
    for _ in range(2):
        response = httpx.post(
            server.url + "/batch/",
            content=content,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        scenario.retry_answers.append(response.status_code)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    data_dir = tmp_path_factory.mktemp("sdks")
    server = start_server(data_dir, add_source(data_dir, SOURCE))
    started = datetime.now(UTC)
    try:
        result = Scenario(data_dir, 0, "", started, started)
        send_with_posthog(server, result)
        send_with_segment(server, result)
        send_retried_batch(server, result)
        result.finished = datetime.now(UTC)
        result.exit_code = server.stop(signal.SIGTERM, timeout=20)
        result.log = server.log.read_text()
        return result
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def events(scenario: Scenario) -> list[dict]:
    return scenario.query("SELECT * FROM events ORDER BY timestamp, id")


def by_id(scenario: Scenario) -> dict[str, dict]:
    return {row["id"]: row for row in events(scenario)}


def props(row: dict) -> dict:
    return json.loads(row["properties"])


def test_server_drains_and_exits_zero_when_stopped_after_sdk_traffic(scenario):
    # Every SDK call above raised on anything but success; SIGTERM then drained the server:
    # the lifespan shutdown ran, logged what it stored, and the process exited 0.
    assert scenario.exit_code == 0
    assert '"msg": "stopped"' in scenario.log
    assert '"level": "error"' not in scenario.log


def test_flags_answer_nothing_when_sextant_serves_no_flags(scenario):
    assert scenario.flag_value is None
    assert not scenario.flag_enabled
    assert not scenario.snapshot_enabled


def test_every_call_lands_once_when_sent_by_the_sdks(scenario):
    rows = events(scenario)
    assert len(rows) == len({r["id"] for r in rows}), "an event id is stored twice"
    posthog_events = Counter(r["event"] for r in rows if r["distinct_id"].startswith("ph-"))
    segment_events = Counter(r["event"] for r in rows if r["distinct_id"].startswith("seg-"))
    assert posthog_events == {
        "$pageview": 1,
        "clicked_buy": 1,
        "$identify": 1,
        "$set": 1,
        "$set_once": 1,
        "$create_alias": 1,
        "ordered": 1,
        "$groupidentify": 1,
        "$feature_flag_called": 1,  # get_feature_flag reports the call; the others do not
    }
    assert segment_events == {
        "Viewed Pricing": 1,
        "$identify": 1,
        "$pageview": 1,
        "$screen": 1,
        "$groupidentify": 1,
        "$create_alias": 1,
        "Upgraded": 1,
    }
    assert {r["source"] for r in rows} == {SOURCE}


def test_client_ids_are_kept_when_sdks_send_uuid_and_message_id(scenario):
    stored = by_id(scenario)
    expected = {
        PAGEVIEW_ID: ("$pageview", ANON),
        CLICK_ID: ("clicked_buy", ANON),
        IDENTIFY_ID: ("$identify", USER),
        ORDER_ID: ("ordered", ALIAS),
        SEG_TRACK_ID: ("Viewed Pricing", SEG_ANON),
        SEG_PAGE_ID: ("$pageview", SEG_USER),
        SEG_UPGRADE_ID: ("Upgraded", SEG_ALIAS),
    }
    for event_id, (name, distinct_id) in expected.items():
        assert (stored[event_id]["event"], stored[event_id]["distinct_id"]) == (name, distinct_id)
    # Ids the SDKs generated are uuids too, never replaced by derived ones.
    for row in stored.values():
        assert str(uuid.UUID(row["id"])) == row["id"]


def test_client_timestamps_are_kept_when_sent_explicitly(scenario):
    stored = by_id(scenario)
    for event_id, sent in (
        (PAGEVIEW_ID, T0),
        (CLICK_ID, T0 + timedelta(seconds=5)),
        (SEG_TRACK_ID, T0),
    ):
        row = stored[event_id]
        assert abs(row["timestamp"] - sent) < SKEW_TOLERANCE, row
        assert scenario.started <= row["received_at"] <= scenario.finished
    # Events sent without a timestamp happened during the run.
    window = (scenario.started - SKEW_TOLERANCE, scenario.finished + SKEW_TOLERANCE)
    for event_id in (IDENTIFY_ID, ORDER_ID, SEG_PAGE_ID, SEG_UPGRADE_ID):
        assert window[0] <= stored[event_id]["timestamp"] <= window[1]


def test_properties_and_columns_are_stored_when_posthog_captures(scenario):
    row = by_id(scenario)[PAGEVIEW_ID]
    p = props(row)
    assert p["plan"] == "pro"
    assert p["amount"] == 12.5
    assert p["nested"] == {"tags": ["a", "b"], "depth": {"x": 1}}
    assert p["$groups"] == {"organization": "org-42"}
    assert p["$lib"] == "posthog-python"
    assert "distinct_id" not in p and "token" not in p
    assert (row["tenant_id"], row["plan"], row["path"]) == ("org-42", "pro", "/pricing")
    flag = next(r for r in events(scenario) if r["event"] == "$feature_flag_called")
    assert props(flag)["$feature_flag"] == "new-checkout"


def test_properties_and_columns_are_stored_when_segment_sends(scenario):
    stored = by_id(scenario)
    track = stored[SEG_TRACK_ID]
    assert props(track)["plan"] == "pro" and props(track)["price"] == 29
    assert props(track)["$lib"] == "analytics-python"
    assert (track["path"], track["channel"]) == ("/pricing", "newsletter")
    page = stored[SEG_PAGE_ID]
    assert props(page)["name"] == "Install" and props(page)["category"] == "Docs"
    assert props(page)["$current_url"] == "https://docs.example/install"
    assert page["path"] == "/install"
    screen = next(r for r in stored.values() if r["event"] == "$screen")
    assert screen["path"] == "Home"


def resolved(scenario: Scenario, distinct_ids: tuple[str, ...]) -> list[dict]:
    sql = events_with_persons(["id", "event", "distinct_id", "person_id"]).sql("duckdb")
    return [r for r in scenario.query(sql) if r["distinct_id"] in distinct_ids]


def test_anonymous_and_user_events_resolve_to_one_person_when_identified_and_aliased(scenario):
    rows = resolved(scenario, (ANON, USER, ALIAS))
    assert {r["distinct_id"] for r in rows} == {ANON, USER, ALIAS}
    persons = {r["person_id"] for r in rows}
    assert len(persons) == 1, rows
    # The anonymous events were stored before the identify: only the override joins them.
    raw = {r["id"]: r["person_id"] for r in scenario.query("SELECT id, person_id FROM events")}
    assert raw[PAGEVIEW_ID] not in persons
    mapped = scenario.query(
        "SELECT person_id FROM person_distinct_ids WHERE distinct_id IN (?, ?, ?)",
        [ANON, USER, ALIAS],
    )
    assert {r["person_id"] for r in mapped} == persons


def test_segment_events_resolve_to_one_person_when_identify_names_the_anonymous_id(scenario):
    rows = resolved(scenario, (SEG_ANON, SEG_USER))
    assert {r["distinct_id"] for r in rows} == {SEG_ANON, SEG_USER}
    persons = {r["person_id"] for r in rows}
    assert len(persons) == 1, rows
    assert persons != {r["person_id"] for r in resolved(scenario, (USER,))}


def test_segment_alias_joins_the_person_when_previous_id_is_identified(scenario):
    # alias(previousId=identified user, userId=new id): the new id joins the user, although
    # the writer creates a person for every distinct id of a flush before its merges.
    rows = resolved(scenario, (SEG_ANON, SEG_USER, SEG_ALIAS))
    assert len({r["person_id"] for r in rows}) == 1, rows
    (merge,) = scenario.query(
        "SELECT * FROM identity_merges WHERE kind = 'alias' AND ? IN (distinct_id, other_id)",
        [SEG_ALIAS],
    )
    assert merge["outcome"] in ("linked", "merged"), merge
    assert scenario.query("SELECT count(*) AS n FROM persons")[0]["n"] == 3  # + retry-user


def test_person_properties_follow_set_and_set_once_when_updated_by_sdk(scenario):
    (person,) = {r["person_id"] for r in resolved(scenario, (USER,))}
    (row,) = scenario.query("SELECT * FROM persons WHERE person_id = ?", [person])
    assert row["is_identified"] is True
    assert json.loads(row["properties"]) == {
        "email": "ann@example.com",  # $set_once does not overwrite
        "name": "Ann Lee",  # the later $set wins
        "via": "ads",  # $set_once fills what is missing
    }
    assert row["created_at"] <= T0 + SKEW_TOLERANCE  # first seen at the anonymous pageview
    (seg_person,) = {r["person_id"] for r in resolved(scenario, (SEG_USER,))}
    (seg_row,) = scenario.query("SELECT * FROM persons WHERE person_id = ?", [seg_person])
    assert json.loads(seg_row["properties"]) == {"email": "bo@example.com"}


def test_tenants_are_stored_when_groups_are_identified(scenario):
    rows = {r["tenant_id"]: r for r in scenario.query("SELECT * FROM tenants")}
    assert set(rows) == {"org-42", "org-7"}
    acme = rows["org-42"]
    assert (acme["name"], acme["plan"], acme["country"]) == ("Acme", "business", "FR")
    assert json.loads(acme["properties"]) == {
        "name": "Acme",
        "plan": "business",
        "country": "FR",
        "seats": 12,
        "$group_type": "organization",
    }
    assert (rows["org-7"]["name"], rows["org-7"]["plan"]) == ("Beta Ltd", "free")


def test_batch_is_stored_once_when_sent_twice_with_the_same_uuids(scenario):
    assert scenario.retry_answers == [200, 200]  # a retry is acknowledged like the original
    rows = scenario.query(
        "SELECT id, count(*) AS n FROM events WHERE event = 'retried' GROUP BY id ORDER BY id"
    )
    assert rows == [{"id": uid, "n": 1} for uid in sorted(RETRIED_IDS)]


def test_store_holds_every_event_when_server_stopped(scenario):
    total = scenario.query("SELECT count(*) AS n FROM events")[0]["n"]
    assert total == 9 + 7 + 3  # PostHog calls, Segment calls, the retried batch
