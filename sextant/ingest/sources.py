"""Event sources and their write keys: created once, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import UTC, datetime

import pyarrow as pa

from sextant.errors import Conflict, InvalidInput, NotFound
from sextant.store.engine import Engine

KEY_PREFIX = "sx_"
MAX_NAME = 100


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_source(engine: Engine, name: str) -> str:
    """Create source `name` and return its new write key (it cannot be shown again)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            "invalid_source_name",
            f"a source name has 1 to {MAX_NAME} characters",
            field="name",
        )
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    with engine.transaction():
        if engine.execute("SELECT 1 FROM sources WHERE name = ?", [name]).num_rows:
            raise Conflict("source_exists", f"a source named {name!r} exists already", field="name")
        engine.append(
            "sources",
            pa.table(
                {
                    "name": [name],
                    "key_hash": [hash_key(key)],
                    "key_prefix": [key[:8]],
                    "created_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
                }
            ),
        )
    return key


def list_sources(engine: Engine) -> list[dict]:
    return engine.execute(
        "SELECT name, key_prefix, created_at, revoked_at FROM sources ORDER BY name"
    ).to_pylist()


def revoke_source(engine: Engine, name: str) -> None:
    found = engine.execute(
        "UPDATE sources SET revoked_at = now() WHERE name = ? AND revoked_at IS NULL "
        "RETURNING name",
        [name],
    )
    if not found.num_rows:
        raise NotFound("unknown_source", f"no active source named {name!r}", field="name")


class KeyRing:
    """The active write keys, in memory for the capture path; `reload` after changes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._by_hash: dict[str, str] = {}
        self.reload()

    def reload(self) -> None:
        rows = self._engine.execute(
            "SELECT key_hash, name FROM sources WHERE revoked_at IS NULL"
        ).to_pylist()
        with self._lock:
            self._by_hash = {r["key_hash"]: r["name"] for r in rows}

    def source_for(self, key: str | None) -> str | None:
        """The source name of an active write key, or None."""
        if not key:
            return None
        return self._by_hash.get(hash_key(key))
