"""The admin pages and API on a real server: users, API keys, the audit log with its CSV and
retention; refusals for other roles, role and tenant escalation, missing CSRF tokens and the
last admin."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.access.signing import PASSWORD, add_user, csrf_of, page_token, sign_in
from tests.conftest import add_source, start_server

HTML = {"Accept": "text/html"}
SECRET = re.compile(r'<p class="secret"[^>]*>(sxk_[A-Za-z0-9_-]+)</p>')
NEW_PASSWORD = "another long passphrase"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server whose first admin was made with the CLI; she added the others (the CLI takes
    seconds a call)."""
    data_dir = tmp_path_factory.mktemp("admin")
    add_user(data_dir, "ada@example.com", "admin")
    server = start_server(data_dir, add_source(data_dir))
    ada = sign_in(server.url, "ada@example.com")
    for email, role, tenants in (
        ("tia@example.com", "admin", ["acme"]),  # an admin limited to one tenant
        ("vic@example.com", "viewer", None),
        ("ann@example.com", "analyst", None),
        ("sam@example.com", "sys_engineer", None),
        ("acme-viewer@example.com", "viewer", ["acme"]),
    ):
        body = {"email": email, "role": role, "tenants": tenants, "password": PASSWORD}
        added = ada.post("/api/v1/users", json=body, headers=api_headers(ada))
        assert added.status_code == 201, added.text
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ada(served):
    return sign_in(served.url, "ada@example.com")


def refused(response: httpx.Response, status: int, code: str, field: str | None) -> str:
    """The JSON refusal's message, after checking its status, code and field."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status
    error = body["errors"][0]
    assert (error["code"], error["field"]) == (code, field), body
    return error["message"]


def api_user(client: httpx.Client, email: str) -> dict:
    users = client.get("/api/v1/users")
    assert users.status_code == 200, users.text
    return next(u for u in users.json() if u["email"] == email)


def emails(client: httpx.Client) -> set[str]:
    return {u["email"] for u in client.get("/api/v1/users").json()}


def form(client: httpx.Client, path: str, data: dict) -> httpx.Response:
    """Post a page's form with the CSRF token the pages give this client."""
    return client.post(path, data={**data, "csrf_token": page_token(client, "/admin/users")})


def api_headers(client: httpx.Client) -> dict:
    return {"X-CSRF-Token": page_token(client)}


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def audit(client: httpx.Client, **params: str) -> list[dict]:
    response = client.get("/api/v1/audit", params={"limit": "1000", **params})
    assert response.status_code == 200, response.text
    return response.json()


def alert(html: str, form_id: str) -> str:
    found = re.search(rf'<p class="error" role="alert" id="{form_id}-error">([^<]*)</p>', html)
    assert found, f"no refusal beside the {form_id} form"
    return found.group(1)


