"""Identity merges: the rule table in `sextant/store/identity.py`, chains, conflicts, history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.identity import events_with_persons, merge, persons_for

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine():
    with DuckDBEngine(":memory:") as eng:
        yield eng


def person_of(engine, distinct_id: str) -> int:
    return persons_for(engine, [distinct_id], T0)[distinct_id]


def send(engine, distinct_id: str, event: str, at: datetime) -> None:
    """Store one event the way ingestion does: with the person its id has right now."""
    person = persons_for(engine, [distinct_id], at)[distinct_id]
    engine.append(
        "events",
        pa.table(
            {
                "id": [f"{distinct_id}-{event}-{at.isoformat()}"],
                "event": [event],
                "timestamp": pa.array([at], pa.timestamp("us", tz="UTC")),
                "distinct_id": [distinct_id],
                "person_id": pa.array([person], pa.int64()),
            }
        ),
    )


def events_per_person(engine) -> dict[int, int]:
    source = events_with_persons(["person_id"]).sql("duckdb")
    rows = engine.execute(f"SELECT person_id, count(*) AS n FROM ({source}) GROUP BY 1").to_pylist()
    return {r["person_id"]: r["n"] for r in rows}


def test_identify_links_anonymous_history_when_user_is_new(engine):
    send(engine, "anon-1", "$pageview", T0)
    send(engine, "anon-1", "$pageview", T0 + timedelta(minutes=1))
    result = merge(engine, "identify", "user-1", "anon-1", T0 + timedelta(minutes=2))
    send(engine, "user-1", "signed_up", T0 + timedelta(minutes=3))
    assert result.outcome == "linked"
    assert person_of(engine, "user-1") == person_of(engine, "anon-1") == result.person_id
    assert events_per_person(engine) == {result.person_id: 3}


def test_pre_merge_events_count_for_merged_person_when_both_had_history(engine):
    send(engine, "user-1", "login", T0)
    send(engine, "anon-2", "$pageview", T0 + timedelta(hours=1))
    anon_person = person_of(engine, "anon-2")
    result = merge(engine, "identify", "user-1", "anon-2", T0 + timedelta(hours=2))
    assert result.outcome == "merged"
    assert events_per_person(engine) == {result.person_id: 2}
    # History is not rewritten: the stored event still carries the old person id.
    stored = engine.execute("SELECT person_id FROM events WHERE distinct_id = 'anon-2'")
    assert stored.column(0).to_pylist() == [anon_person]
    assert engine.execute("SELECT count(*) FROM persons").column(0)[0].as_py() == 1


def test_chain_of_merges_resolves_to_final_person_when_anonymous_ids_alias(engine):
    for i, d in enumerate(["a", "b", "c"]):
        send(engine, d, "$pageview", T0 + timedelta(minutes=i))
    assert merge(engine, "alias", "b", "a", T0 + timedelta(hours=1)).outcome == "merged"
    assert merge(engine, "alias", "c", "b", T0 + timedelta(hours=2)).outcome == "merged"
    final = merge(engine, "identify", "user", "c", T0 + timedelta(hours=3))
    assert final.outcome == "linked"
    assert events_per_person(engine) == {final.person_id: 3}
    overrides = engine.execute("SELECT old_person_id, person_id FROM person_overrides").to_pylist()
    assert {r["person_id"] for r in overrides} == {final.person_id}  # flattened chain
    assert len(overrides) == 2


def test_two_identified_persons_are_never_merged_when_identify_conflicts(engine):
    merge(engine, "identify", "user-1", "anon", T0)
    send(engine, "anon", "$pageview", T0)
    result = merge(engine, "identify", "user-2", "anon", T0 + timedelta(days=1))
    assert result.outcome == "refused"
    assert "identified" in result.reason
    assert person_of(engine, "anon") == person_of(engine, "user-1")
    assert person_of(engine, "user-2") == result.person_id != person_of(engine, "user-1")
    log = (
        engine.execute("SELECT outcome FROM identity_merges ORDER BY merged_at")
        .column(0)
        .to_pylist()
    )
    assert log == ["created", "refused"]


def test_merge_of_two_identified_users_is_refused_when_both_exist(engine):
    merge(engine, "identify", "u1", "a1", T0)
    merge(engine, "identify", "u2", "a2", T0)
    result = merge(engine, "alias", "u1", "u2", T0 + timedelta(hours=1))
    assert result.outcome == "refused"
    assert person_of(engine, "u1") != person_of(engine, "u2")


def test_alias_joins_new_id_to_identified_user_when_identify_would_refuse(engine):
    merge(engine, "identify", "user", "anon", T0)
    send(engine, "new-device", "$pageview", T0)  # the new id already has an anonymous person
    alias = merge(engine, "alias", "new-device", "user", T0 + timedelta(hours=1))
    assert alias.outcome == "merged"
    assert alias.person_id == person_of(engine, "user") == person_of(engine, "new-device")
    linked = merge(engine, "alias", "phone", "user", T0 + timedelta(hours=2))
    assert (linked.outcome, linked.person_id) == ("linked", person_of(engine, "user"))
    refused = merge(engine, "identify", "laptop", "user", T0 + timedelta(hours=3))
    assert refused.outcome == "refused"


def test_repeated_identify_is_noop_when_already_merged(engine):
    first = merge(engine, "identify", "u", "a", T0)
    again = merge(engine, "identify", "u", "a", T0 + timedelta(seconds=1))
    same = merge(engine, "identify", "u", "u", T0 + timedelta(seconds=2))
    assert (first.outcome, again.outcome, same.outcome) == ("created", "noop", "noop")
    assert first.person_id == again.person_id == same.person_id


def test_merged_person_keeps_earliest_first_seen_and_survivor_properties(engine):
    send(engine, "anon", "$pageview", T0)
    send(engine, "user", "login", T0 + timedelta(days=2))
    engine.execute(
        'UPDATE persons SET properties = \'{"plan": "free", "utm": "ad"}\' WHERE person_id = ?',
        [person_of(engine, "anon")],
    )
    engine.execute(
        'UPDATE persons SET properties = \'{"plan": "plus"}\' WHERE person_id = ?',
        [person_of(engine, "user")],
    )
    result = merge(engine, "identify", "user", "anon", T0 + timedelta(days=3))
    row = engine.execute(
        "SELECT created_at, properties, is_identified FROM persons WHERE person_id = ?",
        [result.person_id],
    ).to_pylist()[0]
    assert row["created_at"] == T0
    assert row["is_identified"] is True
    assert json.loads(row["properties"]) == {"plan": "plus", "utm": "ad"}


# --- property: the store agrees with a plain-Python model of the rule table --------------


class Model:
    """The rule table of identity.py, written independently over dicts."""

    def __init__(self) -> None:
        self.owner: dict[str, int] = {}
        self.identified: dict[int, bool] = {}
        self.next = 1

    def new(self, identified: bool) -> int:
        p, self.next = self.next, self.next + 1
        self.identified[p] = identified
        return p

    def see(self, d: str) -> None:
        if d not in self.owner:
            self.owner[d] = self.new(False)

    def merge(self, kind: str, keep: str, other: str) -> str:
        ident = kind == "identify"
        if keep == other:
            self.see(keep)
            return "noop"
        pk, po = self.owner.get(keep), self.owner.get(other)
        if pk is None and po is None:
            p = self.new(ident)
            self.owner[keep] = self.owner[other] = p
            return "created"
        if pk is None:
            if ident and self.identified[po]:
                self.owner[keep] = self.new(ident)
                return "refused"
            self.owner[keep] = po
            self.identified[po] |= ident
            return "linked"
        if po is None:
            self.owner[other] = pk
            self.identified[pk] |= ident
            return "linked"
        if pk == po:
            self.identified[pk] |= ident
            return "noop"
        source, target = po, pk
        if self.identified[po]:
            if ident or self.identified[pk]:
                self.identified[pk] |= ident
                return "refused"
            source, target = pk, po  # an alias folds the anonymous person into the user
        self.identified[target] |= ident
        for d, p in self.owner.items():
            if p == source:
                self.owner[d] = target
        return "merged"

    def groups(self) -> set[frozenset[str]]:
        by: dict[int, set[str]] = {}
        for d, p in self.owner.items():
            by.setdefault(p, set()).add(d)
        return {frozenset(s) for s in by.values()}


IDS = st.sampled_from(["a", "b", "c", "d", "u1", "u2"])
STEP = st.one_of(
    st.tuples(st.just("event"), IDS, IDS),
    st.tuples(st.sampled_from(["identify", "alias"]), IDS, IDS),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=1, max_size=12))
def test_merges_match_reference_model_for_any_sequence(steps):
    model = Model()
    with DuckDBEngine(":memory:") as engine:
        at = T0
        for kind, a, b in steps:
            at += timedelta(minutes=1)
            if kind == "event":
                model.see(a)
                send(engine, a, "e", at)
            else:
                assert merge(engine, kind, a, b, at).outcome == model.merge(kind, a, b)
        rows = engine.execute("SELECT distinct_id, person_id FROM person_distinct_ids").to_pylist()
        groups: dict[int, set[str]] = {}
        for r in rows:
            groups.setdefault(r["person_id"], set()).add(r["distinct_id"])
        assert {frozenset(s) for s in groups.values()} == model.groups()
        # Every event counts for the person that holds its distinct id now.
        resolved = engine.execute(
            f"SELECT r.person_id, e.distinct_id FROM ({events_with_persons().sql('duckdb')}) r "
            "JOIN events e USING (id)"
        ).to_pylist()
        owner = {r["distinct_id"]: r["person_id"] for r in rows}
        assert all(r["person_id"] == owner[r["distinct_id"]] for r in resolved)
