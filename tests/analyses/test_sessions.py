"""The sessions analysis against a plain-Python reference (tests/analyses/reference_sessions.py)
on hand-built data (DST days in Paris, merges, tenants, breakdowns) and random logs, on both
engines; its SQL against golden files; an empty range."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.analyses.run import compile_analysis, parse
from sextant.errors import InvalidInput
from sextant.store.engines.duckdb import DuckDBEngine
from tests.analyses.reference_sessions import expected
from tests.catalog.builders import Data, Event, hand_built, load, utc

CASES = {
    "march_paris_by_tenant": {
        "from": "2024-03-01",
        "to": "2024-04-05",
        "timezone": "Europe/Paris",
        "breakdown": ["tenant"],
    },
    "october_dst_day_plan": {
        "from": "2024-10-20",
        "to": "2024-10-31",
        "timezone": "Europe/Paris",
        "breakdown": ["plan"],
    },
    "all_year_scoped": {"from": "2024-01-01", "to": "2024-11-10", "tenants": ["t1", "t3"]},
}


def check(result: dict, want: dict, body: dict) -> None:
    names = body.get("breakdown", [])
    got = {tuple(s[n] for n in names): s for s in result["slices"]}
    assert set(got) == set(want)
    for key, w in want.items():
        s = got[key]
        assert (s["sessions"], s["persons"], s["bounced"]) == (
            w["sessions"],
            w["persons"],
            w["bounced"],
        )
        for q in ("avg", "p50", "p95"):
            assert s["duration"][q] == pytest.approx(w[q], abs=1e-6)
        assert {b["bin"]: b["sessions"] for b in s["durations"]} == w["bins"]
        days = {p["bucket"]: p["sessions"] for p in s["series"] if p["sessions"]}
        if result["grain"] == "day":
            assert days == {d.isoformat(): n for d, n in w["days"].items()}
        per_person = {
            int(p["sessions"].rstrip("+")): p["persons"]
            for p in s["sessions_per_person"]["distribution"]
        }
        assert {k: v for k, v in per_person.items() if v} == {
            k: v for k, v in w["per_person"].items() if k < 10
        } | (
            {10: sum(v for k, v in w["per_person"].items() if k >= 10)}
            if any(k >= 10 for k in w["per_person"])
            else {}
        )
        top = {e["name"]: e["sessions"] for e in s["entry_events"]}
        assert top == dict(sorted(w["entry_events"].items(), key=lambda kv: (-kv[1], kv[0]))[:10])


@pytest.mark.parametrize("case", list(CASES))
def test_sessions_match_reference_when_data_is_hand_built(empty_store, analyze, case):
    data = hand_built()
    load(empty_store, data)
    body = CASES[case]
    result = analyze(empty_store, "sessions", body)
    check(result["result"], expected(data, body), body)


def test_series_fills_empty_days_with_zero_sessions_and_null_durations(empty_store, analyze):
    load(empty_store, hand_built())
    result = analyze(empty_store, "sessions", {"from": "2024-03-01", "to": "2024-03-31"})
    series = result["result"]["slices"][0]["series"]
    assert len(series) == 31
    empty = [p for p in series if p["sessions"] == 0]
    assert empty and all(p["avg"] is None and p["p95"] is None for p in empty)


def test_empty_range_is_marked_empty_with_a_message(empty_store, analyze):
    load(empty_store, hand_built())
    result = analyze(empty_store, "sessions", {"from": "2023-01-01", "to": "2023-01-31"})
    assert result["empty"] and result["result"]["slices"] == []
    assert result["message"].startswith("No sessions in range 2023-01-01..2023-01-31")


def test_breakdown_by_an_event_only_column_is_refused_with_a_stable_code(empty_store, analyze):
    with pytest.raises(InvalidInput) as err:
        analyze(
            empty_store,
            "sessions",
            {"from": "2024-03-01", "to": "2024-03-31", "breakdown": "event"},
        )
    assert (err.value.code, err.value.field) == ("sessions_breakdown_unavailable", "breakdown")


def test_engines_give_the_same_result_when_data_is_the_same(analyze, tmp_path):
    from sextant.store.engines.clickhouse import ClickHouseEngine

    data = hand_built()
    body = CASES["march_paris_by_tenant"] | {"grain": "week", "top": 3}
    with DuckDBEngine(tmp_path / "s.duckdb") as duck, ClickHouseEngine.embedded() as ch:
        load(duck, data)
        load(ch, data)
        a, b = (analyze(e, "sessions", body)["result"] for e in (duck, ch))
    assert _rounded(a) == _rounded(b)


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return round(value, 6) if isinstance(value, float) else value


@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
@pytest.mark.parametrize("case", list(CASES))
def test_sql_matches_golden_when_compiled(catalog, golden, case, dialect):
    analysis, query = parse("sessions", CASES[case], catalog, today=date(2024, 11, 15))
    _, sql = compile_analysis(analysis, catalog, query, dialect)
    text = "\n\n".join(f"-- {name}\n{body}" for name, body in sql.items()) + "\n"
    golden.check(f"analyses/sessions/{case}.{dialect}.sql", f"-- case: {case}\n{text}")


T0 = utc("2024-03-30 20:00")  # the Paris spring-forward night lies inside


@st.composite
def logs(draw):
    events, n = [], 0
    for person in draw(st.lists(st.sampled_from([1, 2, 3, 11]), min_size=1, max_size=4)):
        ts = T0 + timedelta(minutes=draw(st.integers(0, 600)))
        for step in draw(st.lists(st.sampled_from([0, 5, 29, 30, 31, 300, 1500]), max_size=10)):
            ts += timedelta(minutes=step)
            n += 1
            events.append(
                Event(
                    f"e{n:03d}",
                    draw(st.sampled_from(["$pageview", "clicked"])),
                    ts,
                    person,
                    draw(st.sampled_from(["t1", "t2"])),
                    session_id=draw(st.sampled_from([None, None, None, "S"])),
                )
            )
    return Data(events=events, overrides=draw(st.sampled_from([{}, {11: 1}])))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(logs())
def test_random_logs_match_reference(analyze, tmp_path_factory, data):
    body = {
        "from": "2024-03-30",
        "to": "2024-04-02",
        "timezone": "Europe/Paris",
        "breakdown": ["tenant"],
    }
    with DuckDBEngine(tmp_path_factory.mktemp("h") / "s.duckdb") as engine:
        if data.events:
            load(engine, data)
        result = analyze(engine, "sessions", body)["result"]
    check(result, expected(data, body), body)