def test_admin_adds_changes_and_resets_a_user_when_using_the_pages(served, ada):
    page = ada.get("/admin/users")
    assert page.status_code == 200
    assert '<a href="/admin/users" aria-current="page">Users</a>' in page.text
    assert '<a href="/admin/keys">API keys</a>' in page.text
    assert "tia@example.com" in page.text and "acme" in page.text
    assert page.text.count('name="csrf_token"') >= 2 * 6 + 2  # two per user, add, sign out

    added = form(
        ada,
        "/admin/users",
        {
            "email": "pia@example.com",
            "name": "Pia <Product>",
            "role": "analyst",
            "tenants": "acme, globex",
            "password": PASSWORD,
        },
    )
    assert added.status_code == 303
    location = urlsplit(added.headers["location"])
    assert location.path == "/admin/users" and parse_qs(location.query)["done"] == ["added"]
    shown = ada.get(added.headers["location"])
    assert '<p class="done" role="status">Added pia@example.com.</p>' in shown.text
    assert "Pia &lt;Product&gt;" in shown.text and "<Product>" not in shown.text
    pia = api_user(ada, "pia@example.com")
    assert (pia["role"], pia["tenants"], pia["active"]) == ("analyst", ["acme", "globex"], True)

    pia_client = sign_in(served.url, "pia@example.com")
    assert pia_client.get("/api/v1/metrics").status_code == 200
    changed = form(
        ada,
        f"/admin/users/{pia['id']}",
        {"role": "viewer", "tenants": "", "state": "active"},
    )
    assert changed.status_code == 303
    assert "Changed pia@example.com" in ada.get(changed.headers["location"]).text
    pia = api_user(ada, "pia@example.com")
    assert (pia["role"], pia["tenants"]) == ("viewer", None)
    assert pia_client.get("/api/v1/metrics").status_code == 401  # the change ended her session

    reset = form(ada, f"/admin/users/{pia['id']}", {"password": NEW_PASSWORD})
    assert reset.status_code == 303
    sign_in(served.url, "pia@example.com", NEW_PASSWORD)

    odd = form(ada, f"/admin/users/{pia['id']}", {"state": "asleep"})
    assert odd.status_code == 400
    assert alert(odd.text, f"user-{pia['id']}") == "state: active or disabled, got &#39;asleep&#39;"
    assert f'id="user-{pia["id"]}-state" name="state" aria-invalid="true"' in odd.text
    disabled = form(ada, f"/admin/users/{pia['id']}", {"state": "disabled"})
    assert disabled.status_code == 303
    assert api_user(ada, "pia@example.com")["active"] is False
    assert "disabled" in ada.get("/admin/users").text

    entries = audit(ada, action="user_change", actor="ada@example.com")
    mine = [e for e in entries if e["target"] == "pia@example.com"]
    assert [e["detail"]["change"] for e in mine] == ["updated", "updated", "updated", "added"]
    assert mine[3]["detail"]["tenants"] == ["acme", "globex"]
    assert mine[2]["detail"]["role"] == {"before": "analyst", "after": "viewer"}
    assert mine[2]["detail"]["tenants"] == {"before": ["acme", "globex"], "after": None}
    assert mine[1]["detail"] == {"change": "updated", "password": "reset"}
    assert mine[0]["detail"]["active"] == {"before": True, "after": False}
    assert all(e["ip"] == "127.0.0.1" and e["outcome"] == "ok" for e in mine)
    assert NEW_PASSWORD not in str(entries) and PASSWORD not in str(entries)
    shown = ada.get("/admin/audit", params={"action": "user_change", "actor": "ada@"}).text
    assert "role: analyst → viewer; tenants: acme, globex → all" in shown


@pytest.mark.parametrize(
    ("data", "status", "code", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, 400, "email_invalid", "email"),
        (
            {"email": "short@example.com", "password": "short"},
            400,
            "password_too_short",
            "password",
        ),
        ({"email": "vic@example.com", "password": PASSWORD}, 409, "user_exists", "email"),
        (
            {"email": "odd@example.com", "password": PASSWORD, "role": "owner"},
            400,
            "role_unknown",
            "role",
        ),
    ],
)
def test_a_refused_new_user_is_explained_beside_the_form_when_input_is_bad(
    served, ada, data, status, code, field
):
    before = emails(ada)
    page = form(ada, "/admin/users", {"role": "viewer", "tenants": "", **data})
    assert page.status_code == status
    message = alert(page.text, "add")
    expected = refused(
        ada.post("/api/v1/users", json={"role": "viewer", **data}, headers=api_headers(ada)),
        status,
        code,
        field,
    )
    assert message == expected.replace("'", "&#39;")
    assert 'aria-invalid="true" aria-describedby="add-error"' in page.text
    assert f'value="{data["email"]}"' in page.text  # what was typed is kept, bar the password
    assert PASSWORD not in page.text
    assert emails(ada) == before
    last = audit(ada, action="user_change")[0]
    assert (last["outcome"], last["target"]) == (code, data["email"])


def test_single_sign_on_only_users_get_no_password_when_the_box_is_ticked(ada):
    added = form(ada, "/admin/users", {"email": "sso@example.com", "role": "viewer", "sso": "on"})
    assert added.status_code == 303
    user = api_user(ada, "sso@example.com")
    assert (user["password"], user["sso"]) == (False, False)  # no way in until SSO maps them
    assert "none" in ada.get("/admin/users").text


