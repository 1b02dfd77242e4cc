"""Single sign-on end to end: a small OpenID provider started here, `sextant serve` pointed
at it, and a client following the real redirects (start, provider, callback, page): the
provider's groups become the role, its tenants claim the limit; refusals land on the
sign-in form with the reason and no session."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from tests.access.oidc_provider import OidcProvider
from tests.access.signing import add_user
from tests.conftest import add_source, start_server


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    provider = OidcProvider().start()
    data_dir = tmp_path_factory.mktemp("sso")
    add_user(data_dir, "root@example.com", "admin")  # users exist: no local demo
    env = provider.settings_env(oidc_tenants_claim="tenants")
    server = start_server(data_dir, add_source(data_dir), env)
    yield server, provider
    server.stop()
    provider.stop()


def sign_in_with_sso(url: str, target: str = "/metrics") -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=True)
    return client, client.get("/auth/sso/start", params={"next": target})


def test_the_sign_in_page_offers_the_provider(sso):
    server, _ = sso
    page = httpx.get(server.url + "/login")
    assert 'href="/auth/sso/start?next=/"' in page.text and "Sign in with Test SSO" in page.text


def test_a_provider_group_becomes_the_role_and_its_tenants_the_limit(sso):
    server, provider = sso
    provider.next_user = {
        "sub": "u-1",
        "email": "Dana@Example.com",
        "name": "Dana",
        "groups": ["data", "other"],
        "tenants": ["ws_000001"],
    }
    client, page = sign_in_with_sso(server.url)
    assert page.status_code == 200 and page.url.path == "/metrics"
    assert "dana@example.com · analyst · ws_000001" in page.text
    assert [r.url.path for r in page.history] == [
        "/auth/sso/start",
        "/authorize",
        "/auth/sso/callback",
    ]
    assert client.get("/playground").status_code == 200  # analysts may
    refused = client.get("/api/v1/experiments", params={"tenants": "ws_000002"})
    assert refused.status_code == 403
    db = sqlite3.connect(server.data_dir / "access.sqlite")
    audit = db.execute(
        "SELECT outcome, detail FROM audit WHERE action = 'sign_in' AND actor = ?",
        ("dana@example.com",),
    ).fetchall()
    assert audit and audit[-1][0] == "ok" and '"via": "sso"' in audit[-1][1]


def test_the_role_follows_the_provider_at_every_sign_in(sso):
    server, provider = sso
    provider.next_user = {"sub": "u-2", "email": "eve@example.com", "groups": ["sextant-admins"]}
    _, page = sign_in_with_sso(server.url)
    assert "eve@example.com · admin" in page.text
    provider.next_user = {"sub": "u-2", "email": "eve@example.com", "groups": ["product"]}
    client, page = sign_in_with_sso(server.url)
    assert "eve@example.com · viewer" in page.text
    assert client.get("/admin/users", headers={"Accept": "text/html"}).status_code == 403


def test_an_unmapped_group_is_refused_on_the_sign_in_form(sso):
    server, provider = sso
    provider.next_user = {"sub": "u-3", "email": "mal@example.com", "groups": ["interns"]}
    client, page = sign_in_with_sso(server.url)
    assert page.status_code == 403 and page.url.path == "/auth/sso/callback"
    assert "ask an admin" in page.text and "sextant_session" not in client.cookies


def test_a_denied_or_forged_callback_signs_nobody_in(sso):
    server, provider = sso
    provider.deny = "access_denied"
    try:
        client, page = sign_in_with_sso(server.url)
    finally:
        provider.deny = None
    assert page.status_code == 401 and "sextant_session" not in client.cookies
    forged = httpx.get(server.url + "/auth/sso/callback", params={"code": "x", "state": "y"})
    assert forged.status_code == 400 and "try again" in forged.text
    client = httpx.Client(base_url=server.url, timeout=60)
    start = client.get("/auth/sso/start")
    assert start.status_code == 303
    wrong_state = client.get("/auth/sso/callback", params={"code": "x", "state": "not-it"})
    assert wrong_state.status_code == 401 and "sextant_session" not in client.cookies
