"""Tenant limits on the real server: a user limited to a tenant sees only its data in metrics,
analyses, filter values, experiments, pages and exports, equal to an admin asking for that
tenant and to plain Python over the raw events; another tenant is refused, never blended."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sextant.store.engines.duckdb import DuckDBEngine
from tests.access.signing import add_key, add_user, generated_store, sign_in
from tests.conftest import add_source, start_server

TODAY = datetime.now(UTC).date()
RANGE = {"from": str(TODAY - timedelta(days=30)), "to": str(TODAY - timedelta(days=1))}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tenants")
    busiest = generated_store(data_dir, users=600, events=15_000, days=60)[:2]
    engine = DuckDBEngine(data_dir / "sextant.duckdb", read_only=True)
    sessions = engine.execute("SELECT tenant_id, started_at FROM sessions").to_pylist()
    engine.close()
    add_user(data_dir, "admin@example.com", "admin")
    add_user(data_dir, "pm@example.com", "viewer", tenants=busiest[0])
    keys = {
        "all": add_key(data_dir, "all", "admin"),
        "mine": add_key(data_dir, "mine", "analyst", busiest[0]),
    }
    server = start_server(data_dir, add_source(data_dir), {"SEXTANT_TIMEZONE": "UTC"})
    yield server, busiest, sessions, keys
    server.stop()


def api(server, key: str, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.request(method, server.url + path, headers=headers, timeout=60, **kwargs)


def test_a_limited_key_reads_its_tenant_exactly_as_plain_python_counts_it(world):
    server, (mine, _), sessions, keys = world
    body = {"metric": "sessions", "grain": "day", **RANGE}
    limited = api(server, keys["mine"], "POST", "/api/v1/query", json=body).json()
    scoped = api(server, keys["all"], "POST", "/api/v1/query", json={**body, "tenants": [mine]})
    everyone = api(server, keys["all"], "POST", "/api/v1/query", json=body).json()
    assert scoped.status_code == 200, scoped.text
    assert limited["rows"] == scoped.json()["rows"]
    total = sum(r["value"] or 0 for r in limited["rows"])
    assert 0 < total < sum(r["value"] or 0 for r in everyone["rows"])
    first, last = (datetime.fromisoformat(RANGE[k]).date() for k in ("from", "to"))
    by_day = Counter(
        str(r["started_at"].astimezone(UTC).date())
        for r in sessions
        if r["tenant_id"] == mine and first <= r["started_at"].astimezone(UTC).date() <= last
    )
    assert {r["bucket"][:10]: r["value"] for r in limited["rows"] if r["value"]} == by_day


def test_asking_for_another_tenant_is_refused_not_blended(world):
    server, (mine, other), _, keys = world
    body = {"metric": "dau", "tenants": [mine, other], **RANGE}
    refused = api(server, keys["mine"], "POST", "/api/v1/query", json=body)
    assert refused.status_code == 403
    error = refused.json()["errors"][0]
    assert error["code"] == "tenant_forbidden" and other in error["message"]
    for path in ("/api/v1/experiments", "/api/v1/dimensions/tenant/values"):
        assert api(server, keys["mine"], "GET", f"{path}?tenants={other}").status_code == 403
        assert api(server, keys["mine"], "GET", path).status_code == 200


def test_analyses_filter_values_and_experiments_follow_the_limit(world):
    server, (mine, _), _, keys = world
    body = {**RANGE, "steps": [{"event": "signed_up"}, {"event": "$pageview"}]}
    for kind, options in (("funnel", body), ("sessions", RANGE), ("stickiness", RANGE)):
        limited = api(server, keys["mine"], "POST", f"/api/v1/analyses/{kind}", json=options)
        scoped = api(
            server,
            keys["all"],
            "POST",
            f"/api/v1/analyses/{kind}",
            json={**options, "tenants": [mine]},
        )
        assert limited.status_code == 200, limited.text
        assert limited.json()["result"] == scoped.json()["result"], kind
    values = api(server, keys["mine"], "GET", "/api/v1/dimensions/tenant/values").json()
    assert [v["value"] for v in values["values"]] == [mine]
    limited = api(server, keys["mine"], "GET", "/api/v1/experiments").json()
    scoped = api(server, keys["all"], "GET", f"/api/v1/experiments?tenants={mine}").json()
    assert limited == scoped


def test_pages_and_exports_of_a_limited_user_show_only_their_tenant(world):
    server, (mine, other), _, _ = world
    pm = sign_in(server.url, "pm@example.com")
    page = pm.get("/sessions", params={"range": "last_30_days"})
    assert page.status_code == 200
    assert f'value="{mine}"' in page.text and f'value="{other}"' not in page.text
    assert pm.get("/sessions", params={"tenant": other}).status_code == 403
    limited = pm.get("/export/sessions/trend.csv", params={"range": "last_30_days"})
    admin = sign_in(server.url, "admin@example.com")
    scoped = admin.get(
        "/export/sessions/trend.csv", params={"range": "last_30_days", "tenant": mine}
    )
    assert limited.status_code == 200 and limited.text == scoped.text
    rows = list(csv.reader(io.StringIO(limited.text)))
    assert len(rows) > 1
