"""Who a request acts for, and what it may do: the dependencies every data route uses.

A request is recognised, in this order, by an `Authorization: Bearer` credential (an API key,
or the server's local control token that CLI commands on this machine read from
`server.json`), by its session cookie, or, while no user exists and the server is bound to
this computer, as the local demo's admin. Anything else must sign in: pages are sent to
/login, API calls get 401. State changes made with ambient credentials need a CSRF token.
The principal is made current for the request, so every query made meanwhile reads only its
tenants (access/scope.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from sextant.access import csrf
from sextant.access.roles import Principal, Role
from sextant.access.scope import _current
from sextant.access.service import Access
from sextant.config import LOOPBACK
from sextant.errors import Unauthorized

SESSION_COOKIE = "sextant_session"
LOCAL_DEMO = Principal("local demo", Role.ADMIN, None, "local_demo")
CONTROL = Principal("local control token", Role.ADMIN, None, "control")


class SignInRequired(Unauthorized):
    """No valid credential: pages answer with the sign-in form, the API with 401."""


def access_of(request: Request) -> Access:
    return request.app.state.access


def local_demo(request: Request) -> bool:
    """No user exists yet and only this computer can reach the server."""
    state = request.app.state
    return state.settings.host in LOOPBACK and state.access.users.count() == 0


async def current_principal(request: Request) -> Principal:
    if (found := getattr(request.state, "principal", None)) is not None:
        return found
    principal = _recognise(request)
    if request.method not in csrf.SAFE_METHODS and principal.via in ("session", "local_demo"):
        sent = request.headers.get(csrf.HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            sent = (await request.form()).get(csrf.FIELD)
        csrf.check(access_of(request).secret, request.cookies.get(csrf.COOKIE), sent)
    request.state.principal = principal
    # Not reset: each request runs in its own task, whose context dies with it.
    _current.set(principal)
    return principal


def _recognise(request: Request) -> Principal:
    access = access_of(request)
    header = request.headers.get("authorization")
    if header is not None:
        token = header.removeprefix("Bearer ").strip()
        if token and secrets.compare_digest(token, request.app.state.control_token):
            return CONTROL
        if token and (principal := access.keys.principal(token)) is not None:
            return principal
        raise Unauthorized(
            "invalid_credentials",
            "the Authorization header holds no valid API key (keys start with sxk_; an admin "
            "creates them on the API keys page)",
            field="authorization",
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = access.sessions.principal(cookie)
        if principal is None:
            raise SignInRequired(
                "session_invalid",
                "your session has ended or is not valid; sign in again",
                field="session",
            )
        return principal
    if local_demo(request):
        return LOCAL_DEMO
    raise SignInRequired("sign_in_required", "sign in to see this", field="session")


Caller = Annotated[Principal, Depends(current_principal)]  # the request's principal, any role


def require(role: Role, what: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """A dependency: the request's principal, refused with 403 below `role`."""

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        principal.require(role, what)
        return principal

    return dependency


def reader(what: str) -> list[Any]:
    """Dependencies of a router serving data: a viewer or higher, each read audited."""

    async def audit(request: Request, principal: Caller) -> None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        access_of(request).audit.record(
            principal, "api_read", target, ip=client_ip(request), method=request.method
        )

    return [Depends(require(Role.VIEWER, what)), Depends(audit)]


def without_sql(body: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """A result as `principal` may see it: the SQL behind it is for analysts and above."""
    if principal.may(Role.ANALYST):
        return body
    return {k: v for k, v in body.items() if k != "sql"}


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
