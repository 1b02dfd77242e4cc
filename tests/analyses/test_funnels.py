"""Funnels: the SEMANTICS case, the window edge, incomplete persons, exclusions, time to
convert, attribution, saved funnels, every error with its code and field, golden SQL."""

from __future__ import annotations

from datetime import date

import pytest

from sextant.analyses.funnels import saved_funnels
from sextant.analyses.run import compile_analysis, parse
from sextant.catalog import load_catalog
from sextant.errors import SextantError
from tests.catalog.builders import Data, Event, load, utc

RANGE = {"from": "2024-03-01", "to": "2024-03-31"}


def case_data() -> Data:
    """SEMANTICS case for person 1; person 2 converts at exactly the window's end; person 3
    meets an exclusion; person 4 starts late on the last day (window still open)."""
    return Data(
        events=[
            Event("a1", "A", utc("2024-03-05 13:00"), 1, "t1", country="FR"),
            Event("a2", "A", utc("2024-03-05 13:30"), 1, "t1", country="DE"),
            Event("a3", "B", utc("2024-03-05 13:45"), 1, "t1"),
            Event("a4", "C", utc("2024-03-05 14:15"), 1, "t1"),
            Event("b1", "A", utc("2024-03-10 08:00"), 2, "t2", country="DE"),
            Event("b2", "B", utc("2024-03-10 08:30"), 2, "t2", country="FR"),
            Event("b3", "C", utc("2024-03-10 09:00"), 2, "t2"),
            Event("c1", "A", utc("2024-03-12 08:00"), 3, "t1"),
            Event("c2", "X", utc("2024-03-12 08:10"), 3, "t1"),
            Event("c3", "B", utc("2024-03-12 08:20"), 3, "t1"),
            Event("d1", "A", utc("2024-03-31 23:30"), 4, "t2"),
        ]
    )


@pytest.fixture
def store(empty_store):
    load(empty_store, case_data())
    return empty_store


def steps_of(result: dict) -> list[int]:
    return [s["persons"] for s in result["result"]["total"]["steps"]]


def test_semantics_case_latest_and_first_entry(store, analyze):
    body = RANGE | {"steps": ["A", "B", "C"], "window": 3600, "tenants": ["t1"]}
    latest = analyze(store, "funnel", body)
    # Person 1 converts fully from the A at 13:30; person 3 reaches B.
    assert steps_of(latest) == [2, 2, 1]
    first = analyze(store, "funnel", body | {"entry": "first"})
    assert steps_of(first) == [2, 2, 0]  # from the A at 13:00 only B fits in the hour


def test_window_edge_is_inclusive(store, analyze):
    body = RANGE | {"steps": ["A", "B", "C"], "tenants": ["t2"], "window": 3600}
    assert steps_of(analyze(store, "funnel", body)) == [2, 1, 1]  # C exactly 1 h after A
    shorter = analyze(store, "funnel", body | {"window": 3599})
    assert steps_of(shorter) == [2, 1, 0]


def test_window_units(store, analyze):
    body = RANGE | {"steps": ["A", "B", "C"], "tenants": ["t2"]}
    result = analyze(store, "funnel", body | {"window": {"value": 1, "unit": "hours"}})
    assert result["result"]["window_seconds"] == 3600
    assert steps_of(result) == [2, 1, 1]


def test_incomplete_persons(store, analyze):
    body = RANGE | {"steps": ["A", "B", "C"], "window": 3600, "tenants": ["t2"]}
    open_ = analyze(store, "funnel", body, today=date(2024, 4, 1))["result"]["total"]
    assert open_["incomplete"] == 1  # person 4: A at 23:30 on the last day, window open
    assert open_["steps"][0]["incomplete"] == 1
    assert open_["steps"][0]["persons"] == 2  # still counted in their furthest step
    closed = analyze(store, "funnel", body, today=date(2024, 4, 2))["result"]["total"]
    assert closed["incomplete"] == 0


def test_exclusion_removes_the_person(store, analyze):
    body = RANGE | {"steps": ["A", "B"], "window": 3600, "tenants": ["t1"]}
    assert steps_of(analyze(store, "funnel", body)) == [2, 2]
    excluded = analyze(store, "funnel", body | {"exclusions": [{"event": "X"}]})
    assert steps_of(excluded) == [1, 1]
    assert excluded["result"]["total"]["excluded"] == 1


