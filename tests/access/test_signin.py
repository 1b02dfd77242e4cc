"""Sign-in on the real server: the password form, sessions, lockout, CSRF, forged cookies,
role-gated pages and API routes, the local demo, and the API's credentials."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from tests.access.signing import PASSWORD, add_user, login_form, page_token, sign_in
from tests.conftest import add_source, start_server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("signin")
    for email, role in (
        ("ada@example.com", "admin"),
        ("vic@example.com", "viewer"),
        ("ann@example.com", "analyst"),
        ("sam@example.com", "sys_engineer"),
        ("lou@example.com", "viewer"),  # locked out by a test
    ):
        add_user(data_dir, email, role)
    server = start_server(data_dir, add_source(data_dir), {"SEXTANT_LOCKOUT_ATTEMPTS": "3"})
    yield server
    server.stop()


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["errors"][0]["code"]


def test_without_a_session_pages_ask_to_sign_in_and_the_api_answers_401(served):
    page = httpx.get(served.url + "/sessions?range=last_7_days", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fsessions%3Frange%3Dlast_7_days"
    assert error_code(httpx.get(served.url + "/api/v1/metrics"), 401) == "sign_in_required"
    export = httpx.get(served.url + "/export/sessions/trend.csv")
    assert error_code(export, 401) == "sign_in_required"


def test_sign_in_sets_a_hardened_session_cookie_and_returns_to_the_page_asked_for(served):
    client = httpx.Client(base_url=served.url, timeout=60)
    token = login_form(client)
    response = client.post(
        "/login",
        data={
            "email": "VIC@example.com",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/sessions?range=last_7_days",
        },
    )
    assert (
        response.status_code == 303
        and response.headers["location"] == "/sessions?range=last_7_days"
    )
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("sextant_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http on 127.0.0.1; any other host gets Secure
    assert client.get("/sessions?range=last_7_days").status_code == 200


def test_next_never_leaves_the_server(served):
    client = httpx.Client(base_url=served.url, timeout=60)
    token = login_form(client)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post(
            "/login",
            data={
                "email": "vic@example.com",
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.headers["location"] == "/"


def test_a_wrong_password_is_answered_on_the_form_without_saying_which_part_was_wrong(served):
    client = httpx.Client(base_url=served.url, timeout=60)
    for email in ("vic@example.com", "nobody@example.com"):
        response = client.post(
            "/login",
            data={"email": email, "password": "wrong password!", "csrf_token": login_form(client)},
        )
        assert response.status_code == 401
        assert "email or password is wrong" in response.text
        assert "sextant_session" not in client.cookies


def test_repeated_failures_lock_the_account_even_for_the_right_password(served):
    client = httpx.Client(base_url=served.url, timeout=60)
    for _ in range(3):
        client.post(
            "/login",
            data={
                "email": "lou@example.com",
                "password": "not it at all",
                "csrf_token": login_form(client),
            },
        )
    response = client.post(
        "/login",
        data={"email": "lou@example.com", "password": PASSWORD, "csrf_token": login_form(client)},
    )
    assert response.status_code == 401 and "locked" in response.text
    assert "sextant_session" not in client.cookies


def test_sign_in_without_the_csrf_token_is_refused(served):
    client = httpx.Client(base_url=served.url, timeout=60)
    login_form(client)
    for token in (None, "0" * 64):
        data = {"email": "vic@example.com", "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        response = client.post("/login", data=data)
        assert response.status_code == 403 and "CSRF" in response.text
        assert "sextant_session" not in client.cookies


def test_a_forged_or_ended_session_cookie_is_refused(served):
    forged = httpx.Client(base_url=served.url, timeout=60, cookies={"sextant_session": "x" * 43})
    assert error_code(forged.get("/api/v1/metrics"), 401) == "session_invalid"
    page = forged.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and "reason=" in page.headers["location"]

    client = sign_in(served.url, "vic@example.com")
    stolen = client.cookies["sextant_session"]
    refused = client.post("/logout")  # no CSRF token
    assert error_code(refused, 403) == "csrf_failed"
    assert client.get("/api/v1/metrics").status_code == 200  # still signed in
    assert client.post("/logout", data={"csrf_token": page_token(client)}).status_code == 303
    replay = httpx.Client(base_url=served.url, timeout=60, cookies={"sextant_session": stolen})
    assert error_code(replay.get("/api/v1/metrics"), 401) == "session_invalid"


def test_state_changes_with_a_session_need_the_csrf_token_even_on_the_json_api(served):
    client = sign_in(served.url, "sam@example.com")
    body = {"name": "from a forged form"}
    assert error_code(client.post("/api/v1/sources", json=body), 403) == "csrf_failed"
    ok = client.post("/api/v1/sources", json=body, headers={"X-CSRF-Token": page_token(client)})
    assert ok.status_code == 201, ok.text


def test_roles_gate_pages_and_api_routes_on_the_server(served):
    viewer = sign_in(served.url, "vic@example.com")
    analyst = sign_in(served.url, "ann@example.com")
    token = page_token(viewer)
    assert error_code(viewer.get("/api/v1/info"), 403) == "role_forbidden"
    assert error_code(viewer.get("/api/v1/metrics/dau?dialect=duckdb"), 403) == "role_forbidden"
    refused = viewer.post("/api/v1/sources", json={"name": "x"}, headers={"X-CSRF-Token": token})
    assert error_code(refused, 403) == "role_forbidden"
    assert analyst.get("/api/v1/info").status_code == 200
    assert "sql" in analyst.get("/api/v1/metrics/dau?dialect=duckdb").json()
    body = {"range": "last_7_days"}
    seen = viewer.post(
        "/api/v1/analyses/stickiness", json=body, headers={"X-CSRF-Token": token}
    ).json()
    assert "sql" not in seen and "result" in seen
    assert (
        "sql"
        in analyst.post(
            "/api/v1/analyses/stickiness", json=body, headers={"X-CSRF-Token": page_token(analyst)}
        ).json()
    )
    metric_page = viewer.get("/metrics/dau").text
    assert "SQL for DuckDB" not in metric_page and "Analysts and above see the SQL" in metric_page
    assert "SQL for DuckDB" in analyst.get("/metrics/dau").text


def test_the_navigation_shows_what_the_role_may_open(served):
    viewer = sign_in(served.url, "vic@example.com").get("/metrics").text
    analyst = sign_in(served.url, "ann@example.com").get("/metrics").text
    admin = sign_in(served.url, "ada@example.com").get("/metrics").text
    assert 'href="/playground"' not in viewer and 'href="/admin/users"' not in viewer
    assert 'href="/playground"' in analyst and 'href="/admin/users"' not in analyst
    assert 'href="/playground"' in admin and 'href="/admin/users"' in admin
    assert "vic@example.com · viewer" in viewer and "Sign out" in viewer


def test_the_control_token_acts_as_admin_and_a_wrong_bearer_is_refused(served):
    headers = {"Authorization": f"Bearer {served.control_token}"}
    assert httpx.get(served.url + "/api/v1/info", headers=headers).status_code == 200
    wrong = httpx.get(served.url + "/api/v1/info", headers={"Authorization": "Bearer sxk_nope"})
    assert error_code(wrong, 401) == "invalid_credentials"


def test_sign_ins_failures_and_api_reads_are_in_the_audit_log(served):
    sign_in(served.url, "ann@example.com").get("/api/v1/metrics/dau")
    client = httpx.Client(base_url=served.url, timeout=60)
    client.post(
        "/login",
        data={"email": "ghost@example.com", "password": "x" * 12, "csrf_token": login_form(client)},
    )
    db = sqlite3.connect(served.data_dir / "access.sqlite")
    rows = db.execute("SELECT actor, outcome, ip FROM audit WHERE action = 'sign_in'").fetchall()
    assert ("ann@example.com", "ok", "127.0.0.1") in rows
    assert ("ghost@example.com", "sign_in_failed", "127.0.0.1") in rows
    reads = db.execute("SELECT actor, target FROM audit WHERE action = 'api_read'").fetchall()
    assert ("ann@example.com", "/api/v1/metrics/dau") in reads


def test_a_server_without_users_is_a_labelled_local_demo(live_server):
    page = httpx.get(live_server.url + "/metrics")
    assert page.status_code == 200 and "Local demo · no sign-in" in page.text
    login = httpx.get(live_server.url + "/login")
    assert login.status_code == 303 and login.headers["location"] == "/"
