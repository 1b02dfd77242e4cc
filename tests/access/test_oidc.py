"""Single sign-on end to end against a real OpenID provider on 127.0.0.1 (oidc_provider.py):
the browser's redirects are followed by hand with httpx."""

from __future__ import annotations

import socket
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sextant.access.oidc import OidcClient, SsoIdentity
from sextant.access.roles import Role
from sextant.config import Settings
from sextant.errors import Forbidden, InvalidInput, SextantError, Unauthorized
from tests.access.oidc_provider import OidcProvider

REDIRECT = "http://127.0.0.1:8000/auth/sso/callback"
BROWSER = httpx.Client(follow_redirects=False, timeout=5)


def client_for(provider: OidcProvider, **settings: object) -> OidcClient:
    client = OidcClient.from_settings(provider.settings(**settings))
    assert client is not None
    return client


def authorize(client: OidcClient, extra: str = "") -> tuple[dict[str, str], dict]:
    """What a browser does: start, follow /authorize, land on the callback with params."""
    url, pending = client.authorization_url(REDIRECT)
    answer = BROWSER.get(url + extra)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}, pending


def sign_in(client: OidcClient) -> SsoIdentity:
    params, pending = authorize(client)
    return client.finish(REDIRECT, params, pending)


def refused(
    caught: pytest.ExceptionInfo[SextantError],
    kind: type[SextantError],
    code: str,
    words: str,
    field: str | None = None,
) -> None:
    error = caught.value
    assert type(error) is kind
    assert (error.status, error.code, error.field) == (kind.status, code, field)
    assert words in error.message, error.message


def test_sign_in_maps_groups_to_highest_role_and_tenants_when_login_is_good(oidc_provider):
    oidc_provider.next_user = {
        "sub": "u-42",
        "email": "Ada@Example.com",
        "name": "Ada Lovelace",
        "groups": ["product", "data", "unrelated"],
        "tenants": ["acme", "globex", "acme"],
    }
    client = client_for(oidc_provider, oidc_tenants_claim="tenants")

    url, pending = client.authorization_url(REDIRECT)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{oidc_provider.issuer}/authorize?")
    assert query["response_type"] == "code"
    assert query["scope"] == "openid email profile"
    assert query["client_id"] == oidc_provider.client_id
    assert query["redirect_uri"] == REDIRECT
    assert query["code_challenge_method"] == "S256"
    assert (query["state"], query["nonce"]) == (pending["state"], pending["nonce"])
    assert query["code_challenge"] not in (pending["code_verifier"], "")
    assert set(pending) == {"state", "nonce", "code_verifier", "created"}

    identity = sign_in(client)

    assert identity == SsoIdentity(
        subject="u-42",
        email="ada@example.com",
        name="Ada Lovelace",
        role=Role.ANALYST,
        tenants=("acme", "globex"),
    )
    assert oidc_provider.token_requests[-1] == {"method": "client_secret_basic"}


def test_sign_in_reads_single_strings_when_claims_are_not_lists(oidc_provider):
    oidc_provider.next_user = {
        "sub": "u-1",
        "email": "root@example.com",
        "groups": "sextant-admins",
        "tenants": "acme",
    }
    identity = sign_in(client_for(oidc_provider, oidc_tenants_claim="tenants"))
    assert (identity.role, identity.tenants, identity.name) == (
        Role.ADMIN,
        ("acme",),
        "root@example.com",
    )


