"""Sign-in sessions and API keys: random tokens handed out once, stored only as SHA-256
hashes (a stolen access file gives no usable credential), looked up on every request."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sextant.access.roles import Principal, Role
from sextant.access.store import AccessStore, decode_tenants, encode_tenants
from sextant.access.users import Users
from sextant.errors import InvalidInput, NotFound

KEY_PREFIX = "sxk_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, store: AccessStore, users: Users, idle_hours: float) -> None:
        self.store = store
        self.users = users
        self.idle = idle_hours * 3600

    def start(self, user_id: int, via: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.store.connect() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (digest(token), user_id, via, now, now),
            )
            db.execute("DELETE FROM sessions WHERE last_seen < ?", (now - self.idle,))
        return token

    def principal(self, token: str) -> Principal | None:
        """Who a session cookie belongs to, or None when it is unknown, expired or its user
        is disabled; each use extends it."""
        now = time.time()
        with self.store.connect() as db:
            row = db.execute(
                "SELECT s.user_id, s.via, s.last_seen FROM sessions s JOIN users u ON u.id = "
                "s.user_id WHERE s.token_hash = ? AND u.active = 1",
                (digest(token),),
            ).fetchone()
            if row is None or row["last_seen"] < now - self.idle:
                return None
            db.execute(
                "UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, digest(token))
            )
        return self.users.get(row["user_id"]).principal(row["via"])

    def end(self, token: str) -> None:
        with self.store.connect() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (digest(token),))


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    role: Role
    tenants: tuple[str, ...] | None
    created_by: str
    created_at: float
    last_used: float | None
    revoked: bool

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "role": self.role.value,
            "tenants": list(self.tenants) if self.tenants is not None else None,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "last_used": self.last_used,
            "revoked": self.revoked,
        }


class ApiKeys:
    """Keys for programmatic access (`Authorization: Bearer sxk_...`), each with a role and
    tenants no wider than its creator's."""

    def __init__(self, store: AccessStore) -> None:
        self.store = store

    def create(
        self, name: str, role: Role, tenants: tuple[str, ...] | None, creator: Principal
    ) -> tuple[ApiKey, str]:
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInput(
                "key_name_invalid", "a key needs a name of 1 to 100 characters", field="name"
            )
        creator.require(role, f"a key with the {role.value} role")
        tenants = creator.limit(tenants)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.store.connect() as db:
            cursor = db.execute(
                "INSERT INTO api_keys (name, prefix, key_hash, role, tenants, created_by, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    secret[:10],
                    digest(secret),
                    role.value,
                    encode_tenants(tenants),
                    creator.email,
                    time.time(),
                ),
            )
        return self.get(cursor.lastrowid), secret

    def get(self, key_id: int) -> ApiKey:
        with self.store.connect() as db:
            row = db.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotFound("key_not_found", f"no API key with id {key_id}", field="key")
        return _key(row)

    def all(self) -> list[ApiKey]:
        with self.store.connect() as db:
            return [_key(r) for r in db.execute("SELECT * FROM api_keys ORDER BY created_at")]

    def revoke(self, key_id: int) -> ApiKey:
        self.get(key_id)
        with self.store.connect() as db:
            db.execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                (time.time(), key_id),
            )
        return self.get(key_id)

    def principal(self, secret: str) -> Principal | None:
        with self.store.connect() as db:
            row = db.execute(
                "SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                (digest(secret),),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE api_keys SET last_used = ? WHERE id = ?", (time.time(), row["id"]))
        key = _key(row)
        return Principal(f"key:{key.name}", key.role, key.tenants, "api_key")


def _key(row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        role=Role(row["role"]),
        tenants=decode_tenants(row["tenants"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_used=row["last_used"],
        revoked=row["revoked_at"] is not None,
    )
