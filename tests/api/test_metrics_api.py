"""The metric routes on a real server over a real DuckDB store: the catalog, metric queries
checked against hand-written SQL, the result cache across an ingest write, a user catalog
read again when it changes, and every rejection as the JSON error body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sextant.catalog import load_catalog
from sextant.catalog.dialects import DIALECTS
from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from tests.cli.test_metrics_cli import SIGNUPS_BY_DAY, USER_METRICS
from tests.conftest import LiveServer, add_source, start_server, wait_drained

TODAY = datetime.now(UTC).date()
DATA = SynthConfig(
    users=2_000, events=20_000, start=TODAY - timedelta(days=70), end=TODAY - timedelta(days=1)
)
FIRST, LAST = str(TODAY - timedelta(days=40)), str(TODAY - timedelta(days=10))
ZONE = "America/New_York"  # the server's default time zone (SEXTANT_TIMEZONE)


@dataclass
class Served:
    server: LiveServer
    catalog_dir: Path
    signups: dict[str, dict[str, int]]  # zone -> local day -> hand-counted sign-ups

    def post(self, body: object, token: str | None = "") -> httpx.Response:
        return httpx.post(
            self.server.url + "/api/v1/query", json=body, headers=self.auth(token), timeout=60
        )

    def get(self, path: str, token: str | None = "", **params: object) -> httpx.Response:
        return httpx.get(
            self.server.url + path, params=params, headers=self.auth(token), timeout=60
        )

    def auth(self, token: str | None) -> dict[str, str]:
        if token is None:
            return {}
        return {"Authorization": f"Bearer {token or self.server.control_token}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("metrics-api")
    build_dataset(load_settings(data_dir=data_dir), DATA)
    signups = {}
    engine = DuckDBEngine(data_dir / "sextant.duckdb", read_only=True)
    for zone in ("UTC", ZONE):
        rows = engine.execute(SIGNUPS_BY_DAY, [zone]).to_pylist()
        signups[zone] = {str(r["day"]): r["n"] for r in rows}
    engine.close()
    catalog_dir = tmp_path_factory.mktemp("catalog")
    (catalog_dir / "growth.yaml").write_text(USER_METRICS)
    env = {
        "SEXTANT_CATALOG_DIR": str(catalog_dir),
        "SEXTANT_TIMEZONE": ZONE,
        "SEXTANT_WEEK_START": "sunday",
    }
    server = start_server(data_dir, add_source(data_dir), env)
    yield Served(server, catalog_dir, signups)
    server.stop()


def days(first: str, last: str) -> list[str]:
    start, end = datetime.fromisoformat(first).date(), datetime.fromisoformat(last).date()
    return [str(start + timedelta(days=i)) for i in range((end - start).days + 1)]


def error_of(response: httpx.Response, status: int) -> dict:
    """The one error of a JSON error answer, after checking its envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status
    assert set(body["errors"][0]) == {"code", "message", "field"}
    return body["errors"][0]


def test_metric_routes_refuse_a_wrong_credential_when_called(served):
    for response in (
        served.get("/api/v1/metrics", token="wrong"),
        served.get("/api/v1/metrics/dau", token="sxk_wrong"),
        served.post({"metric": "dau", "range": "last_7_days"}, token="wrong"),
    ):
        assert error_of(response, 401)["code"] == "invalid_credentials"


def test_list_gives_every_metric_with_its_tooltip_when_asked(served):
    listed = served.get("/api/v1/metrics").json()
    names = [m["name"] for m in listed]
    assert names == sorted(names) and set(names) == {*load_catalog().metrics, "free_signups"}
    assert next(m for m in listed if m["name"] == "revenue") == {
        "name": "revenue",
        "label": "Revenue",
        "description": load_catalog().metric("revenue").description,
        "unit": "currency",
        "type": "sum",
        "owner": "commerce",
    }


