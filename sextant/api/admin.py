"""Admin routes: users, API keys and the audit log, and the operations the admin pages share
with them (each change checked against the admin's own tenants and written to the audit log,
refusals included, with the error code as the outcome).

Access: admins only. An admin limited to some tenants manages only users and keys within
those tenants, and cannot give anyone, or any key, a tenant outside them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sextant.access.audit import MAX_ROWS, AuditFilter, AuditLog, Entry
from sextant.access.roles import Principal, Role
from sextant.access.service import Access
from sextant.access.tokens import ApiKey
from sextant.access.users import User, parse_tenants
from sextant.api.auth import client_ip, require
from sextant.errors import Forbidden, InvalidInput, SextantError
from sextant.exports import MAX_EXPORT_ROWS, CsvExport, write_csv

AUDIT_COLUMNS = ("when", "actor", "role", "tenants", "action", "target", "outcome", "detail", "ip")
UNCHANGED: Any = ...  # Users.update's marker for "leave the tenants as they are"

admin = require(Role.ADMIN, "users, API keys and the audit log")
Admin = Annotated[Principal, Depends(admin)]
router = APIRouter(prefix="/api/v1", dependencies=[Depends(admin)])


# Operations: the pages and the API routes both call these.


def within_scope(principal: Principal, tenants: tuple[str, ...] | None) -> bool:
    """Whether `principal` may manage something reading `tenants` (None: every tenant)."""
    if principal.tenants is None:
        return True
    return tenants is not None and all(t in principal.tenants for t in tenants)


def _check_scope(principal: Principal, tenants: tuple[str, ...] | None, what: str) -> None:
    if not within_scope(principal, tenants):
        raise Forbidden(
            "admin_scope_forbidden",
            f"{what} reads tenants outside yours ({', '.join(principal.tenants or ())}); an "
            "admin without a tenant limit must change it",
            field="tenants",
        )


@contextmanager
def audited(
    access: Access, who: Principal, action: str, target: str, ip: str | None, detail: dict
) -> Iterator[dict]:
    """Records the change once it is done, or its refusal with the error code as outcome;
    the caller may add to `detail` meanwhile."""
    try:
        yield detail
    except SextantError as exc:
        access.audit.record(who, action, target, outcome=exc.code, ip=ip, **detail)
        raise
    access.audit.record(who, action, target, ip=ip, **detail)


def visible_users(access: Access, principal: Principal) -> list[User]:
    return [u for u in access.users.all() if within_scope(principal, u.tenants)]


def visible_keys(access: Access, principal: Principal) -> list[ApiKey]:
    return [k for k in access.keys.all() if within_scope(principal, k.tenants)]


def add_user(
    access: Access,
    principal: Principal,
    *,
    email: str,
    role: str,
    tenants: list[str] | str | None,
    password: str | None,
    name: str = "",
    ip: str | None,
) -> User:
    detail: dict[str, Any] = {"change": "added", "role": role}
    with audited(access, principal, "user_change", email.strip(), ip, detail):
        parsed = Role.parse(role)
        limit = principal.limit(parse_tenants(tenants))
        detail["tenants"] = limit
        detail["sign_in"] = "password" if password is not None else "single sign-on"
        return access.users.add(email, parsed, password=password, tenants=limit, name=name)


def change_user(
    access: Access,
    principal: Principal,
    user_id: int,
    *,
    ip: str | None,
    role: str | None = None,
    tenants: list[str] | str | None = UNCHANGED,
    active: bool | None = None,
    password: str | None = None,
    name: str | None = None,
) -> User:
    """Change what is given and differs; the audit entry names each change with its before
    and after (a password only as "reset")."""
    user = access.users.get(user_id)
    detail: dict[str, Any] = {"change": "updated"}
    with audited(access, principal, "user_change", user.email, ip, detail):
        _check_scope(principal, user.tenants, user.email)
        new_role = Role.parse(role) if role is not None else None
        if new_role is not None and new_role is not user.role:
            detail["role"] = _was(user.role.value, new_role.value)
        new_tenants = UNCHANGED
        if tenants is not UNCHANGED:
            limit = principal.limit(parse_tenants(tenants))
            if limit != user.tenants:
                detail["tenants"] = _was(user.tenants, limit)
                new_tenants = limit
        if active is not None and active != user.active:
            detail["active"] = _was(user.active, active)
        if password is not None:
            detail["password"] = "reset"
        if name is not None and name.strip() != user.name:
            detail["name"] = _was(user.name, name.strip())
        if len(detail) == 1:
            detail["change"] = "unchanged"
            return user
        return access.users.update(
            user_id,
            role=new_role if "role" in detail else None,
            tenants=new_tenants,
            active=active if "active" in detail else None,
            password=password,
            name=name if "name" in detail else None,
        )


def _was(before: Any, after: Any) -> dict[str, Any]:
    return {"before": before, "after": after}


def create_key(
    access: Access,
    principal: Principal,
    *,
    name: str,
    role: str,
    tenants: list[str] | str | None,
    ip: str | None,
) -> tuple[ApiKey, str]:
    """A new key and its secret (shown only this once); ApiKeys.create keeps its role and
    tenants within the creator's."""
    detail: dict[str, Any] = {"change": "created", "role": role}
    with audited(access, principal, "key_change", name.strip(), ip, detail):
        key, secret = access.keys.create(name, Role.parse(role), parse_tenants(tenants), principal)
        detail["tenants"], detail["prefix"] = key.tenants, key.prefix
        return key, secret