def test_admin_manages_users_through_the_api_when_using_json(served, ada):
    headers = api_headers(ada)
    created = ada.post(
        "/api/v1/users",
        json={"email": "jo@example.com", "role": "analyst", "password": PASSWORD},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    jo = created.json()
    assert (jo["email"], jo["role"], jo["tenants"], jo["password"]) == (
        "jo@example.com",
        "analyst",
        None,
        True,
    )
    patched = ada.patch(
        f"/api/v1/users/{jo['id']}", json={"tenants": ["globex"], "name": "Jo"}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["tenants"], patched.json()["role"]) == (["globex"], "analyst")
    lifted = ada.patch(f"/api/v1/users/{jo['id']}", json={"tenants": None}, headers=headers)
    assert lifted.json()["tenants"] is None
    same = ada.patch(f"/api/v1/users/{jo['id']}", json={"role": "analyst"}, headers=headers)
    assert same.status_code == 200
    assert audit(ada, action="user_change")[0]["detail"] == {"change": "unchanged"}
    refused(
        ada.patch("/api/v1/users/99999", json={"role": "viewer"}, headers=headers),
        404,
        "user_not_found",
        "user",
    )
    refused(
        ada.patch(f"/api/v1/users/{jo['id']}", json={"role": "boss"}, headers=headers),
        400,
        "role_unknown",
        "role",
    )
    typo = ada.patch(f"/api/v1/users/{jo['id']}", json={"rol": "viewer"}, headers=headers)
    refused(typo, 422, "invalid_request", "rol")
    assert api_user(ada, "jo@example.com")["role"] == "analyst"


def test_a_new_key_is_shown_once_works_with_its_role_and_is_refused_when_revoked(served, ada):
    created = form(ada, "/admin/keys", {"name": "nightly report", "role": "viewer", "tenants": ""})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    secret = SECRET.search(created.text).group(1)
    assert "it will not be shown again" in created.text
    assert secret not in ada.get("/admin/keys").text
    assert secret[:10] in ada.get("/admin/keys").text  # the start identifies it

    metrics = httpx.get(served.url + "/api/v1/metrics", headers=bearer(secret))
    assert metrics.status_code == 200 and metrics.json()
    name = metrics.json()[0]["name"]
    sql = httpx.get(
        f"{served.url}/api/v1/metrics/{name}", params={"dialect": "duckdb"}, headers=bearer(secret)
    )
    refused(sql, 403, "role_forbidden", "role")  # a viewer key may not read SQL
    refused(
        httpx.get(served.url + "/api/v1/users", headers=bearer(secret)),
        403,
        "role_forbidden",
        "role",
    )

    key = next(k for k in ada.get("/api/v1/keys").json() if k["name"] == "nightly report")
    assert key["last_used"] is not None and key["created_by"] == "ada@example.com"
    revoked = form(ada, f"/admin/keys/{key['id']}/revoke", {})
    assert revoked.status_code == 303
    assert "Revoked the key &#39;nightly report&#39;" in ada.get(revoked.headers["location"]).text
    refused(
        httpx.get(served.url + "/api/v1/metrics", headers=bearer(secret)),
        401,
        "invalid_credentials",
        "authorization",
    )
    changes = [e for e in audit(ada, action="key_change") if e["target"] == "nightly report"]
    assert [e["detail"]["change"] for e in changes] == ["revoked", "created"]


def test_a_key_made_through_the_api_carries_its_role_until_deleted(served, ada):
    created = ada.post(
        "/api/v1/keys", json={"name": "notebook", "role": "analyst"}, headers=api_headers(ada)
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert body["secret"].startswith("sxk_") and body["prefix"] == body["secret"][:10]
    assert "secret" not in ada.get("/api/v1/keys").json()[-1]
    name = httpx.get(served.url + "/api/v1/metrics", headers=bearer(body["secret"])).json()[0]
    sql = httpx.get(
        f"{served.url}/api/v1/metrics/{name['name']}",
        params={"dialect": "duckdb"},
        headers=bearer(body["secret"]),
    )
    assert sql.status_code == 200, sql.text
    deleted = ada.delete(f"/api/v1/keys/{body['id']}", headers=api_headers(ada))
    assert deleted.status_code == 200 and deleted.json()["revoked"] is True
    refused(
        httpx.get(served.url + "/api/v1/metrics", headers=bearer(body["secret"])),
        401,
        "invalid_credentials",
        "authorization",
    )


PAGES = ["/admin/users", "/admin/keys", "/admin/audit", "/admin/audit.csv"]
PAGE_POSTS = [
    ("/admin/users", {"email": "x@example.com", "role": "admin", "password": PASSWORD}),
    ("/admin/users/1", {"role": "admin"}),
    ("/admin/keys", {"name": "mine", "role": "admin"}),
    ("/admin/keys/1/revoke", {}),
    ("/admin/settings/audit-retention", {"days": "1"}),
]
API_CALLS = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"email": "x@example.com", "role": "admin", "password": PASSWORD}),
    ("PATCH", "/api/v1/users/1", {"role": "viewer"}),
    ("GET", "/api/v1/keys", None),
    ("POST", "/api/v1/keys", {"name": "mine", "role": "viewer"}),
    ("DELETE", "/api/v1/keys/1", None),
    ("GET", "/api/v1/audit", None),
]