def test_detail_gives_definition_origin_dependencies_and_sql_when_dialects_are_asked(served):
    detail = served.get("/api/v1/metrics/aov").json()
    assert detail["label"] == "Average order value" and detail["type"] == "ratio"
    assert detail["origin"]["file"] == "sextant/catalog/builtin/metrics.yaml"
    assert detail["dependencies"] == ["revenue", "orders"]
    assert detail["dimensions"] == ["tenant"]
    assert detail["definition"]["numerator"] == "revenue" and detail["sql"] == {}
    two = served.get("/api/v1/metrics/aov", dialect=["snowflake", "bigquery"]).json()["sql"]
    assert set(two) == {"snowflake", "bigquery"}
    assert two["snowflake"].startswith("/* metric aov (ratio)") and f"in {ZONE}" in two["bigquery"]
    every = served.get("/api/v1/metrics/dau", dialect="all").json()["sql"]
    assert set(every) == set(DIALECTS)
    assert all(sql.startswith("/* metric dau (active_users)") for sql in every.values())


def test_query_equals_hand_written_sql_when_counting_daily_signups(served):
    body = {"metric": "signups", "from": FIRST, "to": LAST, "timezone": "UTC"}
    result = served.post(body).json()
    assert (result["metric"], result["timezone"], result["grain"]) == ("signups", "UTC", "day")
    assert result["keys"] == ["bucket"] and result["dialect"] == "duckdb"
    assert [r["bucket"] for r in result["rows"]] == days(FIRST, LAST)
    expected = [served.signups["UTC"].get(day, 0) for day in days(FIRST, LAST)]
    assert [r["value"] for r in result["rows"]] == expected and sum(expected) > 50
    assert result["sql"].startswith("/* metric signups") and result["definition"]["type"]


def test_query_uses_the_server_time_zone_and_week_start_when_body_omits_them(served):
    local = served.post({"metric": "signups", "from": FIRST, "to": LAST}).json()
    assert local["timezone"] == ZONE
    expected = [served.signups[ZONE].get(day, 0) for day in days(FIRST, LAST)]
    assert [r["value"] for r in local["rows"]] == expected
    weekly = {"metric": "orders", "range": "last_30_days", "grain": "week"}

    def weekdays(body: dict) -> set[int]:
        return {
            datetime.fromisoformat(r["bucket"]).weekday() for r in served.post(body).json()["rows"]
        }

    assert weekdays(weekly) == {6}  # SEXTANT_WEEK_START=sunday
    assert weekdays({**weekly, "week_start": "monday"}) == {0}


def test_repeat_is_cached_until_an_ingest_write_changes_the_data_version(served):
    body = {"metric": "orders", "from": FIRST, "to": LAST, "grain": "week", "breakdown": ["tenant"]}
    first, second = served.post(body).json(), served.post(body).json()
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["rows"] == first["rows"] and second["data_version"] == first["data_version"]
    event = {"event": "cache_test", "distinct_id": "cache-1", "uuid": "cache-test-1"}
    sent = httpx.post(
        served.server.url + "/batch/",
        json={"api_key": served.server.key, "batch": [event]},
        timeout=10,
    )
    assert sent.status_code == 200
    wait_drained(served.server)
    third = served.post(body).json()
    assert third["cached"] is False and third["data_version"] > first["data_version"]
    assert third["rows"] == first["rows"]  # an event does not change orders


def test_metrics_list_equals_each_metric_alone_when_asked_together(served):
    window = {"from": FIRST, "to": LAST}
    sliced = {**window, "breakdown": ["tenant"]}
    together = served.post({"metrics": ["dau", "revenue", "mau", "stickiness"], **sliced})
    results = together.json()["results"]
    assert [r["metric"] for r in results] == ["dau", "revenue", "mau", "stickiness"]
    for result in results:
        alone = served.post({"metric": result["metric"], **sliced}).json()
        assert result["rows"] == alone["rows"] and alone["cached"]  # cached by the batch
    refused = served.post({"metrics": ["dau", "revenue"], "breakdown": ["segment"], **window})
    assert refused.status_code == 400  # one metric that cannot be sliced refuses the request
    assert refused.json()["errors"][0]["code"] == "dimension_needs_persons"


