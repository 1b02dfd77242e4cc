"""Saved playground queries: name, description, SQL, owner, shared with the team or private,
pinned. Everyone sees their own and the shared ones, pinned first; the owner changes and
deletes their own; a sys engineer or admin manages all of them (DESIGN.md, Roles).

"The team" follows tenant limits: a user limited to tenants sees the queries shared by users
limited within those tenants, not those of other tenants' users or of unlimited ones (a
query's text may name another tenant's customers)."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from sextant.access.roles import Principal, Role
from sextant.access.store import AccessStore, encode_tenants, within_sql
from sextant.errors import Forbidden, InvalidInput, NotFound

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_SQL = 100_000


@dataclass(frozen=True)
class SavedQuery:
    id: int
    name: str
    description: str
    sql: str
    owner: str
    shared: bool
    pinned: bool
    created_at: float
    updated_at: float

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "sql": self.sql,
            "owner": self.owner,
            "shared": self.shared,
            "pinned": self.pinned,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _saved(row: sqlite3.Row) -> SavedQuery:
    return SavedQuery(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        sql=row["sql"],
        owner=row["owner_email"],
        shared=bool(row["shared"]),
        pinned=bool(row["pinned"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _checked(name: str, description: str, sql: str) -> tuple[str, str, str]:
    name, description = name.strip(), description.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            "saved_name_invalid",
            f"a saved query needs a name of 1 to {MAX_NAME} characters",
            field="name",
        )
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            "saved_description_too_long",
            f"a description has at most {MAX_DESCRIPTION} characters",
            field="description",
        )
    if not sql.strip() or len(sql) > MAX_SQL:
        raise InvalidInput(
            "saved_sql_invalid",
            f"a saved query needs SQL of 1 to {MAX_SQL} characters",
            field="sql",
        )
    return name, description, sql


class SavedQueries:
    def __init__(self, store: AccessStore) -> None:
        self.store = store

    def _select(
        self, principal: Principal, where: str = "1", params: tuple = ()
    ) -> list[SavedQuery]:
        """Rows matching `where` that the principal may see: their own and the shared ones of
        their team."""
        shared, limit = "shared = 1", []
        if principal.tenants is not None:
            clause, limit = within_sql("owner_tenants", principal.tenants)
            shared += f" AND {clause}"
        with self.store.connect() as db:
            rows = db.execute(
                f"SELECT * FROM saved_queries WHERE ({where}) AND (owner_email = ? OR ({shared})) "
                "ORDER BY pinned DESC, lower(name), id",
                (*params, principal.email, *limit),
            ).fetchall()
        return [_saved(r) for r in rows]

    def visible(self, principal: Principal) -> list[SavedQuery]:
        """The principal's own and their team's shared queries, pinned first, then by name."""
        return self._select(principal)

    def get(self, query_id: int, principal: Principal) -> SavedQuery:
        found = self._select(principal, "id = ?", (query_id,))
        # Another user's private query answers as missing: its existence is not shown.
        if not found:
            raise NotFound("saved_query_not_found", f"no saved query {query_id}", field="id")
        return found[0]

    def create(
        self,
        principal: Principal,
        name: str,
        sql: str,
        *,
        description: str = "",
        shared: bool = False,
        pinned: bool = False,
    ) -> SavedQuery:
        principal.require(Role.ANALYST, "saving queries")
        name, description, sql = _checked(name, description, sql)
        now = time.time()
        with self.store.connect() as db:
            cursor = db.execute(
                "INSERT INTO saved_queries (name, description, sql, owner_id, owner_email, "
                "owner_tenants, shared, pinned, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    description,
                    sql,
                    principal.user_id,
                    principal.email,
                    encode_tenants(principal.tenants),
                    int(shared),
                    int(pinned),
                    now,
                    now,
                ),
            )
        return self.get(cursor.lastrowid, principal)

    def _managed(self, query_id: int, principal: Principal) -> SavedQuery:
        found = self.get(query_id, principal)
        if found.owner != principal.email and not principal.may(Role.SYS_ENGINEER):
            raise Forbidden(
                "saved_query_not_yours",
                f"{found.name!r} belongs to {found.owner}; only they or a sys engineer may "
                "change it",
                field="id",
            )
        return found

    def update(
        self,
        query_id: int,
        principal: Principal,
        *,
        name: str | None = None,
        description: str | None = None,
        sql: str | None = None,
        shared: bool | None = None,
        pinned: bool | None = None,
    ) -> SavedQuery:
        found = self._managed(query_id, principal)
        name, description, sql = _checked(
            found.name if name is None else name,
            found.description if description is None else description,
            found.sql if sql is None else sql,
        )
        shared = found.shared if shared is None else shared
        pinned = found.pinned if pinned is None else pinned
        with self.store.connect() as db:
            db.execute(
                "UPDATE saved_queries SET name = ?, description = ?, sql = ?, shared = ?, "
                "pinned = ?, updated_at = ? WHERE id = ?",
                (name, description, sql, int(shared), int(pinned), time.time(), query_id),
            )
        return self.get(query_id, principal)

    def delete(self, query_id: int, principal: Principal) -> SavedQuery:
        found = self._managed(query_id, principal)
        with self.store.connect() as db:
            db.execute("DELETE FROM saved_queries WHERE id = ?", (query_id,))
        return found
