"""Store accepted events: identity merges, persons, person and group updates, then the rows.

One call is one transaction, together with the journal position it covers, so a crash
leaves either all of it or none of it, and a replay finds exactly what is missing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pyarrow as pa

from sextant.ingest.model import Accepted
from sextant.store.engine import Engine
from sextant.store.identity import merge, persons_for
from sextant.store.schema import EVENTS

EVENT_SCHEMA = EVENTS.arrow_schema()


def store_events(engine: Engine, accepted: list[Accepted], *, lsn: int | None = None) -> int:
    """Write `accepted` in order; return how many event rows were new (not duplicates)."""
    with engine.transaction():
        first_seen: dict[str, int] = {}
        for a in accepted:
            d, t = a.row["distinct_id"], a.row["timestamp"]
            if t < first_seen.get(d, t + 1):
                first_seen[d] = t
        # Persons first, so each is first seen at its earliest event; merges then fold
        # them together (queries resolve stored person ids through the overrides).
        persons = persons_for(
            engine,
            first_seen,
            datetime.now(UTC),
            {d: _instant(t) for d, t in first_seen.items()},
        )
        merges = [a for a in accepted if a.merge]
        for a in merges:
            merge(engine, a.merge.kind, a.merge.keep, a.merge.other, _instant(a.row["timestamp"]))
        if merges:  # person updates must land on the persons that survived
            persons = persons_for(engine, first_seen, datetime.now(UTC))
        _update_persons(engine, accepted, persons)
        _update_groups(engine, accepted)
        stored = engine.append("events", _event_table(accepted, persons))
        if lsn is not None:
            engine.record_journal_lsn(lsn)
    return stored


def _event_table(accepted: list[Accepted], persons: dict[str, int]) -> pa.Table:
    """The events rows as Arrow, built column by column from the accepted rows."""
    rows = [a.row for a in accepted]
    columns = {
        name: [r.get(name) for r in rows] for name in EVENT_SCHEMA.names if name != "person_id"
    }
    columns["person_id"] = [persons[r["distinct_id"]] for r in rows]
    return pa.table(
        {f.name: pa.array(columns[f.name], f.type) for f in EVENT_SCHEMA},
        schema=EVENT_SCHEMA,
    )


def _update_persons(engine: Engine, accepted: list[Accepted], persons: dict[str, int]) -> None:
    """Fold $set (later wins) and $set_once (earlier wins, stored values win) per person."""
    sets: dict[int, dict] = {}
    once: dict[int, dict] = {}
    for a in accepted:
        person = persons[a.row["distinct_id"]]
        if a.person_set:
            sets.setdefault(person, {}).update(a.person_set)
        if a.person_set_once:
            once[person] = {**a.person_set_once, **once.get(person, {})}
    for person, props in once.items():
        engine.execute(
            "UPDATE persons SET properties = json_merge_patch(?, coalesce(properties, '{}')) "
            "WHERE person_id = ?",
            [orjson.dumps(props).decode(), person],
        )
    for person, props in sets.items():
        engine.execute(
            "UPDATE persons SET properties = json_merge_patch(coalesce(properties, '{}'), ?) "
            "WHERE person_id = ?",
            [orjson.dumps(props).decode(), person],
        )


def _update_groups(engine: Engine, accepted: list[Accepted]) -> None:
    """$groupidentify: a group is a tenant; its name, plan and country are promoted."""
    for a in accepted:
        if not a.group:
            continue
        props = a.group.properties
        key = a.group.group_key
        engine.append(
            "tenants",
            pa.table(
                {
                    "tenant_id": [key],
                    "created_at": pa.array(
                        [_instant(a.row["timestamp"])], pa.timestamp("us", tz="UTC")
                    ),
                }
            ),
        )
        engine.execute(
            """
            UPDATE tenants SET
                name = coalesce(?, name), plan = coalesce(?, plan),
                country = coalesce(?, country),
                properties = json_merge_patch(coalesce(properties, '{}'), ?)
            WHERE tenant_id = ?
            """,
            [
                _text(props.get("name")),
                _text(props.get("plan")),
                _text(props.get("country")),
                orjson.dumps({**props, "$group_type": a.group.group_type}).decode(),
                key,
            ],
        )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _instant(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)
