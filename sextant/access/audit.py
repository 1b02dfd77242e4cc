"""The audit log: who signed in, viewed data, exported, queried the playground or changed
access, and when; read by admins with filters and as CSV; kept for a set number of days."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sextant.access.roles import Principal
from sextant.access.store import AccessStore, decode_tenants, encode_tenants, within_sql
from sextant.errors import InvalidInput

ACTIONS = {
    "sign_in": "Signed in (or failed to)",
    "sign_out": "Signed out",
    "page_view": "Viewed a page of data",
    "api_read": "Read data through the API",
    "export": "Downloaded a CSV",
    "playground_query": "Ran a playground query",
    "saved_query": "Saved, changed or deleted a saved query",
    "user_change": "Added or changed a user",
    "key_change": "Created or revoked an API key",
    "setting_change": "Changed a setting",
}
RETENTION_KEY = "audit_retention_days"
MAX_ROWS = 1000  # rows an admin page shows; the CSV holds up to the export cap


@dataclass(frozen=True)
class Entry:
    id: int
    at: float
    actor: str
    role: str | None
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]
    ip: str | None
    tenants: tuple[str, ...] | None  # the actor's limit when it acted; None: every tenant

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.when,
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "detail": self.detail,
            "ip": self.ip,
            "tenants": list(self.tenants) if self.tenants is not None else None,
        }


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def parse(cls, params: dict[str, str | None]) -> AuditFilter:
        action = (params.get("action") or "").strip() or None
        if action is not None and action not in ACTIONS:
            raise InvalidInput(
                "audit_action_unknown",
                f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}",
                field="action",
            )
        days = {}
        for name in ("from", "to"):
            text = (params.get(name) or "").strip()
            if text:
                try:
                    days[name] = date.fromisoformat(text)
                except ValueError:
                    raise InvalidInput(
                        "audit_date_invalid",
                        f"{name}: expected YYYY-MM-DD, got {text!r}",
                        field=name,
                    ) from None
        if days.get("from") and days.get("to") and days["from"] > days["to"]:
            raise InvalidInput("audit_range_invalid", "from is after to", field="from")
        return cls(
            actor=(params.get("actor") or "").strip() or None,
            action=action,
            outcome=(params.get("outcome") or "").strip() or None,
            date_from=days.get("from"),
            date_to=days.get("to"),
        )


class AuditLog:
    def __init__(self, store: AccessStore, default_retention_days: int) -> None:
        self.store = store
        self.default_retention = default_retention_days
        self._pruned = 0.0

    def record(
        self,
        who: Principal | str,
        action: str,
        target: str = "",
        *,
        outcome: str = "ok",
        ip: str | None = None,
        **detail: Any,
    ) -> None:
        """One entry. `who` is the acting principal, or the email (or placeholder) given by
        someone not signed in; an email of a known user carries that user's tenant limit, so
        their admin sees the failed sign-ins too."""
        now = time.time()
        with self.store.connect() as db:
            if isinstance(who, str):
                actor, role = who, None
                known = db.execute("SELECT tenants FROM users WHERE email = ?", (who,)).fetchone()
                tenants = known["tenants"] if known else None
            else:
                actor, role = who.email, who.role.value
                tenants = encode_tenants(who.tenants)
            db.execute(
                "INSERT INTO audit (at, actor, role, action, target, outcome, detail, ip, tenants) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    actor,
                    role,
                    action,
                    target[:2000],
                    outcome,
                    json.dumps(detail, default=str),
                    ip,
                    tenants,
                ),
            )
        if now - self._pruned > 3600:
            self.prune()

    @property
    def retention_days(self) -> int:
        return int(self.store.meta(RETENTION_KEY, str(self.default_retention)))

    def set_retention(self, days: int) -> None:
        if not 1 <= days <= 36500:
            raise InvalidInput(
                "retention_invalid",
                "keep the audit log between 1 and 36500 days",
                field="retention_days",
            )
        self.store.set_meta(RETENTION_KEY, str(days))
        self.prune()

    def prune(self) -> int:
        self._pruned = time.time()
        cutoff = self._pruned - self.retention_days * 86400
        with self.store.connect() as db:
            return db.execute("DELETE FROM audit WHERE at < ?", (cutoff,)).rowcount

    def entries(
        self, where: AuditFilter, limit: int = MAX_ROWS, *, within: tuple[str, ...] | None = None
    ) -> list[Entry]:
        """Matching entries, newest first. `within` (a tenant-limited admin's tenants) keeps
        only what actors limited to those tenants did: entries of unlimited actors, unknown
        emails and other tenants' users are not theirs to read."""
        clauses: list[str] = []
        params: list[Any] = []
        if within is not None:
            clause, values = within_sql("tenants", within)
            clauses.append(clause)
            params.extend(values)
        if where.actor:
            clauses.append("actor LIKE ? ESCAPE '\\'")
            params.append(
                "%"
                + where.actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
        for column, value in (("action", where.action), ("outcome", where.outcome)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if where.date_from:
            clauses.append("at >= ?")
            params.append(_epoch(where.date_from))
        if where.date_to:
            clauses.append("at < ?")
            params.append(_epoch(where.date_to + timedelta(days=1)))
        sql = "SELECT * FROM audit"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY at DESC, id DESC LIMIT ?"
        with self.store.connect() as db:
            rows = db.execute(sql, (*params, limit)).fetchall()
        return [
            Entry(
                r["id"],
                r["at"],
                r["actor"],
                r["role"],
                r["action"],
                r["target"],
                r["outcome"],
                json.loads(r["detail"]),
                r["ip"],
                decode_tenants(r["tenants"]),
            )
            for r in rows
        ]


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
