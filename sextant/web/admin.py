"""The admin pages: users, API keys and the audit log (with its CSV and retention setting).

Each form posts, and the page redirects back (303) with a `?done=` code the page turns into
a message; a refused change re-renders the page with the error beside its form. The work
and its audit entries are the API's (api/admin.py). Admins only.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from sextant.access.audit import ACTIONS, MAX_ROWS, AuditFilter, Entry
from sextant.access.roles import Principal
from sextant.access.service import Access
from sextant.access.tokens import ApiKey
from sextant.access.users import MIN_PASSWORD, User
from sextant.api import admin as ops
from sextant.api.auth import client_ip
from sextant.errors import InvalidInput, NotFound, SextantError
from sextant.exports import MAX_EXPORT_ROWS, filename
from sextant.web.render import render

Admin = Annotated[Principal, Depends(ops.admin)]
router = APIRouter(include_in_schema=False, dependencies=[Depends(ops.admin)])

TABS = [
    ("/admin/users", "Users"),
    ("/admin/keys", "API keys"),
    ("/admin/audit", "Audit log"),
]
FILTER_FIELDS = ("actor", "action", "outcome", "from", "to")
DETAIL_CHARS = 160  # a detail longer than this is cut on the page; the CSV holds it whole


def _access(request: Request) -> Access:
    return request.app.state.access


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _tenants(tenants: tuple[str, ...] | None) -> str:
    return "all" if tenants is None else ", ".join(tenants) or "none"


def _refused(exc: SextantError, form: str) -> dict[str, Any]:
    return {"form": form, "field": exc.field, "message": exc.message, "status": exc.status}


def _back(path: str, done: str, **params: Any) -> Response:
    return RedirectResponse(f"{path}?{urlencode({'done': done, **params})}", status_code=303)


def _flag(form: Any, name: str) -> bool:
    return form.get(name) in ("on", "true", "1")


def _text(form: Any, name: str) -> str | None:
    value = form.get(name)
    return None if value is None else str(value)


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    response = render(request, template, status, state=None, tabs=TABS, **context)
    response.headers["Cache-Control"] = "no-store"  # user lists, keys and the log: not cached
    return response


# Users.


def _user_row(user: User) -> dict[str, Any]:
    info = user.as_dict()
    kinds = [k for k, on in (("password", user.has_password), ("single sign-on", user.sso)) if on]
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "tenants": _tenants(user.tenants),
        "tenants_value": ", ".join(user.tenants) if user.tenants is not None else "",
        "sign_in": " + ".join(kinds) or "none",
        "state": "disabled" if not user.active else "locked" if info["locked"] else "active",
        "active": user.active,
        "last_sign_in": _when(user.last_sign_in),
    }


def _user_done(access: Access, principal: Principal, done: str | None, user_id: str | None):
    messages = {
        "added": "Added {}.",
        "changed": "Changed {}; their sessions ended if their access changed.",
        "unchanged": "Nothing changed for {}.",
    }
    if done not in messages or not (user_id or "").isdigit():
        return None
    try:
        user = access.users.get(int(user_id))
    except NotFound:
        return None
    return messages[done].format(user.email) if ops.within_scope(principal, user.tenants) else None


def _users_page(
    request: Request,
    principal: Principal,
    status: int = 200,
    error: dict[str, Any] | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    access = _access(request)
    query = request.query_params
    return _page(
        request,
        "admin_users.html",
        status,
        title="Users",
        users=[_user_row(u) for u in ops.visible_users(access, principal)],
        done=None if error else _user_done(access, principal, query.get("done"), query.get("id")),
        error=error,
        entered=entered or {"role": "viewer"},
        min_password=MIN_PASSWORD,
        scope=principal.tenants,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, principal: Admin) -> Response:
    return _users_page(request, principal)


@router.post("/admin/users", response_class=HTMLResponse)
async def add_user(request: Request, principal: Admin) -> Response:
    form = await request.form()
    sso = _flag(form, "sso")
    entered = {
        "email": _text(form, "email") or "",
        "name": _text(form, "name") or "",
        "role": _text(form, "role") or "",
        "tenants": _text(form, "tenants") or "",
        "sso": sso,
    }
    try:
        user = ops.add_user(
            _access(request),
            principal,
            email=entered["email"],
            role=entered["role"],
            tenants=entered["tenants"],
            password=None if sso else _text(form, "password") or "",
            name=entered["name"],
            ip=client_ip(request),
        )
    except SextantError as exc:
        error = _refused(exc, "add")
        return _users_page(request, principal, exc.status, error, entered)
    return _back("/admin/users", "added", id=user.id)


def _active(state: str | None) -> bool | None:
    if state is None:
        return None
    if state not in ("active", "disabled"):
        raise InvalidInput(
            "state_unknown", f"state: active or disabled, got {state[:40]!r}", field="state"
        )
    return state == "active"


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
async def change_user(user_id: int, request: Request, principal: Admin) -> Response:
    """One of a user's forms: access (role, tenants, state) or a new password. A field the
    form leaves out stays as it is."""
    form = await request.form()
    state = _text(form, "state")
    password = _text(form, "password")
    access = _access(request)
    try:
        before = access.users.get(user_id)
        user = ops.change_user(
            access,
            principal,
            user_id,
            ip=client_ip(request),
            role=_text(form, "role"),
            tenants=_text(form, "tenants") if "tenants" in form else ops.UNCHANGED,
            active=_active(state),
            password=password,
        )
    except SextantError as exc:
        form_id = "page" if isinstance(exc, NotFound) else f"user-{user_id}"
        return _users_page(request, principal, exc.status, _refused(exc, form_id))
    changed = password is not None or user != before
    return _back("/admin/users", "changed" if changed else "unchanged", id=user.id)


# API keys.


def _key_row(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "role": key.role.value,
        "tenants": _tenants(key.tenants),
        "created_by": key.created_by,
        "created_at": _when(key.created_at),
        "last_used": _when(key.last_used),
        "state": "revoked" if key.revoked else "active",
    }


def _keys_page(
    request: Request,
    principal: Principal,
    status: int = 200,
    *,
    done: str | None = None,
    error: dict[str, Any] | None = None,
    entered: dict[str, Any] | None = None,
    created: dict[str, Any] | None = None,
) -> Response:
    return _page(
        request,
        "admin_keys.html",
        status,
        title="API keys",
        keys=[_key_row(k) for k in ops.visible_keys(_access(request), principal)],
        done=done,
        error=error,
        entered=entered or {"role": "viewer"},
        created=created,
        scope=principal.tenants,
    )


def _key_done(access: Access, principal: Principal, done: str | None, key_id: str | None):
    if done != "revoked" or not (key_id or "").isdigit():
        return None
    try:
        key = access.keys.get(int(key_id))
    except NotFound:
        return None  # a stale link: no message
    if not ops.within_scope(principal, key.tenants):
        return None
    return f"Revoked the key {key.name!r}: it is refused from now on."


@router.get("/admin/keys", response_class=HTMLResponse)
def keys_page(request: Request, principal: Admin) -> Response:
    query = request.query_params
    done = _key_done(_access(request), principal, query.get("done"), query.get("id"))
    return _keys_page(request, principal, done=done)


@router.post("/admin/keys", response_class=HTMLResponse)
async def create_key(request: Request, principal: Admin) -> Response:
    """The new key's secret is shown on this answer only (201, never in a URL)."""
    form = await request.form()
    entered = {k: _text(form, k) or "" for k in ("name", "role", "tenants")}
    try:
        key, secret = ops.create_key(
            _access(request),
            principal,
            name=entered["name"],
            role=entered["role"],
            tenants=entered["tenants"],
            ip=client_ip(request),
        )
    except SextantError as exc:
        return _keys_page(
            request, principal, exc.status, error=_refused(exc, "add"), entered=entered
        )
    return _keys_page(request, principal, 201, created={**_key_row(key), "secret": secret})