@pytest.mark.parametrize("email", ["vic@example.com", "ann@example.com", "sam@example.com"])
def test_every_admin_page_and_route_is_forbidden_when_the_user_is_not_admin(served, ada, email):
    client = sign_in(served.url, email)
    before = (emails(ada), len(ada.get("/api/v1/keys").json()))
    for path in PAGES:
        page = client.get(path, headers=HTML)
        assert page.status_code == 403, path
        assert "users, API keys and the audit log needs the admin role" in page.text
    token = page_token(client)
    for path, data in PAGE_POSTS:
        refused(
            client.post(path, data={**data, "csrf_token": token}), 403, "role_forbidden", "role"
        )
    for method, path, body in API_CALLS:
        answer = client.request(method, path, json=body, headers={"X-CSRF-Token": token})
        refused(answer, 403, "role_forbidden", "role")
    assert 'href="/admin/users"' not in client.get("/metrics").text  # not in the navigation
    assert (emails(ada), len(ada.get("/api/v1/keys").json())) == before


def test_an_analyst_cannot_make_themselves_admin_when_patching_their_own_user(served, ada):
    analyst = sign_in(served.url, "ann@example.com")
    me = api_user(ada, "ann@example.com")
    answer = analyst.patch(
        f"/api/v1/users/{me['id']}", json={"role": "admin"}, headers=api_headers(analyst)
    )
    refused(answer, 403, "role_forbidden", "role")
    page = analyst.post(
        f"/admin/users/{me['id']}", data={"role": "admin", "csrf_token": page_token(analyst)}
    )
    refused(page, 403, "role_forbidden", "role")
    assert api_user(ada, "ann@example.com")["role"] == "analyst"


def test_an_analyst_key_cannot_create_users_or_keys_when_used_on_the_api(served, ada):
    made = ada.post(
        "/api/v1/keys", json={"name": "analyst key", "role": "analyst"}, headers=api_headers(ada)
    )
    key = bearer(made.json()["secret"])
    user = {"email": "sneaky@example.com", "role": "admin", "password": PASSWORD}
    refused(
        httpx.post(served.url + "/api/v1/users", json=user, headers=key),
        403,
        "role_forbidden",
        "role",
    )
    wider = {"name": "wider", "role": "admin"}
    refused(
        httpx.post(served.url + "/api/v1/keys", json=wider, headers=key),
        403,
        "role_forbidden",
        "role",
    )
    assert "sneaky@example.com" not in emails(ada)
    assert "wider" not in {k["name"] for k in ada.get("/api/v1/keys").json()}


