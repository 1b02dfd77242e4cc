"""The stored sessions table: kept up to date batch by batch (late events and merges
included) it equals a from-scratch build and a plain-Python reference of SEMANTICS."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.ingest.model import Accepted, Merge
from sextant.ingest.writer import store_events
from sextant.store import sessions
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.identity import merge

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
GAP, LONGEST = timedelta(minutes=30), timedelta(hours=24)
COLUMNS = "session_id, person_id, started_at, ended_at, duration_seconds, events, pageviews, "
COLUMNS += "tenant_id, path, entry_event, exit_event, exit_path"


def events_table(rows: list[dict]) -> pa.Table:
    return pa.table(
        {
            "id": [r["id"] for r in rows],
            "event": [r["event"] for r in rows],
            "timestamp": pa.array([r["ts"] for r in rows], pa.timestamp("us", tz="UTC")),
            "distinct_id": [str(r["person"]) for r in rows],
            "person_id": pa.array([r["person"] for r in rows], pa.int64()),
            "session_id": pa.array([r.get("sdk") for r in rows], pa.string()),
            "tenant_id": [r.get("tenant", "t1") for r in rows],
            "path": [r.get("path", "/" + r["id"]) for r in rows],
        }
    )


def overrides_table(pairs: list[tuple[int, int]]) -> pa.Table:
    return pa.table(
        {
            "old_person_id": pa.array([p[0] for p in pairs], pa.int64()),
            "person_id": pa.array([p[1] for p in pairs], pa.int64()),
            "merged_at": pa.array([T0] * len(pairs), pa.timestamp("us", tz="UTC")),
        }
    )


def reference(rows: list[dict], overrides: dict[int, int]) -> set[tuple]:
    """SEMANTICS: Sessions, read plainly, per tenant: SDK ids win; else a gap over 30 min or
    a session that has lasted 24 h starts a new one."""
    who = lambda p: overrides.get(p, p)  # noqa: E731
    groups: list[tuple[str, list[dict]]] = []
    by_sdk, by_person = defaultdict(list), defaultdict(list)
    for r in rows:
        tenant = r.get("tenant", "t1")
        if r.get("sdk"):
            by_sdk[(r["sdk"], tenant)].append(r)
        else:
            by_person[(who(r["person"]), tenant)].append(r)
    for (sdk, _), evs in by_sdk.items():
        groups.append((sdk, sorted(evs, key=lambda r: (r["ts"], r["id"]))))
    for (person, tenant), evs in by_person.items():
        current: list[dict] = []
        for r in sorted(evs, key=lambda r: (r["ts"], r["id"])):
            if current and (
                r["ts"] - current[-1]["ts"] > GAP or r["ts"] - current[0]["ts"] >= LONGEST
            ):
                groups.append((f"s:{person}:{tenant or ''}:{_us(current[0]['ts'])}", current))
                current = []
            current.append(r)
        groups.append((f"s:{person}:{tenant or ''}:{_us(current[0]['ts'])}", current))
    out = set()
    for key, evs in groups:
        first, last = evs[0], evs[-1]
        out.add(
            (
                key,
                min(who(r["person"]) for r in evs),
                first["ts"],
                last["ts"],
                (last["ts"] - first["ts"]).total_seconds(),
                len(evs),
                sum(r["event"] == "$pageview" for r in evs),
                first.get("tenant", "t1"),
                first.get("path", "/" + first["id"]),
                first["event"],
                last["event"],
                last.get("path", "/" + last["id"]),
            )
        )
    return out


def _us(ts: datetime) -> int:
    return (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def stored(engine) -> set[tuple]:
    table = engine.execute(f"SELECT {COLUMNS} FROM sessions")
    out = set()
    for row in table.to_pylist():
        values = list(row.values())
        values[2], values[3] = values[2].astimezone(UTC), values[3].astimezone(UTC)
        out.add(tuple(values))
    return out


def rebuilt(engine) -> set[tuple]:
    sessions.rebuild(engine)
    return stored(engine)


# --- hand-written cases ----------------------------------------------------------------------


def at(hhmm: str, day: int = 1) -> datetime:
    h, m = hhmm.split(":")
    return datetime(2024, 3, day, int(h), int(m), tzinfo=UTC)


def pageviews(person: int, *times: datetime, prefix: str = "e") -> list[dict]:
    return [
        {"id": f"{prefix}{i}", "event": "$pageview", "ts": t, "person": person}
        for i, t in enumerate(times)
    ]


@pytest.fixture(params=["duckdb", "chdb"])
def engine(request):
    eng = DuckDBEngine(":memory:") if request.param == "duckdb" else ClickHouseEngine.embedded()
    yield eng
    eng.close()


def durations(engine) -> list[float]:
    table = engine.execute("SELECT duration_seconds FROM sessions ORDER BY started_at")
    return table.column(0).to_pylist()


def test_semantics_case_gives_10_and_35_minutes_when_a_40_minute_gap_splits(engine):
    times = [at("13:00"), at("13:10"), at("13:50"), at("14:10"), at("14:25")]
    engine.append("events", events_table(pageviews(1, *times)))
    assert durations(engine) == [600.0, 2100.0]


def test_exactly_30_minutes_continues_the_session_when_one_second_more_splits(engine):
    rows = pageviews(1, at("10:00"), at("10:30"), at("11:00") + timedelta(seconds=1))
    engine.append("events", events_table(rows))
    assert durations(engine) == [1800.0, 0.0]


def test_late_event_bridging_a_gap_merges_two_sessions_when_it_arrives_after(engine):
    engine.append("events", events_table(pageviews(1, at("10:00"), at("10:50"))))
    assert len(durations(engine)) == 2
    engine.append("events", events_table(pageviews(1, at("10:25"), prefix="late")))
    assert durations(engine) == [3000.0]


def test_long_visit_restarts_at_24_hours_of_the_current_session_when_batches_arrive(engine):
    steps = [T0 + timedelta(minutes=29 * i) for i in range(160)]  # 77 h without a 30-min gap
    rows = pageviews(1, *steps)
    for part in (rows[100:], rows[:50], rows[50:100]):  # late batches too
        engine.append("events", events_table(part))
    assert stored(engine) == reference(rows, {}) == rebuilt(engine)
    assert len(stored(engine)) == 4


def test_merge_moves_sessions_to_the_survivor_when_overrides_are_appended(engine):
    rows = pageviews(1, at("10:00")) + pageviews(11, at("10:20"), prefix="x")
    rows += [{"id": "s1", "event": "clicked", "ts": at("12:00"), "person": 11, "sdk": "S"}]
    engine.append("events", events_table(rows))
    assert len(stored(engine)) == 3
    engine.append("person_overrides", overrides_table([(11, 1)]))
    assert stored(engine) == reference(rows, {11: 1}) == rebuilt(engine)
    assert {s[1] for s in stored(engine)} == {1}


def test_identity_merge_rederives_the_survivor_when_anonymous_history_is_merged(tmp_path):
    with DuckDBEngine(tmp_path / "s.duckdb") as engine:
        persons = {}
        from sextant.store.identity import persons_for

        persons = persons_for(engine, ["anon", "user"], T0)
        rows = pageviews(persons["anon"], at("10:00")) + pageviews(
            persons["user"], at("10:20"), prefix="u"
        )
        engine.append("events", events_table(rows))
        assert len(stored(engine)) == 2
        merge(engine, "identify", "user", "anon", at("10:30"))
        (only,) = stored(engine)
        assert only[5] == 2 and only[4] == 1200.0
        assert stored(engine) == rebuilt(engine)


def test_capture_through_the_writer_updates_sessions_when_events_are_stored(tmp_path):
    def accepted(i: int, minute: int, distinct: str, **extra) -> Accepted:
        micros = _us(T0 + timedelta(minutes=minute))
        row = {
            "id": f"ev-{i}",
            "event": "$pageview",
            "timestamp": micros,
            "received_at": micros,
            "distinct_id": distinct,
            "source": "test",
            "properties": "{}",
        }
        return Accepted(i, row, **extra)

    with DuckDBEngine(tmp_path / "s.duckdb") as engine:
        store_events(engine, [accepted(1, 0, "anon"), accepted(2, 5, "anon")])
        assert durations(engine) == [300.0]
        merged = Merge("identify", "user", "anon")
        store_events(engine, [accepted(3, 10, "user", merge=merged), accepted(4, 90, "user")])
        assert durations(engine) == [600.0, 0.0]
        assert engine.execute("SELECT DISTINCT person_id FROM sessions").num_rows == 1
        assert stored(engine) == rebuilt(engine)


def test_generate_builds_sessions_once_when_loading_in_bulk(tmp_path):
    from sextant.synth.config import SynthConfig
    from sextant.synth.dataset import generate

    cfg = SynthConfig(users=200, events=3000)
    with DuckDBEngine(tmp_path / "s.duckdb") as engine:
        generate(engine, cfg)
        built = stored(engine)
        assert len(built) > 100
        assert built == rebuilt(engine)


# --- property: any arrival order gives the from-scratch sessions ------------------------------

STEPS = [0, 0, 60, 1740, 1800, 1801, 7200, 90_000]


@st.composite
def logs(draw):
    rows, n = [], 0
    for person in draw(st.lists(st.sampled_from([1, 2, 3, 11, 12]), min_size=1, max_size=4)):
        dense = draw(st.booleans())
        steps = draw(
            st.lists(
                st.sampled_from([0, 1000, 1799, 1800] if dense else STEPS),
                min_size=1,
                max_size=60 if dense else 12,
            )
        )
        ts = T0 + timedelta(seconds=draw(st.integers(0, 5000)))
        for step in steps:
            ts += timedelta(seconds=step)
            n += 1
            rows.append(
                {
                    "id": f"e{n:03d}",
                    "event": draw(st.sampled_from(["$pageview", "clicked"])),
                    "ts": ts,
                    "person": person,
                    "sdk": draw(st.sampled_from([None, None, None, None, "A", "B"])),
                    "tenant": draw(st.sampled_from(["t1", "t2", None])),
                }
            )
    order = draw(st.permutations(rows))
    cuts = sorted(draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]
    merges = draw(
        st.lists(st.sampled_from([(11, 1), (12, 2), (12, 3)]), max_size=2, unique_by=lambda m: m[0])
    )
    places = [draw(st.integers(0, len(batches))) for _ in merges]
    return rows, batches, list(zip(places, merges, strict=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_incremental_sessions_equal_a_rebuild_and_the_reference_for_any_arrival(log):
    rows, batches, merges = log
    with DuckDBEngine(":memory:") as engine:
        for i, batch in enumerate([*batches, []]):
            for place, pair in merges:
                if place == i:
                    engine.append("person_overrides", overrides_table([pair]))
            if batch:
                engine.append("events", events_table(batch))
        expected = reference(rows, dict(m for _, m in merges))
        assert stored(engine) == expected
        assert rebuilt(engine) == expected


def test_clickhouse_rebuild_equals_duckdb_upkeep_when_given_the_same_log():
    rows = []
    for person in (1, 2, 11):
        ts = T0
        for i, step in enumerate([0, 1799, 1801, 0, 60, 7200, 1800] * 12):
            ts += timedelta(seconds=step)
            sdk = "A" if (i % 11 == 3) else None
            rows.append(
                {
                    "id": f"p{person}-{i:03d}",
                    "event": "clicked",
                    "ts": ts,
                    "person": person,
                    "sdk": sdk,
                }
            )
    with DuckDBEngine(":memory:") as duck, ClickHouseEngine.embedded() as ch:
        for engine in (duck, ch):
            engine.append("events", events_table(rows[::2]))
            engine.append("events", events_table(rows[1::2]))
            engine.append("person_overrides", overrides_table([(11, 2)]))
        assert stored(duck) == stored(ch) == reference(rows, {11: 2})