@router.post("/admin/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(key_id: int, request: Request, principal: Admin) -> Response:
    try:
        key = ops.revoke_key(_access(request), principal, key_id, ip=client_ip(request))
    except SextantError as exc:
        form_id = "page" if isinstance(exc, NotFound) else f"key-{key_id}"
        return _keys_page(request, principal, exc.status, error=_refused(exc, form_id))
    return _back("/admin/keys", "revoked", id=key.id)


# The audit log.


def _summary(detail: dict[str, Any]) -> str:
    """The detail of an entry as one short line.

    >>> _summary({"change": "updated", "role": {"before": "viewer", "after": "admin"}})
    'change: updated; role: viewer → admin'
    >>> _summary({"tenants": ["a", "b"], "active": {"before": None, "after": ["c"]}})
    'tenants: a, b; active: all → c'
    """
    parts = []
    for key, value in detail.items():
        if isinstance(value, dict) and set(value) == {"before", "after"}:
            text = f"{_shown(value['before'])} → {_shown(value['after'])}"
        else:
            text = _shown(value)
        parts.append(f"{key}: {text}")
    text = "; ".join(parts)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def _shown(value: Any) -> str:
    if value is None:
        return "all"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _entry_row(entry: Entry) -> dict[str, Any]:
    return {**entry.as_dict(), "summary": _summary(entry.detail)}


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in FILTER_FIELDS}


