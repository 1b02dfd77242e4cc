"""The four roles, what each may do, and the principal a request acts as.

Roles are ordered: each may do everything the one before it may (DESIGN.md, Roles).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sextant.errors import Forbidden, InvalidInput


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    SYS_ENGINEER = "sys_engineer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @classmethod
    def parse(cls, value: str, field: str = "role") -> Role:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise InvalidInput(
                "role_unknown",
                f"unknown role {value!r}; expected one of {', '.join(r.value for r in Role)}",
                field=field,
            ) from None


ROLE_LABELS = {
    Role.VIEWER: "Viewer (product manager)",
    Role.ANALYST: "Analyst",
    Role.SYS_ENGINEER: "Sys engineer",
    Role.ADMIN: "Admin",
}

ROLE_MAY = {
    Role.VIEWER: "dashboards, filters and CSV exports without PII",
    Role.ANALYST: "+ the SQL playground, saved queries and metric SQL",
    Role.SYS_ENGINEER: "+ managing everyone's saved queries, experiments, sources and imports",
    Role.ADMIN: "+ users, roles, API keys, settings and the audit log",
}


@dataclass(frozen=True)
class Principal:
    """Who a request acts for. `tenants` None means every tenant; `via` says how they were
    recognised: session, api_key, control (the local control token), local_demo (no users
    exist yet and the server is bound to this computer), sso."""

    email: str
    role: Role
    tenants: tuple[str, ...] | None = None
    via: str = "session"
    user_id: int | None = None

    def may(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    def require(self, role: Role, what: str) -> None:
        if not self.may(role):
            raise Forbidden(
                "role_forbidden",
                f"{what} needs the {role.value} role or higher; you are {self.role.value}",
                field="role",
                hint="ask an admin to change your role",
            )

    @property
    def sees_pii(self) -> bool:
        return self.role is Role.ADMIN

    def limit(self, requested: tuple[str, ...] | list[str] | None) -> tuple[str, ...] | None:
        """The tenants a query may read: those asked for, within this principal's own. Asking
        for a tenant outside them is refused (403) rather than silently narrowed."""
        if self.tenants is None:
            return None if requested is None else tuple(requested)
        if requested is None:
            return self.tenants
        outside = [t for t in requested if t not in self.tenants]
        if outside:
            raise Forbidden(
                "tenant_forbidden",
                f"tenant {outside[0]!r} is outside your access (you may read "
                f"{', '.join(self.tenants) or 'no tenant'})",
                field="tenants",
            )
        return tuple(requested)
