"""The analysis routes on a real server over a real DuckDB store: the list of kinds, a run
checked against hand-written SQL, the result cache across an ingest write, the "no data"
answer for an empty range, and every rejection as the JSON error body."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sextant.analyses import kinds
from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from tests.conftest import LiveServer, add_source, start_server, wait_drained

TODAY = datetime.now(UTC).date()
DATA = SynthConfig(
    users=2_000, events=20_000, start=TODAY - timedelta(days=70), end=TODAY - timedelta(days=1)
)
FIRST, LAST = str(TODAY - timedelta(days=40)), str(TODAY - timedelta(days=10))
INACTIVE = "('$pageleave', '$feature_flag_called', '$identify', '$create_alias', " + (
    "'$groupidentify', '$set', 'invoice_paid')"
)
# Stickiness written by hand: distinct active UTC days per resolved person in the range.
ACTIVE_DAYS = f"""
    SELECT COALESCE(o.person_id, e.person_id) AS who,
           COUNT(DISTINCT CAST(timezone('UTC', e.timestamp) AS DATE)) AS days
    FROM events e LEFT JOIN person_overrides o ON o.old_person_id = e.person_id
    WHERE e.event NOT IN {INACTIVE}
      AND CAST(timezone('UTC', e.timestamp) AS DATE) BETWEEN ? AND ?
    GROUP BY 1
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("analyses-api")
    build_dataset(load_settings(data_dir=data_dir), DATA)
    engine = DuckDBEngine(data_dir / "sextant.duckdb", read_only=True)
    rows = engine.execute(ACTIVE_DAYS, [FIRST, LAST]).to_pylist()
    engine.close()
    server = start_server(data_dir, add_source(data_dir), {"SEXTANT_TIMEZONE": "UTC"})
    server.histogram = Counter(r["days"] for r in rows)
    yield server
    server.stop()


def post(server: LiveServer, kind: str, body: object, token: str | None = "") -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token or server.control_token}"}
    return httpx.post(
        f"{server.url}/api/v1/analyses/{kind}", json=body, headers=headers, timeout=60
    )


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status
    return body["errors"][0]


def test_list_gives_every_kind_with_its_options_when_asked(served):
    response = httpx.get(
        f"{served.url}/api/v1/analyses",
        headers={"Authorization": f"Bearer {served.control_token}"},
        timeout=30,
    )
    listed = response.json()
    assert [a["kind"] for a in listed] == list(kinds())
    for item in listed:
        assert item["label"] and item["summary"]
        assert {"from", "to", "timezone", "breakdown"} <= set(item["options"]["properties"])


def test_stickiness_equals_hand_written_sql_when_run(served):
    answer = post(served, "stickiness", {"from": FIRST, "to": LAST}).json()
    assert answer["kind"] == "stickiness" and answer["dialect"] == "duckdb"
    assert answer["empty"] is False and answer["message"] is None
    (whole,) = answer["result"]["slices"]
    got = {bar["periods"]: bar["persons"] for bar in whole["bars"] if bar["persons"]}
    assert got == dict(served.histogram) and sum(got.values()) > 100
    assert answer["sql"]["histogram"].startswith("/* analysis stickiness, histogram:")
    assert answer["elapsed_ms"] >= 0 and answer["query"]["timezone"] == "UTC"


def test_repeat_is_cached_until_a_write_changes_the_data(served):
    body = {"from": FIRST, "to": LAST, "unit": "week"}
    first = post(served, "stickiness", body).json()
    again = post(served, "stickiness", body).json()
    assert (first["cached"], again["cached"]) == (False, True)
    assert again["result"] == first["result"]
    event = {"event": "$pageview", "distinct_id": "cache-buster", "timestamp": f"{LAST}T12:00:00Z"}
    key = add_source(served.data_dir, "cache")
    accepted = httpx.post(
        f"{served.url}/api/v1/events",
        json=event,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert accepted.status_code == 200, accepted.text
    wait_drained(served)
    after = post(served, "stickiness", body).json()
    assert after["cached"] is False and after["data_version"] > first["data_version"]


def test_dates_default_to_the_last_30_complete_days_when_omitted(served):
    answer = post(served, "stickiness", {}).json()
    assert answer["query"]["to"] == str(TODAY - timedelta(days=1))
    assert answer["query"]["from"] == str(TODAY - timedelta(days=30))


def test_empty_range_is_a_no_data_answer_not_an_error(served):
    day = str(TODAY - timedelta(days=300))
    answer = post(served, "stickiness", {"from": day, "to": day}).json()
    assert answer["empty"] is True and answer["result"]["slices"] == []
    assert answer["message"].startswith(f"No active persons in range {day}..{day}")


WEEK = {"range": "last_7_days"}
FUTURE = str(TODAY + timedelta(days=2))


@pytest.mark.parametrize(
    ("kind", "body", "status", "code", "field"),
    [
        ("stickyness", WEEK, 404, "unknown_analysis", "kind"),
        ("stickiness", {**WEEK, "kind": "funnel"}, 400, "analysis_kind_mismatch", "kind"),
        ("stickiness", {"from": LAST, "to": FIRST}, 400, "invalid_date_range", "from"),
        ("stickiness", {"from": FIRST, "to": FUTURE}, 400, "future_dates", "to"),
        ("stickiness", {**WEEK, "event": "signd_up"}, 400, "unknown_event", "event"),
        ("stickiness", {**WEEK, "unit": "fortnight"}, 400, "query_invalid", "unit"),
        ("stickiness", {**WEEK, "breakdown": ["planet"]}, 400, "unknown_dimension", "breakdown"),
        ("stickiness", {**WEEK, "colour": "red"}, 400, "query_invalid", "colour"),
    ],
)
def test_bad_query_is_refused_with_code_and_field_when_sent(
    served, kind, body, status, code, field
):
    problem = error_of(post(served, kind, body), status)
    assert (problem["code"], problem["field"]) == (code, field) and problem["message"]
    if code == "unknown_event":
        assert "did you mean 'signed_up'" in problem["message"]


def test_analysis_routes_refuse_a_wrong_credential_when_called(served):
    problem = error_of(post(served, "stickiness", {"range": "last_7_days"}, token="wrong"), 401)
    assert problem["code"] == "invalid_credentials"