def _audit_page(
    request: Request,
    principal: Principal,
    status: int = 200,
    *,
    error: dict[str, Any] | None = None,
    done: str | None = None,
) -> Response:
    access = _access(request)
    filters = _filters(request)
    entries, cut = [], False
    if error is None or error["form"] != "filters":
        try:
            where = AuditFilter.parse(filters)
            entries, cut = ops.entries_page(access.audit, principal, where)
        except SextantError as exc:
            error, status = _refused(exc, "filters"), exc.status
    chosen = {k: v for k, v in filters.items() if v}
    return _page(
        request,
        "admin_audit.html",
        status,
        title="Audit log",
        filters=filters,
        actions=ACTIONS,
        entries=[_entry_row(e) for e in entries],
        cut=cut,
        max_rows=MAX_ROWS,
        csv_href="/admin/audit.csv" + (f"?{urlencode(chosen)}" if chosen else ""),
        export_rows=MAX_EXPORT_ROWS,
        retention=access.audit.retention_days,
        limited=principal.tenants,
        error=error,
        done=done,
    )


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, principal: Admin) -> Response:
    done = None
    if request.query_params.get("done") == "retention":
        days = _access(request).audit.retention_days
        done = f"The audit log now keeps entries for {days} days; older ones were deleted."
    return _audit_page(request, principal, done=done)


@router.get("/admin/audit.csv")
def audit_csv(request: Request, principal: Admin) -> Response:
    """The filtered entries as CSV (newest first, up to 100,000 rows; no IP addresses)."""
    where = AuditFilter.parse(_filters(request))
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ip = client_ip(request)
    export = ops.export_audit(_access(request), principal, where, target=target, ip=ip)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    headers = {
        "Content-Disposition": f'attachment; filename="{filename("audit", day)}"',
        "Cache-Control": "no-store",
    }
    if export.message:
        headers["X-Sextant-Notice"] = export.message
    return Response(export.text, media_type="text/csv; charset=utf-8", headers=headers)


@router.post("/admin/settings/audit-retention", response_class=HTMLResponse)
async def audit_retention(request: Request, principal: Admin) -> Response:
    form = await request.form()
    try:
        ops.set_retention(
            _access(request), principal, _text(form, "days") or "", ip=client_ip(request)
        )
    except SextantError as exc:
        return _audit_page(request, principal, exc.status, error=_refused(exc, "retention"))
    return _back("/admin/audit", "retention")