def test_a_tenant_limited_admin_cannot_reach_beyond_their_tenants_when_adding_or_changing(
    served, ada
):
    tia = sign_in(served.url, "tia@example.com")
    headers = api_headers(tia)
    seen = tia.get("/api/v1/users").json()
    assert {"tia@example.com", "acme-viewer@example.com"} <= {u["email"] for u in seen}
    assert all(u["tenants"] is not None and set(u["tenants"]) <= {"acme"} for u in seen)
    assert "ada@example.com" not in tia.get("/admin/users").text

    wide_key = {"name": "wide", "role": "viewer", "tenants": ["acme", "globex"]}
    message = refused(
        tia.post("/api/v1/keys", json=wide_key, headers=headers), 403, "tenant_forbidden", "tenants"
    )
    assert "'globex' is outside your access" in message
    key = tia.post("/api/v1/keys", json={"name": "acme key", "role": "admin"}, headers=headers)
    assert key.status_code == 201 and key.json()["tenants"] == ["acme"]  # narrowed to hers

    wide_user = {
        "email": "wide@example.com",
        "role": "viewer",
        "tenants": ["globex"],
        "password": PASSWORD,
    }
    refused(
        tia.post("/api/v1/users", json=wide_user, headers=headers),
        403,
        "tenant_forbidden",
        "tenants",
    )
    page = form(tia, "/admin/users", {**wide_user, "tenants": "acme,globex"})
    assert page.status_code == 403
    assert "outside your access" in alert(page.text, "add")
    narrow = tia.post(
        "/api/v1/users",
        json={"email": "narrow@example.com", "role": "admin", "password": PASSWORD},
        headers=headers,
    )
    assert narrow.status_code == 201 and narrow.json()["tenants"] == ["acme"]

    ada_id = api_user(ada, "ada@example.com")["id"]
    takeover = tia.patch(
        f"/api/v1/users/{ada_id}", json={"password": NEW_PASSWORD}, headers=headers
    )
    refused(takeover, 403, "admin_scope_forbidden", "tenants")
    sign_in(served.url, "ada@example.com")  # her password is unchanged
    viewer_id = api_user(ada, "acme-viewer@example.com")["id"]
    widen = tia.patch(f"/api/v1/users/{viewer_id}", json={"tenants": None}, headers=headers)
    assert widen.status_code == 200 and widen.json()["tenants"] == ["acme"]  # "all" means hers
    escape = tia.patch(f"/api/v1/users/{viewer_id}", json={"tenants": ["globex"]}, headers=headers)
    refused(escape, 403, "tenant_forbidden", "tenants")
    assert api_user(ada, "acme-viewer@example.com")["tenants"] == ["acme"]

    ada_key = ada.post(
        "/api/v1/keys", json={"name": "ada's", "role": "viewer"}, headers=api_headers(ada)
    )
    refused(
        tia.delete(f"/api/v1/keys/{ada_key.json()['id']}", headers=headers),
        403,
        "admin_scope_forbidden",
        "tenants",
    )
    outcomes = {(e["target"], e["outcome"]) for e in audit(ada, actor="tia@example.com")}
    assert ("ada@example.com", "admin_scope_forbidden") in outcomes
    assert ("wide", "tenant_forbidden") in outcomes


