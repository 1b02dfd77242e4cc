"""A small real OpenID Connect provider for tests, on 127.0.0.1 in a thread: discovery, an
/authorize with no login screen, /token (client secret, code, redirect_uri and PKCE checked)
and /jwks, with knobs that make it misbehave.

Use the `oidc_provider` fixture. Tests in tests/access get it from tests/access/conftest.py;
elsewhere import it into the test module (pytest finds fixtures by module attribute):

    from tests.access.oidc_provider import oidc_provider  # noqa: F401

Then point Sextant at it with `provider.settings_env()` (SEXTANT_OIDC_* variables) or
`provider.settings(...)`, set `provider.next_user`, and follow redirects with httpx: the
provider answers /authorize straight away, so `httpx.Client(follow_redirects=True)` going to
`/auth/sso/start` on a Sextant server ends on its callback, signed in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from sextant.config import Settings

CLIENT_ID = "sextant-test"
CLIENT_SECRET = "s3cret:with/odd+chars"
STANDARD_CLAIMS = ("sub", "email", "email_verified", "name", "preferred_username")


@cache
def _private_key(material: str) -> dict:
    return RSAKey.generate_key(2048, private=True).as_dict(private=True)


@cache
def _rsa_key(material: str, kid: str) -> RSAKey:
    """Keys last the test process: making or importing an RSA key costs ~40 ms."""
    return RSAKey.import_key(_private_key(material), parameters={"kid": kid})


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    user: dict[str, Any]


@dataclass
class OidcProvider:
    """The provider's state and knobs; tests set the knobs between sign-ins."""

    port: int = 0
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    #: Who the next /authorize signs in: sub, email and any custom claims (groups, tenants).
    next_user: dict[str, Any] = field(
        default_factory=lambda: {"sub": "user-1", "email": "ada@example.com", "name": "Ada"}
    )
    #: Users by login_hint, used instead of next_user when /authorize names one.
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: /authorize redirects back with this error (e.g. "access_denied") instead of a code.
    deny: str | None = None
    #: Knobs for a bad ID token.
    audience: str | list[str] | None = None  # None: the client id
    expires_in: int = 300  # negative: already expired
    foreign_key: bool = False  # sign with a key the JWKS does not hold (same kid)
    nonce: str | None = None  # None: echo the request's nonce
    issuer_claim: str | None = None  # None: the issuer
    #: What discovery says the token endpoint accepts.
    auth_methods: list[str] = field(
        default_factory=lambda: ["client_secret_basic", "client_secret_post"]
    )
    #: What /token saw, one dict per request (auth method used, error returned if any).
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    #: Paths of every request, in order.
    paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kid = "key-1"
        self.key = _rsa_key("good", self.kid)
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings_values(self, **overrides: Any) -> dict[str, Any]:
        """The oidc_* settings pointing Sextant at this provider, with `overrides` on top."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": self.client_id,
            "oidc_client_secret": self.client_secret,
            "oidc_label": "Test SSO",
            "oidc_role_map": "sextant-admins=admin,data=analyst,product=viewer",
        } | overrides

    def settings(self, **overrides: Any) -> Settings:
        return Settings(**self.settings_values(**overrides))

    def settings_env(self, **overrides: Any) -> dict[str, str]:
        """The same as SEXTANT_* environment variables, for a `sextant serve` process."""
        values = self.settings_values(**overrides)
        return {f"SEXTANT_{k.upper()}": str(v) for k, v in values.items() if v is not None}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> OidcProvider:
        handler = type("Handler", (_Handler,), {"provider": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- endpoints ---------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": self.auth_methods,
            "code_challenge_methods_supported": ["S256"],
        }

    def rotate_key(self) -> None:
        """Sign from now on with a new key under a new kid (the JWKS lists only the new one)."""
        self.kid = "key-2"
        self.key = _rsa_key("rotated", self.kid)

    def jwks(self) -> dict[str, Any]:
        return KeySet([self.key]).as_dict(private=False)

    def authorize(self, query: dict[str, str]) -> str:
        """The URL /authorize redirects to."""
        redirect_uri = query["redirect_uri"]
        back: dict[str, str] = {"state": query["state"]} if "state" in query else {}
        if self.deny:
            back |= {"error": self.deny, "error_description": "The user declined the sign-in"}
        elif query.get("client_id") != self.client_id or query.get("response_type") != "code":
            back |= {"error": "unauthorized_client", "error_description": "unknown client"}
        else:
            code = secrets.token_urlsafe(16)
            hint = query.get("login_hint")
            with self._lock:
                self._grants[code] = _Grant(
                    client_id=query["client_id"],
                    redirect_uri=redirect_uri,
                    code_challenge=query.get("code_challenge"),
                    code_challenge_method=query.get("code_challenge_method"),
                    nonce=query.get("nonce"),
                    user=dict(self.users.get(hint or "", self.next_user)),
                )
            back["code"] = code
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode(back)}"

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict]:
        """The status and JSON body /token answers."""
        seen: dict[str, Any] = {"method": "none"}
        self.token_requests.append(seen)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            pair = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = (unquote(p) for p in pair.partition(":"))
            seen["method"] = "client_secret_basic"
        elif secret is not None:
            seen["method"] = "client_secret_post"
        if seen["method"] not in self.auth_methods or (client_id, secret) != (
            self.client_id,
            self.client_secret,
        ):
            return self._refuse(seen, 401, "invalid_client", "client authentication failed")
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code works once
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.client_id != client_id
        ):
            return self._refuse(seen, 400, "invalid_grant", "unknown or used code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._refuse(seen, 400, "invalid_grant", "redirect_uri differs")
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if grant.code_challenge_method != "S256" or expected != grant.code_challenge:
                return self._refuse(seen, 400, "invalid_grant", "PKCE verification failed")
        now = int(time.time())
        claims = {
            "iss": self.issuer_claim or self.issuer,
            "aud": self.audience or self.client_id,
            "iat": now,
            "exp": now + self.expires_in,
            "nonce": self.nonce if self.nonce is not None else grant.nonce,
        } | grant.user
        key = self.key
        if self.foreign_key:
            key = _rsa_key("foreign", self.kid)
        id_token = jwt.encode({"alg": "RS256", "kid": self.kid, "typ": "JWT"}, claims, key)
        body = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer"}
        return 200, body | {"expires_in": 300, "id_token": id_token}

    def _refuse(self, seen: dict, status: int, error: str, description: str) -> tuple[int, dict]:
        seen["error"] = error
        return status, {"error": error, "error_description": description}


class _Handler(BaseHTTPRequestHandler):
    provider: OidcProvider

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.provider.paths.append(url.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            self._json(200, self.provider.discovery())
        elif url.path == "/jwks":
            self._json(200, self.provider.jwks())
        elif url.path == "/authorize":
            self.send_response(302)
            self.send_header("Location", self.provider.authorize(query))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        self.provider.paths.append(urlsplit(self.path).path)
        if urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self._json(*self.provider.token(form, self.headers.get("Authorization")))

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def oidc_provider() -> Iterator[OidcProvider]:
    """A running provider on a free port of 127.0.0.1, stopped after the test."""
    provider = OidcProvider().start()
    try:
        yield provider
    finally:
        provider.stop()
