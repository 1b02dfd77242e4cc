"""The playground as the server offers it: a principal's query on the snapshot of what they
may see, within the configured limits, and their saved queries."""

from __future__ import annotations

import hashlib
import hmac

from sextant.access.roles import Principal, Role
from sextant.access.store import AccessStore
from sextant.config import Settings
from sextant.playground.runner import PlaygroundResult, run_sql
from sextant.playground.saved import SavedQueries
from sextant.playground.snapshot import Snapshot, Snapshots
from sextant.store.engine import Engine


class Playground:
    def __init__(self, settings: Settings, engine: Engine, store: AccessStore) -> None:
        self.settings = settings
        self.snapshots = Snapshots(
            settings.playground_dir,
            engine,
            refresh_seconds=settings.playground_refresh_seconds,
            # A key of its own, derived from the install's secret (which also signs cookies).
            key=hmac.new(store.secret(), b"playground email pseudonyms", hashlib.sha256).digest(),
        )
        self.saved = SavedQueries(store)

    def run(
        self, principal: Principal, sql: str, *, masked: bool = False
    ) -> tuple[PlaygroundResult, Snapshot]:
        """`sql` as `principal` may read it; `masked` reads the PII-masked copy even for an
        admin (what leaves as a file never holds PII)."""
        principal.require(Role.ANALYST, "the SQL playground")
        snapshot = self.snapshots.path(principal.tenants, principal.sees_pii and not masked)
        result = run_sql(
            sql,
            snapshot.path,
            tenants=principal.tenants,
            timeout_seconds=self.settings.playground_timeout_seconds,
            memory_mb=self.settings.playground_memory_mb,
        )
        return result, snapshot