def revoke_key(access: Access, principal: Principal, key_id: int, *, ip: str | None) -> ApiKey:
    key = access.keys.get(key_id)
    detail = {"change": "revoked", "prefix": key.prefix}
    with audited(access, principal, "key_change", key.name, ip, detail):
        _check_scope(principal, key.tenants, f"the key {key.name!r}")
        return access.keys.revoke(key_id)


def set_retention(access: Access, principal: Principal, days: str, *, ip: str | None) -> int:
    """Keep audit entries `days` days (older ones are deleted now); returns the new value."""
    before = access.audit.retention_days
    detail: dict[str, Any] = {"before": before, "after": days}
    with audited(access, principal, "setting_change", "audit_retention_days", ip, detail):
        if principal.tenants is not None:
            raise Forbidden(
                "admin_scope_forbidden",
                "the audit log's retention applies to every tenant; an admin without a tenant "
                "limit must change it",
                field="retention_days",
            )
        try:
            value = int(days.strip())
        except ValueError:
            raise InvalidInput(
                "retention_invalid",
                f"days to keep the audit log: a whole number, got {days[:40]!r}",
                field="retention_days",
            ) from None
        detail["after"] = value
        access.audit.set_retention(value)
        return value


def audit_rows(entries: list[Entry]) -> Iterator[dict[str, Any]]:
    """Entries as the CSV's rows: `when` and `tenants` as text, the columns of AUDIT_COLUMNS."""
    for e in entries:
        tenants = "all" if e.tenants is None else ", ".join(e.tenants)
        yield e.as_dict() | {"when": e.when, "tenants": tenants}


def export_audit(
    access: Access, principal: Principal, where: AuditFilter, *, target: str, ip: str | None
) -> CsvExport:
    """The filtered entries as CSV, newest first, up to the export cap (IP addresses are PII
    and left out, as in every export); the download is itself audited."""
    entries = access.audit.entries(where, MAX_EXPORT_ROWS + 1, within=principal.tenants)
    export = write_csv(AUDIT_COLUMNS, audit_rows(entries), limit=MAX_EXPORT_ROWS)
    access.audit.record(
        principal, "export", target, ip=ip, rows=export.rows, dropped=list(export.dropped)
    )
    return export