@pytest.mark.parametrize(
    "body", [{"metrics": []}, {"metrics": "dau"}, {"metrics": ["dau"], "metric": "wau"}]
)
def test_metrics_list_is_refused_when_not_a_list_of_names(served, body):
    response = served.post({**body, "range": "last_7_days"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "metrics"


def test_user_catalog_metric_is_queried_when_the_server_reads_the_catalog_dir(served):
    window = {"from": FIRST, "to": LAST, "timezone": "UTC"}
    mine = served.post({"metric": "free_signups", **window}).json()
    free = served.post({"metric": "signups", "where": ["plan = 'free'"], **window}).json()
    assert mine["rows"] == free["rows"] and sum(r["value"] for r in mine["rows"]) > 0
    detail = served.get("/api/v1/metrics/free_signups").json()
    assert detail["origin"] == {
        "file": str(served.catalog_dir / "growth.yaml"),
        "line": 2,
        "builtin": False,
    }


def test_user_catalog_changes_apply_without_restart_when_files_change(served):
    bad = served.catalog_dir / "broken.yaml"
    bad.write_text("metrics:\n  - name: x\n    label: [unclosed\n")
    try:
        error = error_of(served.get("/api/v1/metrics"), 400)
        assert error["code"] == "catalog_yaml_syntax" and "broken.yaml line" in error["message"]
        capture_ok = httpx.get(served.server.url + "/readyz", timeout=10)
        assert capture_ok.status_code == 200
    finally:
        bad.unlink()
    (served.catalog_dir / "more.yaml").write_text(
        USER_METRICS.replace("free_signups", "free_signups_2")
    )
    try:
        names = {m["name"] for m in served.get("/api/v1/metrics").json()}
        assert {"free_signups", "free_signups_2"} <= names
    finally:
        (served.catalog_dir / "more.yaml").unlink()
    assert "free_signups_2" not in {m["name"] for m in served.get("/api/v1/metrics").json()}


@pytest.mark.parametrize(
    ("body", "status", "code", "field", "phrase"),
    [
        ({"metric": "signup", "range": "last_7_days"}, 404, "unknown_metric", "metric",
         "did you mean 'signups'"),
        ({"metric": "dau", "from": str(TODAY), "to": str(TODAY + timedelta(days=2))}, 400,
         "future_dates", "to", "Cannot select future dates"),
        ({"metric": "dau", "from": LAST, "to": FIRST}, 400, "invalid_date_range", "from",
         "Invalid date range"),
        ({"metric": "dau", "from": FIRST}, 400, "query_invalid", "to", "Field required"),
        ({"metric": "dau", "range": "last_7_days", "grain": "year"}, 400, "query_invalid",
         "grain", "'hour', 'day', 'week' or 'month'"),
        ({"metric": "dau", "range": "last_week"}, 400, "range_unknown", "range", "last_7_days"),
        ({"metric": "dau", "range": "last_7_days", "timezone": "Mars/Base"}, 400,
         "query_invalid", "timezone", "unknown time zone 'Mars/Base'"),
        ({"metric": "signups", "range": "last_7_days", "where": ["plan"]}, 400,
         "catalog_filter_not_predicate", "where", "bare column"),
        ({"metric": "signups", "range": "last_7_days", "where": ["DROP TABLE x"]}, 400,
         "catalog_filter_not_predicate", "where", "DROP statement"),
        ({"metric": "signups", "range": "last_7_days", "breakdown": ["planet"]}, 404,
         "unknown_dimension", "dimension", "unknown dimension 'planet'"),
        ({"metric": "power_users", "range": "last_7_days", "parameters": {"nope": 1}}, 400,
         "metric_parameter_unknown", "nope", "takes no parameter 'nope'"),
        ({"metric": "power_users", "range": "last_7_days", "parameters": {"min_days": "x"}},
         400, "metric_parameter_invalid", "min_days", "valid integer"),
        ({"metrc": "dau", "range": "last_7_days"}, 400, "query_invalid", "metric",
         "Field required"),
        (["dau"], 422, "invalid_request", None, "valid dictionary"),
    ],
)  # fmt: skip
def test_bad_query_gets_the_json_error_body_when_input_is_wrong(
    served, body, status, code, field, phrase
):
    error = error_of(served.post(body), status)
    assert (error["code"], error["field"]) == (code, field)
    assert phrase in error["message"]


def test_bad_detail_request_gets_the_json_error_body_when_name_or_dialect_is_wrong(served):
    missing = error_of(served.get("/api/v1/metrics/stickyness"), 404)
    assert (missing["code"], missing["field"]) == ("unknown_metric", "metric")
    assert "did you mean 'stickiness'?" in missing["message"]
    dialect = error_of(served.get("/api/v1/metrics/dau", dialect="oracle"), 400)
    assert (dialect["code"], dialect["field"]) == ("dialect_unknown", "dialect")
    assert "snowflake" in dialect["message"]