def test_a_tenant_limited_admin_reads_only_what_their_tenants_users_did(served, ada):
    acme_viewer = sign_in(served.url, "acme-viewer@example.com")
    acme_viewer.get("/api/v1/metrics")
    for email in ("acme-viewer@example.com", "nobody@example.com", "vic@example.com"):
        client = httpx.Client(base_url=served.url)
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"email": email, "password": "x" * 12, "csrf_token": token})
    tia = sign_in(served.url, "tia@example.com")

    hers = audit(tia)
    everything = audit(ada)
    last = max(e["id"] for e in hers)
    assert hers == [e for e in everything if e["tenants"] == ["acme"] and e["id"] <= last]
    assert {e["actor"] for e in hers} == {"tia@example.com", "acme-viewer@example.com"}
    failed = [e for e in hers if e["outcome"] == "sign_in_failed"]
    assert [e["actor"] for e in failed] == ["acme-viewer@example.com"]  # a known email's limit
    assert {"ada@example.com", "nobody@example.com", "vic@example.com"} <= {
        e["actor"] for e in everything
    }
    assert {e["actor"] for e in audit(tia, actor="ada@")} == set()

    page = tia.get("/admin/audit").text
    assert "You see what users limited to your tenants (acme) did." in page
    assert "<td>ada@example.com</td>" not in page.split("<tbody>")[1]  # as actor
    assert 'action="/admin/settings/audit-retention"' not in page
    assert "an admin without a tenant limit changes it" in page
    rows = csv_rows(tia.get("/admin/audit.csv").text)
    assert {r[1] for r in rows[1:]} == {"tia@example.com", "acme-viewer@example.com"}
    assert {r[3] for r in rows[1:]} == {"acme"}

    kept = len(everything)
    shorten = form(tia, "/admin/settings/audit-retention", {"days": "1"})
    assert shorten.status_code == 403
    assert "applies to every tenant" in alert(shorten.text, "retention")
    assert len(audit(ada)) > kept and audit(tia, action="setting_change")[0]["outcome"] == (
        "admin_scope_forbidden"
    )


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(served, ada):
    before = emails(ada)
    data = {"email": "forged@example.com", "role": "admin", "password": PASSWORD}
    refused(ada.post("/admin/users", data=data), 403, "csrf_failed", "csrf_token")
    wrong = {**data, "csrf_token": "0" * 64}
    refused(ada.post("/admin/users", data=wrong), 403, "csrf_failed", "csrf_token")
    vic_id = api_user(ada, "vic@example.com")["id"]
    refused(
        ada.post(f"/admin/users/{vic_id}", data={"role": "admin"}), 403, "csrf_failed", "csrf_token"
    )
    refused(
        ada.patch(f"/api/v1/users/{vic_id}", json={"role": "admin"}),
        403,
        "csrf_failed",
        "csrf_token",
    )
    stranger = httpx.Client(
        base_url=served.url, cookies={"sextant_session": ada.cookies["sextant_session"]}
    )
    token = csrf_of(ada.get("/admin/users").text)  # a real token, but not for this browser's seed
    refused(
        stranger.post("/admin/users", data={**data, "csrf_token": token}),
        403,
        "csrf_failed",
        "csrf_token",
    )
    assert emails(ada) == before
    assert api_user(ada, "vic@example.com")["role"] == "viewer"


@pytest.mark.slow
def test_the_last_admin_cannot_be_demoted_or_disabled(tmp_path):
    add_user(tmp_path, "only@example.com", "admin")
    server = start_server(tmp_path, "")  # no source: nothing is captured here
    try:
        only = sign_in(server.url, "only@example.com")
        me = api_user(only, "only@example.com")
        page = form(
            only, f"/admin/users/{me['id']}", {"role": "viewer", "tenants": "", "state": "active"}
        )
        assert page.status_code == 409
        assert "is the last admin" in alert(page.text, f"user-{me['id']}")
        assert "<details open>" in page.text
        for change in ({"role": "analyst"}, {"active": False}):
            answer = only.patch(f"/api/v1/users/{me['id']}", json=change, headers=api_headers(only))
            refused(answer, 409, "last_admin", "role")
        assert api_user(only, "only@example.com")["role"] == "admin"
        assert audit(only, action="user_change")[0]["outcome"] == "last_admin"
    finally:
        server.stop()


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_audit_page_and_its_csv_show_the_same_filtered_entries(served, ada):
    form(ada, "/admin/keys", {"name": "audit probe", "role": "viewer"})
    page = ada.get("/admin/audit", params={"action": "key_change", "actor": "ada@"})
    assert page.status_code == 200
    assert '<a href="/admin/audit" aria-current="page">Audit log</a>' in page.text
    assert '<option value="key_change" selected>' in page.text
    assert "audit probe" in page.text and "sign_in" not in page.text.split("<tbody>")[1]
    link = re.search(r'<a class="download" href="([^"]+)">Download CSV</a>', page.text).group(1)
    assert link == "/admin/audit.csv?actor=ada%40&amp;action=key_change"

    download = ada.get(link.replace("&amp;", "&"))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert 'filename="sextant-audit-' in download.headers["content-disposition"]
    rows = csv_rows(download.text)
    header = ["when", "actor", "role", "tenants", "action", "target", "outcome", "detail"]
    assert rows[0] == header
    entries = audit(ada, action="key_change", actor="ada@")
    assert [r[1:7] for r in rows[1:]] == [
        [e["actor"], e["role"], "all", e["action"], e["target"], e["outcome"]] for e in entries
    ]
    assert [r[0] for r in rows[1:]] == [e["at"] for e in entries]
    exported = audit(ada, action="export")[0]
    assert exported["target"] == "/admin/audit.csv?actor=ada%40&action=key_change"
    assert exported["detail"] == {"rows": len(entries), "dropped": ["ip"]}


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"action": "hack"}, "action", "unknown action &#39;hack&#39;"),
        ({"from": "2024-13-01"}, "from", "from: expected YYYY-MM-DD"),
        ({"from": "2024-02-01", "to": "2024-01-01"}, "from", "from is after to"),
    ],
)
def test_the_audit_page_explains_a_bad_filter_when_given_one(ada, params, field, words):
    page = ada.get("/admin/audit", params=params)
    assert page.status_code == 400
    assert words in alert(page.text, "filters")
    assert f'name="{field}"' in page.text and 'aria-describedby="filters-error"' in page.text
    assert "Download CSV" not in page.text


