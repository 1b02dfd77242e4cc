"""Cross-site request forgery: every state change made with ambient credentials (a session
cookie, or the local demo, where being on this computer is the credential) must carry a
token only our own pages know: an HMAC, under the install's secret, of a random value kept
in an HttpOnly, SameSite=Strict cookie. Requests with an API key or the control token carry
their credential explicitly and need none."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sextant.errors import Forbidden

COOKIE = "sextant_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def new_seed() -> str:
    return secrets.token_urlsafe(24)


def token_for(secret: bytes, seed: str) -> str:
    return hmac.new(secret, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def check(secret: bytes, seed: str | None, sent: str | None) -> None:
    if not seed or not sent or not hmac.compare_digest(token_for(secret, seed), sent):
        raise Forbidden(
            "csrf_failed",
            "this form or request lacks a valid CSRF token (reload the page and try again)",
            field=FIELD,
        )