def test_breakdown_shows_no_bucket_when_its_only_person_is_excluded(empty_store, analyze):
    # Found by hypothesis in CI: the person's only attempts (A 21:00 -> A 19:00 two days
    # later is beyond the window; A 19:00 -> nothing) are voided by X at 19:20.
    at = [utc("2024-03-29 21:00")] * 2 + [utc("2024-03-31 19:00")]
    events = [Event(f"a{i}", "A", ts, 1, "t1") for i, ts in enumerate(at)]
    load(empty_store, Data([*events, Event("x", "X", utc("2024-03-31 19:20"), 1, "t1")]))
    body = {"from": "2024-03-30", "to": "2024-03-31", "timezone": "Europe/Paris",
            "steps": ["A", "A"], "window": 1200, "breakdown": ["country"],
            "exclusions": [{"event": "X", "between": [1, 2]}]}  # fmt: skip
    result = analyze(empty_store, "funnel", body, today=date(2024, 3, 31))["result"]
    assert result["total"]["excluded"] == 1 and result["breakdown"] == []
    assert [s["persons"] for s in result["total"]["steps"]] == [0, 0]


def test_time_to_convert(store, analyze):
    body = RANGE | {"steps": ["A", "B", "C"], "window": 3600}
    total = analyze(store, "funnel", body)["result"]["total"]
    # B: 15 min (person 1 from 13:30), 30 min (2), 20 min (3); C: 45 min, 60 min.
    b, c = total["steps"][1]["time_to_convert"], total["steps"][2]["time_to_convert"]
    assert b == {"mean": pytest.approx(1300.0), "median": 1200.0, "p95": pytest.approx(1740.0)}
    assert c == {"mean": 3150.0, "median": 3150.0, "p95": pytest.approx(3555.0)}
    assert total["steps"][2]["time_from_previous"]["mean"] == pytest.approx(1800.0)
    assert total["steps"][1]["step_conversion"] == pytest.approx(3 / 4)
    assert total["steps"][2]["conversion"] == pytest.approx(2 / 4)


def test_attribution(store, analyze):
    body = RANGE | {"steps": ["A", "B", "C"], "window": 3600, "breakdown": ["country"]}

    def buckets(attribution):
        result = analyze(store, "funnel", body | {"attribution": attribution})["result"]
        return {row["country"]: row["persons"] for row in result["breakdown"]}

    # Person 1's counted path starts at the A in DE; person 2's A is DE, its B FR.
    assert buckets("first_touch") == {"DE": 2, None: 2}
    assert buckets("last_touch") == {"DE": 1, "FR": 1, None: 2}
    assert buckets(2) == {"FR": 1, None: 3}


@pytest.mark.parametrize("steps", [["A", "B"], ["A", "A"]])
def test_equal_times_rank_as_attempts_do_the_latest_start_first(empty_store, analyze, steps):
    # Two step-1 events at one time: the counted attempt completes as early and starts
    # later in (timestamp, event id) order, so its value is the second one's (found by
    # hypothesis, tests/analyses/test_funnel_properties.py).
    at = utc("2024-03-05 13:00")
    load(
        empty_store,
        Data(
            events=[
                Event("a1", "A", at, 1, "t1"),
                Event("a2", "A", at, 1, "t1", country="FR"),
                Event("b9", "B", utc("2024-03-20 10:00"), 2, "t1"),  # names the steps may use
                Event("x9", "X", utc("2024-03-20 10:00"), 2, "t1"),
            ]
        ),
    )
    body = RANGE | {"steps": steps, "window": 3600, "breakdown": ["country"]}
    for entry_body in (body, body | {"exclusions": [{"event": "X", "between": [1, 2]}]}):
        result = analyze(empty_store, "funnel", entry_body)["result"]  # level and attempt forms
        assert [(r["country"], r["persons"]) for r in result["breakdown"]] == [("FR", 1)]


def test_trend_and_dropped_persons(store, analyze):
    body = RANGE | {"steps": ["A", "B", "C"], "window": 3600, "trend": True, "persons": True}
    result = analyze(store, "funnel", body)["result"]
    assert [t["period"] for t in result["trend"]] == [
        "2024-03-05",
        "2024-03-10",
        "2024-03-12",
        "2024-03-31",
    ]
    assert [t["converted"] for t in result["trend"]] == [1, 1, 0, 0]
    assert result["dropped_persons"] == [
        {"step": 1, "persons": [4], "truncated": False},
        {"step": 2, "persons": [3], "truncated": False},
    ]


def test_strict_and_any_order(store, analyze):
    body = RANGE | {"steps": ["A", "B"], "window": 3600, "tenants": ["t1"]}
    assert steps_of(analyze(store, "funnel", body | {"order": "strict"})) == [2, 1]
    reverse = body | {"steps": ["B", "A"]}
    assert steps_of(analyze(store, "funnel", reverse)) == [2, 0]
    assert steps_of(analyze(store, "funnel", reverse | {"order": "any"})) == [2, 2]


def test_step_filters(store, analyze):
    body = RANGE | {"window": 3600, "tenants": ["t1"]}
    steps = [{"event": "A", "where": ["country = 'DE'"]}, "B"]
    assert steps_of(analyze(store, "funnel", body | {"steps": steps})) == [1, 1]