def test_sign_in_sees_every_tenant_when_tenants_claim_is_unset(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": ["data"]}
    assert sign_in(client_for(oidc_provider)).tenants is None


def test_sign_in_sees_no_tenant_when_token_lacks_the_configured_tenants_claim(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": ["data"]}
    assert sign_in(client_for(oidc_provider, oidc_tenants_claim="tenants")).tenants == ()


def test_sign_in_is_refused_when_no_group_maps_and_there_is_no_default_role(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": ["sales"]}
    with pytest.raises(Forbidden) as caught:
        sign_in(client_for(oidc_provider))
    refused(caught, Forbidden, "sso_no_role", "ask an admin to add you to a group", "role")
    assert "'groups' claim (sales)" in caught.value.message
    assert "oidc_role_map" in caught.value.hint


def test_sign_in_gets_the_default_role_when_no_group_maps(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com"}
    identity = sign_in(client_for(oidc_provider, oidc_default_role="Viewer"))
    assert identity.role is Role.VIEWER


def test_sign_in_picks_the_user_named_by_login_hint(oidc_provider):
    oidc_provider.users = {
        "bob@example.com": {"sub": "u-2", "email": "bob@example.com", "groups": ["data"]}
    }
    client = client_for(oidc_provider)
    params, pending = authorize(client, "&login_hint=bob%40example.com")
    assert client.finish(REDIRECT, params, pending).subject == "u-2"


def test_sign_in_is_refused_when_provider_sends_no_code(oidc_provider):
    client = client_for(oidc_provider)
    params, pending = authorize(client)
    with pytest.raises(Unauthorized) as caught:
        client.finish(REDIRECT, {"state": params["state"]}, pending)
    refused(caught, Unauthorized, "sso_bad_response", "without an authorization code")


def test_sign_in_is_refused_when_state_is_tampered(oidc_provider):
    client = client_for(oidc_provider)
    params, pending = authorize(client)
    with pytest.raises(Unauthorized) as caught:
        client.finish(REDIRECT, params | {"state": "forged"}, pending)
    refused(caught, Unauthorized, "sso_state_mismatch", "state mismatch", "state")
    assert oidc_provider.token_requests == []


def test_sign_in_is_refused_when_no_sign_in_was_pending(oidc_provider):
    client = client_for(oidc_provider)
    params, _ = authorize(client)
    with pytest.raises(Unauthorized) as caught:
        client.finish(REDIRECT, params, {})
    refused(caught, Unauthorized, "sso_state_mismatch", "no single sign-on was started", "state")


def test_sign_in_is_refused_when_pending_is_too_old(oidc_provider):
    client = client_for(oidc_provider)
    params, pending = authorize(client)
    with pytest.raises(Unauthorized) as caught:
        client.finish(REDIRECT, params, pending | {"created": time.time() - 3600})
    refused(caught, Unauthorized, "sso_expired", "longer than 10 minutes")


def test_sign_in_is_refused_when_provider_answers_an_error(oidc_provider):
    oidc_provider.deny = "access_denied"
    client = client_for(oidc_provider)
    params, pending = authorize(client)
    assert params["error"] == "access_denied"
    with pytest.raises(Unauthorized) as caught:
        client.finish(REDIRECT, params, pending)
    refused(caught, Unauthorized, "sso_denied", "Test SSO did not sign you in: The user declined")


@pytest.mark.parametrize(
    ("knob", "value", "code", "words"),
    [
        ("audience", "someone-else", "sso_token_wrong_audience", "issued for another client"),
        ("expires_in", -600, "sso_token_expired", "has expired"),
        ("foreign_key", True, "sso_token_signature_invalid", "not signed by one of its"),
        ("nonce", "replayed", "sso_nonce_mismatch", "nonce mismatch"),
        ("issuer_claim", "http://evil.example", "sso_token_wrong_issuer", "someone other"),
    ],
)
def test_sign_in_is_refused_when_id_token_is_bad(oidc_provider, knob, value, code, words):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": ["data"]}
    setattr(oidc_provider, knob, value)
    with pytest.raises(Unauthorized) as caught:
        sign_in(client_for(oidc_provider))
    refused(caught, Unauthorized, code, words)


def test_sign_in_accepts_an_audience_list_holding_the_client(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": ["data"]}
    oidc_provider.audience = [oidc_provider.client_id]
    assert sign_in(client_for(oidc_provider)).role is Role.ANALYST


def test_sign_in_is_refused_by_provider_when_pkce_verifier_is_wrong(oidc_provider):
    client = client_for(oidc_provider)
    params, pending = authorize(client)
    with pytest.raises(Unauthorized) as caught:
        client.finish(REDIRECT, params, pending | {"code_verifier": "x" * 64})
    refused(caught, Unauthorized, "sso_token_refused", "invalid_grant (PKCE verification failed)")
    assert oidc_provider.token_requests[-1]["error"] == "invalid_grant"


def test_sign_in_is_refused_when_code_is_used_twice(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": ["data"]}
    client = client_for(oidc_provider)
    params, pending = authorize(client)
    client.finish(REDIRECT, params, pending)
    with pytest.raises(Unauthorized) as caught:
        client.finish(REDIRECT, params, pending)
    refused(caught, Unauthorized, "sso_token_refused", "unknown or used code")


def test_sign_in_is_refused_when_client_secret_is_wrong(oidc_provider):
    client = client_for(oidc_provider, oidc_client_secret="wrong")
    with pytest.raises(Unauthorized) as caught:
        sign_in(client)
    refused(caught, Unauthorized, "sso_token_refused", "invalid_client")
    assert caught.value.hint == "check oidc_client_id and oidc_client_secret"


def test_sign_in_posts_the_secret_when_provider_allows_only_client_secret_post(oidc_provider):
    oidc_provider.auth_methods = ["client_secret_post"]
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": ["data"]}
    assert sign_in(client_for(oidc_provider)).email == "a@example.com"
    assert oidc_provider.token_requests == [{"method": "client_secret_post"}]


def test_sign_in_is_refused_when_email_is_missing(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "groups": ["data"]}
    with pytest.raises(Unauthorized) as caught:
        sign_in(client_for(oidc_provider))
    refused(caught, Unauthorized, "sso_no_email", "sent no email address", "email")


def test_sign_in_is_refused_when_email_is_unverified(oidc_provider):
    oidc_provider.next_user = {
        "sub": "u-1",
        "email": "a@example.com",
        "email_verified": False,
        "groups": ["data"],
    }
    with pytest.raises(Unauthorized) as caught:
        sign_in(client_for(oidc_provider))
    refused(caught, Unauthorized, "sso_email_unverified", "not verified", "email")


def test_sign_in_is_refused_when_role_claim_is_not_strings(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": {"a": 1}}
    with pytest.raises(Unauthorized) as caught:
        sign_in(client_for(oidc_provider))
    refused(caught, Unauthorized, "sso_claim_invalid", "'groups' claim")
    assert caught.value.hint == "check which claim oidc_role_claim names"


def test_sign_in_reads_discovery_once_and_keys_again_when_provider_rotates(oidc_provider):
    oidc_provider.next_user = {"sub": "u-1", "email": "a@example.com", "groups": ["data"]}
    client = client_for(oidc_provider)
    sign_in(client)
    sign_in(client)
    oidc_provider.rotate_key()
    sign_in(client)
    paths = oidc_provider.paths
    assert paths.count("/.well-known/openid-configuration") == 1
    assert paths.count("/jwks") == 2
    assert paths.count("/token") == 3


def test_start_is_refused_when_provider_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(
        oidc_issuer=f"http://127.0.0.1:{port}",
        oidc_client_id="c",
        oidc_client_secret="s",
        oidc_default_role="viewer",
    )
    client = OidcClient.from_settings(settings)
    assert client is not None
    with pytest.raises(Unauthorized) as caught:
        client.authorization_url(REDIRECT)
    refused(caught, Unauthorized, "sso_unreachable", "cannot read the discovery document")
    assert "oidc_issuer" in caught.value.hint


def test_start_is_refused_when_discovery_names_another_issuer(oidc_provider):
    client = OidcClient.from_settings(
        oidc_provider.settings(oidc_issuer=oidc_provider.issuer.replace("127.0.0.1", "localhost"))
    )
    assert client is not None
    with pytest.raises(Unauthorized) as caught:
        client.authorization_url(REDIRECT)
    refused(caught, Unauthorized, "sso_provider_invalid", "names issuer")


def test_settings_give_no_client_when_issuer_is_unset():
    assert OidcClient.from_settings(Settings(oidc_issuer=None)) is None


@pytest.mark.parametrize(
    ("settings", "problems"),
    [
        (
            {"oidc_client_id": None, "oidc_client_secret": ""},
            [
                ("oidc_setting_missing", "oidc_client_id", "oidc_client_id must be set"),
                ("oidc_setting_missing", "oidc_client_secret", "oidc_client_secret must be"),
            ],
        ),
        (
            {"oidc_role_map": "admins=admin,data,x=superuser"},
            [
                ("oidc_role_map_invalid", "oidc_role_map", "entry 'data' is not value=role"),
                ("oidc_role_map_invalid", "oidc_role_map", "'x=superuser': unknown role"),
            ],
        ),
        (
            {"oidc_role_map": "a=admin,a=viewer", "oidc_default_role": "boss"},
            [
                ("oidc_role_map_invalid", "oidc_role_map", "maps 'a' twice (admin and viewer)"),
                ("oidc_setting_invalid", "oidc_default_role", "unknown role 'boss'"),
            ],
        ),
        (
            {"oidc_role_map": " , "},
            [("oidc_setting_missing", "oidc_role_map", "nobody could sign in")],
        ),
        (
            {"oidc_issuer": "idp.example.com"},
            [("oidc_setting_invalid", "oidc_issuer", "is not an http(s) URL")],
        ),
    ],
)
def test_settings_are_refused_naming_the_setting_when_they_are_bad(
    oidc_provider, settings, problems
):
    with pytest.raises(InvalidInput) as caught:
        OidcClient.from_settings(oidc_provider.settings(**settings))
    error = caught.value
    assert (error.status, error.code, error.field) == (400, problems[0][0], problems[0][1])
    assert len(error.problems) == len(problems)
    for problem, (code, field, words) in zip(error.problems, problems, strict=True):
        assert (problem.code, problem.field) == (code, field)
        assert words in problem.message, problem.message
        assert problem.hint