def entries_page(
    log: AuditLog, principal: Principal, where: AuditFilter, limit: int = MAX_ROWS
) -> tuple[list[Entry], bool]:
    """At most `limit` entries the admin may read, newest first, and whether more matched."""
    entries = log.entries(where, limit + 1, within=principal.tenants)
    return entries[:limit], len(entries) > limit


# JSON routes.


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused, not ignored

    email: str
    role: str = Field(description="viewer, analyst, sys_engineer or admin")
    tenants: list[str] | None = Field(default=None, description="omitted or null: every tenant")
    password: str | None = Field(default=None, description="omitted: single sign-on only")
    name: str = ""


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused, not ignored

    role: str | None = None
    tenants: list[str] | None = Field(default=None, description="null: every tenant")
    active: bool | None = None
    password: str | None = None
    name: str | None = None


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused, not ignored

    name: str
    role: str = Field(description="viewer, analyst, sys_engineer or admin")
    tenants: list[str] | None = Field(default=None, description="omitted or null: every tenant")


def _access(request: Request) -> Access:
    return request.app.state.access


@router.get("/users")
def list_users(request: Request, principal: Admin) -> list[dict[str, Any]]:
    """Users with their roles, tenants and state (those within your tenants)."""
    return [u.as_dict() for u in visible_users(_access(request), principal)]


@router.post("/users", status_code=201)
def create_user(body: NewUser, request: Request, principal: Admin) -> dict[str, Any]:
    user = add_user(
        _access(request),
        principal,
        email=body.email,
        role=body.role,
        tenants=body.tenants,
        password=body.password,
        name=body.name,
        ip=client_ip(request),
    )
    return user.as_dict()


@router.patch("/users/{user_id}")
def update_user(
    user_id: int, body: UserChange, request: Request, principal: Admin
) -> dict[str, Any]:
    """Change what the body names; `tenants: null` lifts the limit. The user's sessions end
    when their role, tenants or state change."""
    given = body.model_fields_set
    user = change_user(
        _access(request),
        principal,
        user_id,
        ip=client_ip(request),
        role=body.role,
        tenants=body.tenants if "tenants" in given else UNCHANGED,
        active=body.active,
        password=body.password,
        name=body.name,
    )
    return user.as_dict()


@router.get("/keys")
def list_keys(request: Request, principal: Admin) -> list[dict[str, Any]]:
    return [k.as_dict() for k in visible_keys(_access(request), principal)]


@router.post("/keys", status_code=201)
def new_key(body: NewKey, request: Request, response: Response, principal: Admin) -> dict:
    """A new key; `secret` is in this answer only (send it as `Authorization: Bearer`)."""
    key, secret = create_key(
        _access(request),
        principal,
        name=body.name,
        role=body.role,
        tenants=body.tenants,
        ip=client_ip(request),
    )
    response.headers["Cache-Control"] = "no-store"
    return {**key.as_dict(), "secret": secret}


@router.delete("/keys/{key_id}")
def delete_key(key_id: int, request: Request, principal: Admin) -> dict[str, Any]:
    return revoke_key(_access(request), principal, key_id, ip=client_ip(request)).as_dict()


@router.get("/audit")
def audit(
    request: Request,
    principal: Admin,
    actor: Annotated[str | None, Query(description="part of the actor's email or name")] = None,
    action: Annotated[str | None, Query(description="one of the audit actions")] = None,
    outcome: Annotated[str | None, Query(description="ok, or an error code")] = None,
    date_from: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD (UTC)")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (UTC)")] = None,
    limit: Annotated[int, Query(description=f"at most {MAX_ROWS}")] = 100,
) -> list[dict[str, Any]]:
    """Audit entries, newest first (for a tenant-limited admin, what their tenants' users did)."""
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidInput("limit_invalid", f"limit: 1 to {MAX_ROWS}, got {limit}", field="limit")
    where = AuditFilter.parse(
        {"actor": actor, "action": action, "outcome": outcome, "from": date_from, "to": date_to}
    )
    log = _access(request).audit
    return [e.as_dict() for e in log.entries(where, limit, within=principal.tenants)]