def test_empty_range(store, analyze):
    result = analyze(
        store, "funnel", {"from": "2024-06-01", "to": "2024-06-30", "steps": ["A", "B"]}
    )
    assert result["empty"] is True
    assert result["result"]["total"]["persons"] == 0


def test_saved_funnels(empty_store, analyze, tmp_path):
    names = saved_funnels()
    assert {"activation", "signup_match_active", "journey", "checkout"} <= set(names)
    assert len(names["journey"]["steps"]) == 7
    (tmp_path / "funnels.yaml").write_text(
        "funnels:\n  - name: mine\n    label: Mine\n    steps: [A, B]\n    window: 3600\n"
    )
    catalog = load_catalog(tmp_path)
    assert "mine" in saved_funnels(catalog)
    load(empty_store, case_data())
    from sextant.analyses import run_analysis

    result = run_analysis(
        empty_store,
        catalog,
        "funnel",
        RANGE | {"saved": "mine", "tenants": ["t1"]},
        today=date(2024, 11, 15),
    ).as_dict()
    assert steps_of(result) == [2, 2]
    assert result["result"]["window_seconds"] == 3600


ERRORS = [
    ({"steps": ["A"]}, "funnel_needs_two_steps", "steps"),
    ({"steps": ["A", "B"] * 6}, "funnel_too_many_steps", "steps"),
    ({"steps": ["A", "B"], "window": 0}, "funnel_window_out_of_range", "window"),
    (
        {"steps": ["A", "B"], "window": {"value": 367, "unit": "day"}},
        "funnel_window_out_of_range",
        "window",
    ),
    ({"steps": ["A", "Bee"]}, "unknown_event", "steps.1.event"),
    ({"steps": ["A", "B"], "breakdown": ["nope"]}, "unknown_dimension", "breakdown"),
    (
        {"steps": ["A", "B"], "exclusions": [{"event": "X", "between": [2, 1]}]},
        "funnel_exclusion_invalid",
        "exclusions.0.between",
    ),
    (
        {"steps": ["A", "B"], "exclusions": [{"event": "B"}]},
        "funnel_exclusion_invalid",
        "exclusions.0",
    ),
    (
        {"steps": ["A", "B"], "order": "any", "exclusions": [{"event": "X"}]},
        "funnel_exclusion_invalid",
        "exclusions.0",
    ),
    ({"saved": "nope"}, "unknown_saved_funnel", "saved"),
    ({"steps": ["A", "B"], "attribution": 3}, "funnel_attribution_invalid", "attribution"),
    ({"steps": [{"event": "A", "where": ["nope = 1"]}, "B"]}, "unknown_dimension", "steps.0.where"),
]


@pytest.mark.parametrize(("body", "code", "field"), ERRORS)
def test_errors(store, analyze, body, code, field):
    with pytest.raises(SextantError) as caught:
        analyze(store, "funnel", RANGE | body)
    assert 400 <= caught.value.status < 500
    problem = next(p for p in caught.value.problems if p.code == code)
    assert problem.field == field
    assert problem.message


def test_every_problem_at_once(store, analyze):
    with pytest.raises(SextantError) as caught:
        analyze(store, "funnel", RANGE | {"steps": ["Nope"], "window": 0})
    codes = {p.code for p in caught.value.problems}
    assert {"funnel_needs_two_steps", "funnel_window_out_of_range", "unknown_event"} <= codes
    messages = {p.code: p.message for p in caught.value.problems}
    assert messages["funnel_needs_two_steps"] == "steps: a funnel needs at least 2 steps, got 1"
    assert messages["funnel_window_out_of_range"] == "window: 0 s is outside 1 second to 366 days"


GOLDEN = {
    "sequential": {"steps": ["signed_up", "page_created", "page_shared"]},
    "strict_first_entry": {
        "steps": ["signed_up", "page_created"],
        "order": "strict",
        "entry": "first",
    },
    "any_order": {"steps": ["page_edited", "page_edited", "page_shared"], "order": "any"},
    "exclusions_breakdown": {
        "steps": [
            {"event": "$pageview", "where": ["properties.path = '/pricing'"]},
            "signed_up",
            "page_created",
        ],
        "exclusions": [{"event": "page_shared", "between": [2, 3]}],
        "breakdown": ["country"],
        "attribution": "last_touch",
        "trend": True,
        "persons": True,
        "timezone": "Europe/Paris",
        "window": {"value": 7, "unit": "day"},
    },
}


@pytest.mark.parametrize("case", sorted(GOLDEN))
@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
def test_golden_sql(golden, catalog, case, dialect):
    analysis, query = parse("funnel", RANGE | GOLDEN[case], catalog, today=date(2024, 11, 15))
    _, sql = compile_analysis(analysis, catalog, query, dialect)
    text = "\n\n".join(f"-- {name}\n{statement}" for name, statement in sql.items()) + "\n"
    golden.check(f"analyses/funnel/{case}.{dialect}.sql", text)
