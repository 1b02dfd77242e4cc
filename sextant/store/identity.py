"""Identity: which person each distinct id belongs to, and identify/alias merges.

Events keep the person id they were stored with (history is not rewritten). A merge
records `old person -> surviving person` in `person_overrides`, flattened so every old id
points at the final survivor, and queries resolve through that small map; so events sent
before a merge count for the merged person everywhere.

Merge rules for `merge(kind, keep, other)` (identify: keep = user id, other = the prior
anonymous id; alias: keep = the id that stays canonical, other = the id joining it;
Segment's alias is keep = userId, other = previousId). P(x) is the person holding id x:

=========================================  ==========================================
case                                       outcome
=========================================  ==========================================
keep == other                              noop
neither id known                           created: one new person holds both
only keep known                            linked: other joins P(keep)
only other known, P(other) anonymous       linked: keep joins P(other)
only other known, P(other) identified      identify: refused, keep gets a new person
                                           (a second user on a shared device is not
                                           merged); alias: linked, keep joins P(other)
P(keep) == P(other)                        noop
P(other) anonymous                         merged: P(other) is merged into P(keep)
P(other) identified, P(keep) anonymous     alias: merged, P(keep) into P(other) (an
                                           alias asserts the two ids are one user);
                                           identify: refused
both identified                            refused: two identified persons are never
                                           merged (PostHog's rule)
=========================================  ==========================================

`identify` marks the surviving person identified; `alias` leaves the flag as it is, so an
anonymous chain (alias B<-A, alias C<-B, identify U<-C) ends in one person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pyarrow as pa
from sqlglot import exp

from sextant.store import sessions
from sextant.store.engine import Engine, scalar
from sextant.store.schema import EVENTS, PERSON_DISTINCT_IDS, PERSONS

Kind = Literal["identify", "alias"]
Outcome = Literal["created", "linked", "merged", "noop", "refused"]


@dataclass(frozen=True)
class MergeResult:
    outcome: Outcome
    person_id: int  # the person that now holds `keep`
    reason: str | None = None


def resolved_person_id(events: str = "e", overrides: str = "o") -> exp.Expression:
    """`coalesce(o.person_id, e.person_id)`: the person an event counts for today."""
    return exp.func(
        "COALESCE",
        exp.column("person_id", table=overrides),
        exp.column("person_id", table=events),
    )


def events_with_persons(columns: Iterable[str] | None = None) -> exp.Select:
    """Events with `person_id` resolved through the merges, as a select to use as a source.

    >>> print(events_with_persons(["event", "person_id"]).sql("duckdb", pretty=True))
    SELECT
      e.event,
      COALESCE(o.person_id, e.person_id) AS person_id
    FROM events AS e
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = e.person_id
    """
    names = list(columns) if columns is not None else [c.name for c in EVENTS.columns]
    return (
        exp.select(
            *(
                exp.alias_(resolved_person_id(), "person_id")
                if name == "person_id"
                else exp.column(name, table="e")
                for name in names
            )
        )
        .from_(exp.to_table("events").as_("e"))
        .join(
            exp.to_table("person_overrides").as_("o"),
            on="o.old_person_id = e.person_id",
            join_type="left",
        )
    )


def persons_for(
    engine: Engine,
    distinct_ids: Iterable[str],
    at: datetime,
    first_seen: Mapping[str, datetime] | None = None,
) -> dict[str, int]:
    """The person of each distinct id, creating anonymous persons for unknown ids.

    A new person is first seen at `first_seen[id]` when given, else at `at`.
    """
    wanted = sorted(set(distinct_ids))
    if not wanted:
        return {}
    with engine.transaction():
        known = _lookup(engine, wanted)
        missing = [d for d in wanted if d not in known]
        if missing:
            first = _next_person_id(engine)
            new = {d: first + i for i, d in enumerate(missing)}
            seen = [first_seen.get(d, at) if first_seen else at for d in missing]
            _create_persons(engine, list(new.values()), seen, identified=False)
            _map(engine, new, at)
            known.update(new)
    return known


def merge(engine: Engine, kind: Kind, keep: str, other: str, at: datetime) -> MergeResult:
    """Apply one identify or alias request; log it; return what it did (see the table above)."""
    with engine.transaction():
        result = _decide_and_apply(engine, kind, keep, other, at)
        engine.append(
            "identity_merges",
            pa.table(
                {
                    "merged_at": pa.array([at], pa.timestamp("us", tz="UTC")),
                    "kind": [kind],
                    "distinct_id": [keep],
                    "other_id": [other],
                    "outcome": [result.outcome],
                    "reason": [result.reason],
                }
            ),
            dedupe=False,
        )
    return result


def _decide_and_apply(
    engine: Engine, kind: Kind, keep: str, other: str, at: datetime
) -> MergeResult:
    identify = kind == "identify"
    if keep == other:
        person = persons_for(engine, [keep], at)[keep]
        return MergeResult("noop", person, "the two ids are the same")
    known = _lookup(engine, [keep, other])
    p_keep, p_other = known.get(keep), known.get(other)

    if p_keep is None and p_other is None:
        person = _next_person_id(engine)
        _create_persons(engine, [person], at, identified=identify)
        _map(engine, {keep: person, other: person}, at)
        return MergeResult("created", person)
    if p_keep is None:
        if identify and _is_identified(engine, p_other):
            person = _next_person_id(engine)
            _create_persons(engine, [person], at, identified=identify)
            _map(engine, {keep: person}, at)
            return MergeResult("refused", person, f"{other!r} belongs to an identified person")
        _map(engine, {keep: p_other}, at)
        _mark_identified(engine, p_other, identify)
        return MergeResult("linked", p_other)
    if p_other is None:
        _map(engine, {other: p_keep}, at)
        _mark_identified(engine, p_keep, identify)
        return MergeResult("linked", p_keep)
    if p_keep == p_other:
        _mark_identified(engine, p_keep, identify)
        return MergeResult("noop", p_keep, "already the same person")
    if _is_identified(engine, p_other):
        if not identify and not _is_identified(engine, p_keep):
            _merge_persons(engine, source=p_keep, target=p_other, at=at)
            return MergeResult("merged", p_other)
        _mark_identified(engine, p_keep, identify)
        reason = (
            f"{keep!r} and {other!r} belong to two identified persons"
            if _is_identified(engine, p_keep)
            else f"{other!r} belongs to an identified person; identify never merges it"
        )
        return MergeResult("refused", p_keep, reason)
    _merge_persons(engine, source=p_other, target=p_keep, at=at)
    _mark_identified(engine, p_keep, identify)
    return MergeResult("merged", p_keep)


def _lookup(engine: Engine, distinct_ids: list[str]) -> dict[str, int]:
    rows = engine.execute(
        "SELECT p.distinct_id, p.person_id FROM person_distinct_ids p "
        "JOIN (SELECT unnest(?::VARCHAR[]) AS distinct_id) q USING (distinct_id)",
        [distinct_ids],
    ).to_pylist()
    return {r["distinct_id"]: r["person_id"] for r in rows}


def _next_person_id(engine: Engine) -> int:
    return scalar(
        engine,
        "SELECT greatest("
        "(SELECT coalesce(max(person_id), 0) FROM persons),"
        "(SELECT coalesce(max(person_id), 0) FROM person_distinct_ids),"
        "(SELECT coalesce(max(old_person_id), 0) FROM person_overrides)) + 1",
    )


def _create_persons(
    engine: Engine, ids: list[int], at: datetime | list[datetime], *, identified: bool
) -> None:
    ts = pa.array(at if isinstance(at, list) else [at] * len(ids), pa.timestamp("us", tz="UTC"))
    engine.append(
        PERSONS.name,
        pa.table(
            {
                "person_id": pa.array(ids, pa.int64()),
                "created_at": ts,
                "is_identified": [identified] * len(ids),
                "properties": ["{}"] * len(ids),
            }
        ),
    )


def _map(engine: Engine, mapping: dict[str, int], at: datetime) -> None:
    engine.append(
        PERSON_DISTINCT_IDS.name,
        pa.table(
            {
                "distinct_id": list(mapping),
                "person_id": pa.array(list(mapping.values()), pa.int64()),
                "updated_at": pa.array([at] * len(mapping), pa.timestamp("us", tz="UTC")),
            }
        ),
    )


def _is_identified(engine: Engine, person: int) -> bool:
    return bool(
        scalar(
            engine,
            "SELECT coalesce(is_identified, false) FROM persons WHERE person_id = ?",
            [person],
        )
    )


def _mark_identified(engine: Engine, person: int, identify: bool) -> None:
    if identify:
        engine.execute("UPDATE persons SET is_identified = true WHERE person_id = ?", [person])


def _merge_persons(engine: Engine, *, source: int, target: int, at: datetime) -> None:
    """Move every distinct id and override of `source` to `target`, then fold the rows."""
    engine.execute(
        "UPDATE person_distinct_ids SET person_id = ?, updated_at = ? WHERE person_id = ?",
        [target, at, source],
    )
    engine.execute(
        "UPDATE person_overrides SET person_id = ? WHERE person_id = ?", [target, source]
    )
    engine.execute("INSERT INTO person_overrides VALUES (?, ?, ?)", [source, target, at])
    # The survivor keeps its own values; the merged person fills what it lacks.
    engine.execute(
        """
        UPDATE persons AS t SET
            created_at = least(t.created_at, s.created_at),
            tenant_id = coalesce(t.tenant_id, s.tenant_id),
            segment = coalesce(t.segment, s.segment),
            plan = coalesce(t.plan, s.plan),
            country = coalesce(t.country, s.country),
            channel = coalesce(t.channel, s.channel),
            properties = json_merge_patch(
                coalesce(s.properties, '{}'), coalesce(t.properties, '{}'))
        FROM persons AS s
        WHERE t.person_id = ? AND s.person_id = ?
        """,
        [target, source],
    )
    engine.execute("DELETE FROM persons WHERE person_id = ?", [source])
    touched = sessions.Touched()
    touched.merged(source, target)
    sessions.refresh(engine, touched)
