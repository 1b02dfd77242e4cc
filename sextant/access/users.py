"""Users: adding and changing them, passwords (argon2id) and the lockout after repeated
failed sign-ins."""

from __future__ import annotations

import functools
import re
import sqlite3
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sextant.access.roles import Principal, Role
from sextant.access.store import AccessStore, decode_tenants, encode_tenants
from sextant.errors import Conflict, InvalidInput, NotFound, Unauthorized

MIN_PASSWORD = 10
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HASHER = PasswordHasher()
WRONG = "email or password is wrong"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: Role
    tenants: tuple[str, ...] | None
    active: bool
    has_password: bool
    sso: bool
    locked_until: float | None
    created_at: float
    last_sign_in: float | None

    def principal(self, via: str) -> Principal:
        return Principal(self.email, self.role, self.tenants, via, self.id)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role.value,
            "tenants": list(self.tenants) if self.tenants is not None else None,
            "active": self.active,
            "password": self.has_password,
            "sso": self.sso,
            "locked": bool(self.locked_until and self.locked_until > time.time()),
            "last_sign_in": self.last_sign_in,
        }


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        tenants=decode_tenants(row["tenants"]),
        active=bool(row["active"]),
        has_password=row["password_hash"] is not None,
        sso=row["sso_subject"] is not None,
        locked_until=row["locked_until"],
        created_at=row["created_at"],
        last_sign_in=row["last_sign_in"],
    )


def parse_tenants(values: list[str] | str | None, field: str = "tenants") -> tuple[str, ...] | None:
    """Tenant ids from a list or a comma-separated text; empty or None: every tenant."""
    if values is None:
        return None
    if isinstance(values, str):
        values = values.split(",")
    cleaned = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    for tenant in cleaned:
        if len(tenant) > 200 or any(ch in tenant for ch in "\r\n\t"):
            raise InvalidInput("tenant_invalid", f"not a tenant id: {tenant[:40]!r}", field=field)
    return cleaned or None


def check_email(email: str) -> str:
    email = email.strip()
    if not EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("email_invalid", f"not an email address: {email!r}", field="email")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            "password_too_short",
            f"a password needs at least {MIN_PASSWORD} characters",
            field="password",
        )
    if len(password) > 1024:
        raise InvalidInput("password_too_long", "a password has at most 1024 characters")
    return password


