"""The stored `sessions` table (SEMANTICS: Sessions), derived from events and kept up to date
by every append of events or person overrides and by identity merges.

Sessions belong to one tenant: a person's events in two workspaces are two sessions, so one
tenant's data never moves another's session numbers. The SDK's `$session_id` wins (within
the tenant). Otherwise a person's session ends after more than 30 minutes without events in
the tenant (exactly 30:00 continues it), or once it has lasted 24 hours: the cut is relative
to the current session's start, so it is sequential. A *visit* is a run of a person's events
in a tenant without a gap over 30 minutes; the sessions inside a visit depend only on the
visit's events. An upkeep therefore re-derives each touched (person, tenant) from the last
visit start at or before its earliest new event, and each touched SDK session whole. Visits
lasting 24 hours or more are rare: their cuts are found in Python and handed to the SQL as
a small table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sextant.store.schema import SESSIONS
from sextant.store.session_sql import SINCE, derive_into

# Tables whose appends change sessions.
SOURCES = frozenset({"events", "person_overrides"})
# With more touched persons than this, and more than half the persons holding sessions, one
# full rebuild is cheaper than the per-person bookkeeping.
REBUILD_PERSONS = 2_000

TOUCHED = "__sextant_session_touched"
NEW_SDK = "__sextant_session_new_sdk"
GONE = "__sextant_session_gone"
FROM = "__sextant_session_from"
SDK = "__sextant_session_sdk"

_UTC = pa.timestamp("us", tz="UTC")


@dataclass
class Touched:
    """What an append changed: (person, tenant) from their earliest new event (tenant None:
    every tenant of the person from their first event, after a merge), SDK session ids, and
    persons merged away (`gone`)."""

    persons: dict[tuple[int, str | None], datetime | None] = field(default_factory=dict)
    sdk: set[str] = field(default_factory=set)
    gone: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.persons or self.sdk or self.gone)

    def add(self, table: str, batch: pa.RecordBatch | pa.Table) -> None:
        """Note the rows of `batch`, appended to `table` (canonical types)."""
        if table == "events":
            rows = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
            self._events(rows)
        elif table == "person_overrides":
            olds = batch.column("old_person_id").to_pylist()
            news = batch.column("person_id").to_pylist()
            for old, new in zip(olds, news, strict=True):
                self.merged(old, new)

    def merged(self, old: int, new: int) -> None:
        self.gone.add(old)
        self.persons[(old, None)] = self.persons[(new, None)] = None

    def _events(self, rows: pa.Table) -> None:
        if "session_id" in rows.column_names:
            sdk = rows.column("session_id")
            self.sdk.update(v for v in pc.unique(sdk.drop_null()).to_pylist())
            rows = rows.filter(pc.is_null(sdk))
        if not rows.num_rows:
            return
        tenants = (
            rows.column("tenant_id").fill_null("")
            if "tenant_id" in rows.column_names
            else pa.array([""] * rows.num_rows, pa.string())
        )
        rows = pa.table(
            {"person_id": rows.column("person_id"), "tk": tenants, "ts": rows.column("timestamp")}
        )
        firsts = rows.group_by(["person_id", "tk"], use_threads=False).aggregate([("ts", "min")])
        for person, tenant, ts in zip(
            firsts.column("person_id").to_pylist(),
            firsts.column("tk").to_pylist(),
            firsts.column("ts_min").to_pylist(),
            strict=True,
        ):
            key = (person, tenant)
            if key not in self.persons:
                self.persons[key] = ts
            elif self.persons[key] is not None:
                self.persons[key] = min(self.persons[key], ts)


# --- upkeep ------------------------------------------------------------------------------------


def refresh(engine: Any, touched: Touched) -> None:
    """Bring `sessions` up to date after an append that `touched` describes."""
    if not touched or getattr(engine, "sessions_paused", False):
        return
    if engine.schema_version() < SESSIONS.since:  # not migrated yet: migrating builds them
        return
    with engine.transaction():
        if engine.dialect != "duckdb" or _many(engine, touched):
            rebuild(engine)
        else:
            _incremental(engine, touched)


def rebuild(engine: Any) -> None:
    """Derive every session again from all events."""
    with engine.transaction():
        engine.execute("TRUNCATE TABLE sessions")
        derive_into(engine, _SELECT_EVENTS)


@contextmanager
def paused(engine: Any) -> Iterator[None]:
    """No upkeep inside: the caller fills `sessions` itself (a copy) or rebuilds after."""
    before = getattr(engine, "sessions_paused", False)
    engine.sessions_paused = True
    try:
        yield
    finally:
        engine.sessions_paused = before


@contextmanager
def bulk(engine: Any) -> Iterator[None]:
    """For a bulk load: no upkeep per append, one full rebuild at the end."""
    with paused(engine):
        yield
    rebuild(engine)


def _many(engine: Any, touched: Touched) -> bool:
    if len(touched.persons) <= REBUILD_PERSONS:
        return False
    held = engine.execute("SELECT count(DISTINCT person_id) AS n FROM sessions").column(0)[0]
    return len(touched.persons) * 2 > (held.as_py() or 0)


def _incremental(engine: Any, touched: Touched) -> None:
    """DuckDB: delete and re-derive only what `touched` can have changed (set-based)."""
    persons = pa.table(
        {
            "person_id": pa.array([p for p, _ in touched.persons], pa.int64()),
            "tk": pa.array([t for _, t in touched.persons], pa.string()),
            "ts": pa.array(list(touched.persons.values()), _UTC),
            "merged": pa.array([t is None for t in touched.persons.values()], pa.bool_()),
        }
    )
    new_sdk = pa.table({"session_id": pa.array(sorted(touched.sdk), pa.string())})
    gone = pa.table({"person_id": pa.array(sorted(touched.gone), pa.int64())})
    with (
        engine.scratch(TOUCHED, persons),
        engine.scratch(NEW_SDK, new_sdk),
        engine.scratch(GONE, gone),
    ):
        # Each touched (person, tenant), person resolved, from the last visit start at or
        # before its earliest new event (NULL: from its first event). A merged person is
        # re-derived whole in every tenant (tk NULL).
        engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE {FROM} AS
            WITH t AS (
                SELECT coalesce(o.person_id, t.person_id) AS who, t.tk, t.ts, t.merged
                FROM {TOUCHED} t
                LEFT JOIN person_overrides o ON o.old_person_id = t.person_id
            ), m AS (
                SELECT who FROM t GROUP BY who HAVING bool_or(merged)
            ), w AS (
                SELECT who, tk, min(ts) AS t0 FROM t
                WHERE who NOT IN (SELECT who FROM m) GROUP BY who, tk
            )
            SELECT who, CAST(NULL AS VARCHAR) AS tk, TRUE AS merged,
                CAST(NULL AS TIMESTAMPTZ) AS from_ts
            FROM m
            UNION ALL
            SELECT w.who, w.tk, FALSE AS merged, max(s.visit_started_at) AS from_ts
            FROM w LEFT JOIN sessions s
                ON s.person_id = w.who AND coalesce(s.tenant_id, '') = w.tk
                AND s.visit_started_at IS NOT NULL AND s.started_at <= w.t0
            GROUP BY w.who, w.tk
        """)
        # SDK sessions: the new ids, and every one holding an event of a merged person
        # (its person is the least resolved one, which a merge can change).
        by_merge = (
            ""
            if not touched.gone
            else f"""
            UNION
            SELECT e.session_id FROM events e
            LEFT JOIN person_overrides o ON o.old_person_id = e.person_id
            WHERE e.session_id IS NOT NULL
                AND coalesce(o.person_id, e.person_id) IN (
                    SELECT who FROM {FROM} WHERE merged)"""
        )
        engine.execute(
            f"CREATE OR REPLACE TEMP TABLE {SDK} AS SELECT session_id FROM {NEW_SDK}{by_merge}"
        )
        engine.execute(f"""
            DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM {SDK})
            OR (visit_started_at IS NOT NULL AND person_id IN (SELECT person_id FROM {GONE}))
            OR (visit_started_at IS NOT NULL AND EXISTS (
                SELECT 1 FROM {FROM} f WHERE f.who = sessions.person_id
                AND (f.tk IS NULL OR f.tk = coalesce(sessions.tenant_id, ''))
                AND (f.from_ts IS NULL OR sessions.started_at >= f.from_ts)))
        """)
    lowest = engine.execute(
        f"SELECT bool_or(from_ts IS NULL) AS whole, min(from_ts) AS lowest FROM {FROM}"
    ).to_pylist()[0]
    since = None if lowest["whole"] is not False else lowest["lowest"]
    try:
        scope = _touched_scope(bounded=since is not None, sdk=bool(touched.sdk or touched.gone))
        derive_into(engine, scope, since)
    finally:
        engine.execute(f"DROP TABLE IF EXISTS {FROM}")
        engine.execute(f"DROP TABLE IF EXISTS {SDK}")


