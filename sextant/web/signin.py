"""Signing in and out: the password form, single sign-on through OpenID Connect, and the
session cookie (HttpOnly, SameSite=Lax, Secure except on this computer's plain HTTP).

Lax rather than Strict: the provider sends the browser back to us from its own site, and a
Strict cookie would not come along on that first page. Forms carry CSRF tokens instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from sextant.access import csrf
from sextant.access.oidc import OidcClient
from sextant.api.auth import SESSION_COOKIE, Caller, client_ip, local_demo
from sextant.errors import SextantError
from sextant.web.render import cookie_secure, csrf_seed, render

SSO_COOKIE = "sextant_sso"
SSO_SECONDS = 600  # a sign-in at the provider must come back within ten minutes

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(
    request: Request,
    status: int = 200,
    message: str | None = None,
    *,
    target: str | None = None,
    email: str = "",
) -> Response:
    """The sign-in form; after a refusal it keeps the email typed and the page asked for."""
    settings = request.app.state.settings
    return render(
        request,
        "login.html",
        status=status,
        title="Sign in",
        state=None,
        message=message,
        next=safe_next(target if target is not None else request.query_params.get("next")),
        sso_label=settings.oidc_label if settings.oidc_issuer else None,
        email=email,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    if local_demo(request):
        return RedirectResponse("/", status_code=303)
    reason = request.query_params.get("reason")
    return _login_page(request, message=reason[:200] if reason else None)


def _signed_in(request: Request, user_id: int, via: str, target: str) -> Response:
    access = request.app.state.access
    token = access.sessions.start(user_id, via)
    response = RedirectResponse(safe_next(target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
        max_age=int(request.app.state.settings.session_hours * 3600),
    )
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    access = request.app.state.access
    form = await request.form()
    email = str(form.get("email", "")).strip()
    try:
        csrf.check(access.secret, request.cookies.get(csrf.COOKIE), form.get(csrf.FIELD))
        user = access.authenticate(email, str(form.get("password", "")))
    except SextantError as exc:
        access.audit.record(
            email or "(no email)",
            "sign_in",
            outcome=exc.code,
            ip=client_ip(request),
            via="password",
        )
        target = str(form.get("next", "/"))
        return _login_page(request, exc.status, exc.message, target=target, email=email)
    access.audit.record(user.principal("session"), "sign_in", ip=client_ip(request), via="password")
    return _signed_in(request, user.id, "session", str(form.get("next", "/")))


@router.post("/logout")
async def logout(request: Request, principal: Caller) -> Response:
    access = request.app.state.access
    if token := request.cookies.get(SESSION_COOKIE):
        access.sessions.end(token)
    access.audit.record(principal, "sign_out", ip=client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _sign(secret: bytes, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, separators=(",", ":")).encode().hex()
    mac = hmac.new(secret, b"sso:" + body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unsign(secret: bytes, value: str | None) -> dict[str, Any] | None:
    if not value or "." not in value:
        return None
    body, mac = value.rsplit(".", 1)
    good = hmac.new(secret, b"sso:" + body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(good, mac):
        return None
    try:
        payload = json.loads(bytes.fromhex(body))
    except ValueError:
        return None
    if time.time() - payload.get("created", 0) > SSO_SECONDS:
        return None
    return payload


def _callback_url(request: Request) -> str:
    return str(request.url_for("sso_callback"))


@router.get("/auth/sso/start")
def sso_start(request: Request) -> Response:
    settings = request.app.state.settings
    try:
        client = OidcClient.from_settings(settings)
        if client is None:
            return _login_page(request, 404, "single sign-on is not set up on this server")
        url, pending = client.authorization_url(_callback_url(request))
    except SextantError as exc:
        return _login_page(request, exc.status, exc.message)
    pending = {
        **pending,
        "next": safe_next(request.query_params.get("next")),
        "created": time.time(),
    }
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        SSO_COOKIE,
        _sign(request.app.state.access.secret, pending),
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/auth/sso",
        max_age=SSO_SECONDS,
    )
    csrf_seed(request)
    return response


@router.get("/auth/sso/callback", name="sso_callback")
def sso_callback(request: Request) -> Response:
    access = request.app.state.access
    pending = _unsign(access.secret, request.cookies.get(SSO_COOKIE))
    try:
        if pending is None:
            return _login_page(
                request,
                400,
                "the single sign-on attempt expired or was not started here; try again",
            )
        client = OidcClient.from_settings(request.app.state.settings)
        if client is None:
            return _login_page(request, 404, "single sign-on is not set up on this server")
        identity = client.finish(_callback_url(request), dict(request.query_params), pending)
        user = access.users.signed_in_with_sso(
            identity.email, identity.subject, identity.role, identity.tenants, identity.name
        )
    except SextantError as exc:
        access.audit.record(
            "(single sign-on)", "sign_in", outcome=exc.code, ip=client_ip(request), via="sso"
        )
        response = _login_page(request, exc.status, exc.message)
        response.delete_cookie(SSO_COOKIE, path="/auth/sso")
        return response
    access.audit.record(user.principal("sso"), "sign_in", ip=client_ip(request), via="sso")
    response = _signed_in(request, user.id, "sso", pending.get("next", "/"))
    response.delete_cookie(SSO_COOKIE, path="/auth/sso")
    return response