def test_a_formula_typed_as_an_email_is_neutralised_when_the_log_is_exported(served, ada):
    client = httpx.Client(base_url=served.url)
    token = csrf_of(client.get("/login").text)
    evil = '=HYPERLINK("http://evil.example","x")'
    failed = client.post("/login", data={"email": evil, "password": "x" * 12, "csrf_token": token})
    assert failed.status_code == 401
    page = ada.get("/admin/audit", params={"actor": "HYPERLINK"})
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;x&#34;)" in page.text
    rows = csv_rows(ada.get("/admin/audit.csv", params={"actor": "HYPERLINK"}).text)
    assert len(rows) == 2
    assert rows[1][1] == "'" + evil and rows[1][4:7] == ["sign_in", "", "sign_in_failed"]


def test_changing_the_retention_deletes_older_entries_when_saved(served, ada):
    old = time.time() - 40 * 86400
    with sqlite3.connect(served.data_dir / "access.sqlite") as db:
        db.execute(
            "INSERT INTO audit (at, actor, action, target) VALUES (?, 'old@example.com', "
            "'sign_in', 'ancient')",
            (old,),
        )
    assert audit(ada, actor="old@example.com")
    assert "Entries older than <strong>365 days</strong>" in ada.get("/admin/audit").text

    for bad, words in (("abc", "a whole number"), ("0", "between 1 and 36500")):
        page = form(ada, "/admin/settings/audit-retention", {"days": bad})
        assert page.status_code == 400
        assert words in alert(page.text, "retention")
        assert (
            'id="retention-days"' in page.text and 'aria-describedby="retention-error"' in page.text
        )
    assert audit(ada, actor="old@example.com")

    saved = form(ada, "/admin/settings/audit-retention", {"days": "30"})
    assert saved.status_code == 303
    shown = ada.get(saved.headers["location"]).text
    assert "now keeps entries for 30 days" in shown and "<strong>30 days</strong>" in shown
    assert audit(ada, actor="old@example.com") == []
    change = audit(ada, action="setting_change")[0]
    assert (change["target"], change["detail"]) == (
        "audit_retention_days",
        {"before": 365, "after": 30},
    )
    assert [e["outcome"] for e in audit(ada, action="setting_change")[1:3]] == [
        "retention_invalid",
        "retention_invalid",
    ]
    restored = form(ada, "/admin/settings/audit-retention", {"days": "365"})
    assert restored.status_code == 303


def test_the_api_audit_route_checks_its_limit_and_filters(ada):
    refused(ada.get("/api/v1/audit", params={"limit": "1001"}), 400, "limit_invalid", "limit")
    refused(
        ada.get("/api/v1/audit", params={"action": "nope"}), 400, "audit_action_unknown", "action"
    )
    assert len(ada.get("/api/v1/audit", params={"limit": "2"}).json()) == 2
