"""The access store: users, sign-in sessions, API keys, saved queries, the audit log and
access settings, in one SQLite file beside the analytics store (`access.sqlite`).

SQLite rather than the analytics engine: the CLI must be able to add the first admin while a
server holds the DuckDB file, the same users serve a ClickHouse deployment, and these are
small transactional rows, not analytics. Every connection is short-lived and WAL-journalled,
so the server's threads and a CLI command can write at once.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    tenants TEXT,                     -- JSON list; NULL: every tenant
    password_hash TEXT,               -- NULL: single sign-on only
    sso_subject TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until REAL,
    created_at REAL NOT NULL,
    last_sign_in REAL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    via TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    tenants TEXT,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used REAL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS saved_queries (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    sql TEXT NOT NULL,
    owner_id INTEGER,
    owner_email TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    owner_tenants TEXT,               -- the owner's tenant limit, JSON; NULL: every tenant
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT 'ok',
    detail TEXT NOT NULL DEFAULT '{}',
    ip TEXT,
    tenants TEXT                      -- the actor's tenant limit, JSON; NULL: every or unknown
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
"""


class AccessStore:
    """One SQLite file; `connect()` yields a connection in a transaction (committed on exit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._init = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)  # commits on its own
            _add_missing_columns(db)
        finally:
            db.close()
        path.chmod(0o600)  # password hashes and session hashes: the owner's only

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def meta(self, key: str, default: str | None = None) -> str | None:
        with self.connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.connect() as db:
            db.execute(
                "INSERT INTO meta VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def secret(self) -> bytes:
        """The key that signs this install's cookies and CSRF tokens, made on first use."""
        with self._init:
            value = self.meta("secret")
            if value is None:
                value = secrets.token_hex(32)
                self.set_meta("secret", value)
        return bytes.fromhex(value)


# Columns added after a release: (table, column, declaration). A store made before them gets
# them on open; old rows read as NULL.
ADDED_COLUMNS = (("audit", "tenants", "TEXT"), ("saved_queries", "owner_tenants", "TEXT"))


def _add_missing_columns(db: sqlite3.Connection) -> None:
    for table, column, declaration in ADDED_COLUMNS:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    db.commit()


# Tenant limits are stored as a JSON list, NULL meaning every tenant.


def encode_tenants(tenants: tuple[str, ...] | list[str] | None) -> str | None:
    return None if tenants is None else json.dumps(list(tenants))


def decode_tenants(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(json.loads(text))


def within_sql(column: str, tenants: tuple[str, ...]) -> tuple[str, list[str]]:
    """A condition that a limit stored in `column` lies within `tenants`: the rows a reader
    limited to `tenants` may see (never a row limited to nothing, i.e. to every tenant)."""
    marks = ", ".join("?" * len(tenants))
    sql = (
        f"({column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM json_each({column}) WHERE value NOT IN ({marks})))"
    )
    return sql, list(tenants)