# --- derivation --------------------------------------------------------------------------------

_SELECT_EVENTS = """
SELECT e.timestamp AS ts, COALESCE(o.person_id, e.person_id) AS who, e.id, e.session_id,
    e.event, e.tenant_id, e.plan, e.country, e.channel, e.device, e.path, e.properties
FROM events AS e LEFT JOIN person_overrides AS o ON o.old_person_id = e.person_id
"""


def _touched_scope(*, bounded: bool, sdk: bool) -> str:
    """DuckDB: the events of touched persons from their visit start (all from `SINCE` when
    `bounded`: it lets the scan skip older row groups), and of touched SDK sessions (the
    temporary tables `_incremental` fills)."""
    bound = f" AND e.timestamp >= CAST('{SINCE}' AS TIMESTAMPTZ)" if bounded else ""
    sdk_part = f"UNION ALL {_SELECT_EVENTS} WHERE e.session_id IN (SELECT session_id FROM {SDK})"
    return f"""{_SELECT_EVENTS}
        JOIN {FROM} AS f ON f.who = COALESCE(o.person_id, e.person_id)
            AND (f.tk IS NULL OR f.tk = COALESCE(e.tenant_id, ''))
        WHERE e.session_id IS NULL AND (f.from_ts IS NULL OR e.timestamp >= f.from_ts){bound}
        {sdk_part if sdk else ""}"""