class Users:
    def __init__(self, store: AccessStore) -> None:
        self.store = store

    def count(self, *, admins: bool = False) -> int:
        sql = "SELECT count(*) FROM users WHERE active = 1"
        if admins:
            sql += " AND role = 'admin'"
        with self.store.connect() as db:
            return db.execute(sql).fetchone()[0]

    def all(self) -> list[User]:
        with self.store.connect() as db:
            return [_user(r) for r in db.execute("SELECT * FROM users ORDER BY email")]

    def get(self, user_id: int) -> User:
        with self.store.connect() as db:
            row = db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise NotFound("user_not_found", f"no user with id {user_id}", field="user")
        return _user(row)

    def find(self, email: str) -> User | None:
        with self.store.connect() as db:
            row = db.execute("SELECT * FROM users WHERE email = ?", (email.strip(),)).fetchone()
        return _user(row) if row else None

    def add(
        self,
        email: str,
        role: Role,
        *,
        password: str | None = None,
        tenants: tuple[str, ...] | None = None,
        name: str = "",
        sso_subject: str | None = None,
    ) -> User:
        email = check_email(email)
        hashed = HASHER.hash(check_password(password)) if password is not None else None
        try:
            with self.store.connect() as db:
                cursor = db.execute(
                    "INSERT INTO users (email, name, role, tenants, password_hash, sso_subject,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        email,
                        name,
                        role.value,
                        encode_tenants(tenants),
                        hashed,
                        sso_subject,
                        time.time(),
                    ),
                )
                user_id = cursor.lastrowid
        except sqlite3.IntegrityError:
            raise Conflict(
                "user_exists", f"a user {email!r} already exists", field="email"
            ) from None
        return self.get(user_id)

    def update(
        self,
        user_id: int,
        *,
        role: Role | None = None,
        tenants: tuple[str, ...] | object | None = ...,
        active: bool | None = None,
        password: str | None = None,
        name: str | None = None,
    ) -> User:
        """Change a user; the last active admin cannot be demoted or disabled."""
        user = self.get(user_id)
        changes: dict[str, object] = {}
        if role is not None:
            changes["role"] = role.value
        if tenants is not ...:
            changes["tenants"] = encode_tenants(tenants)  # type: ignore[arg-type]
        if active is not None:
            changes["active"] = int(active)
        if password is not None:
            changes["password_hash"] = HASHER.hash(check_password(password))
            changes["failed_attempts"], changes["locked_until"] = 0, None
        if name is not None:
            changes["name"] = name.strip()
        losing_admin = (
            user.role is Role.ADMIN
            and user.active
            and ((role is not None and role is not Role.ADMIN) or active is False)
        )
        if losing_admin and self.count(admins=True) <= 1:
            raise Conflict(
                "last_admin",
                f"{user.email} is the last admin; make another user admin first",
                field="role",
            )
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            with self.store.connect() as db:
                db.execute(
                    f"UPDATE users SET {assignments} WHERE id = ?", (*changes.values(), user_id)
                )
                if active is False or role is not None or tenants is not ...:
                    db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        return self.get(user_id)

    def authenticate(
        self, email: str, password: str, *, attempts: int, lock_minutes: float
    ) -> User:
        """The user whose password this is, or Unauthorized; `attempts` failures in a row lock
        the account for `lock_minutes` (a locked account is refused even with the right
        password, and the message says until when)."""
        now = time.time()
        with self.store.connect() as db:
            row = db.execute("SELECT * FROM users WHERE email = ?", (email.strip(),)).fetchone()
            if row is None or row["password_hash"] is None or not row["active"]:
                _verify(_dummy_hash(), password)
                raise Unauthorized("sign_in_failed", WRONG, field="password")
            if row["locked_until"] and row["locked_until"] > now:
                minutes = max(1, round((row["locked_until"] - now) / 60))
                raise Unauthorized(
                    "account_locked",
                    f"too many failed sign-ins: this account is locked for {minutes} more "
                    "minute(s)",
                    field="email",
                    hint="wait, or ask an admin to reset your password",
                )
            if not _verify(row["password_hash"], password):
                failed = row["failed_attempts"] + 1
                locked = now + lock_minutes * 60 if failed >= attempts else None
                db.execute(
                    "UPDATE users SET failed_attempts = ?, locked_until = ? WHERE id = ?",
                    (0 if locked else failed, locked, row["id"]),
                )
                refusal = (
                    Unauthorized(
                        "account_locked",
                        f"too many failed sign-ins: this account is locked for "
                        f"{lock_minutes:g} minutes",
                        field="email",
                    )
                    if locked
                    else Unauthorized("sign_in_failed", WRONG, field="password")
                )
            else:
                refusal = None
                update = "failed_attempts = 0, locked_until = NULL, last_sign_in = ?"
                params: tuple = (now, row["id"])
                if HASHER.check_needs_rehash(row["password_hash"]):
                    update += ", password_hash = ?"
                    params = (now, HASHER.hash(password), row["id"])
                db.execute(f"UPDATE users SET {update} WHERE id = ?", params)
        if refusal is not None:  # raised after the transaction, which keeps the count
            raise refusal
        return self.get(row["id"])

    def signed_in_with_sso(
        self, email: str, subject: str, role: Role, tenants: tuple[str, ...] | None, name: str
    ) -> User:
        """The user for a single sign-on identity, added on first sign-in; role and tenants
        follow the provider's claims every time."""
        user = self.find(email)
        if user is None:
            user = self.add(email, role, tenants=tenants, name=name, sso_subject=subject)
        elif not user.active:
            raise Unauthorized("user_disabled", f"{email} is disabled; ask an admin", field="email")
        with self.store.connect() as db:
            db.execute(
                "UPDATE users SET role = ?, tenants = ?, sso_subject = ?, last_sign_in = ?"
                " WHERE id = ?",
                (role.value, encode_tenants(tenants), subject, time.time(), user.id),
            )
        return self.get(user.id)


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so a wrong email takes as long as a wrong password
    (made on first use: hashing on import would slow every command by 0.15 s)."""
    return HASHER.hash("not a password of anyone")
