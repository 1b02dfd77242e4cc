"""Lifecycle: new, returning, resurrecting and dormant persons per period, on DuckDB and chdb,
against the plain-Python reference and the SEMANTICS case; refusals; golden SQL."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.errors import SextantError
from tests.analyses import reference_activity as ref
from tests.catalog.builders import PARIS, Data, Event, hand_built, load, local

MARCH = {"from": "2024-03-01", "to": "2024-04-06", "timezone": PARIS}
CASES = {
    "default": MARCH,
    "days_by_plan": MARCH | {"grain": "day", "breakdown": "plan"},
    "sunday_weeks_t1": MARCH | {"week_start": "sunday", "tenants": ["t1"]},
    "months_by_tenant": {"from": "2024-02-01", "to": "2024-10-31", "timezone": PARIS}
    | {"grain": "month", "breakdown": ["tenant"]},
    "event_signed_up": MARCH | {"event": "signed_up"},
    "fall_back_days": {"from": "2024-10-26", "to": "2024-10-28", "timezone": PARIS, "grain": "day"},
}


@pytest.mark.parametrize("case", CASES)
def test_statuses_match_reference_when_run_on_hand_built_data(store, analyze, case):
    body = dict(CASES[case])
    result = analyze(store, "lifecycle", body)["result"]
    assert result["slices"] == ref.lifecycle(hand_built(), body)
    assert result["empty"] is False


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
def test_sql_matches_golden_file_when_compiled(case, dialect, golden):
    text = ref.golden_sql("lifecycle", case, CASES[case], dialect)
    golden.check(f"analyses/lifecycle/{case}.{dialect}.sql", text)


def week(start: str, new=0, returning=0, resurrecting=0, dormant=0) -> dict:
    return {
        "period": start,
        "new": new,
        "returning": returning,
        "resurrecting": resurrecting,
        "dormant": dormant,
    }


def test_semantics_weekly_case_when_active_in_weeks_one_two_and_four(empty_store, analyze):
    # SEMANTICS: active in w1 (first ever), w2, w4 -> w1 new, w2 returning, w3 dormant (-1),
    # w4 resurrecting, w5 dormant. The week-2 event is sent under an id merged into person 1.
    events = [
        Event("a", "$pageview", local("2024-01-01 00:30"), 1, "t1"),
        Event("b", "search_performed", local("2024-01-14 23:30"), 11, "t1"),
        Event("c", "$pageleave", local("2024-01-16 10:00"), 1, "t1"),  # not activity
        Event("d", "page_edited", local("2024-01-24 10:00"), 1, "t1"),
    ]
    load(empty_store, Data(events, {}, {11: 1}))
    body = {"from": "2024-01-01", "to": "2024-02-04", "timezone": PARIS}
    result = analyze(empty_store, "lifecycle", body)["result"]
    assert result["slices"] == [
        {
            "periods": [
                week("2024-01-01", new=1),
                week("2024-01-08", returning=1),
                week("2024-01-15", dormant=-1),
                week("2024-01-22", resurrecting=1),
                week("2024-01-29", dormant=-1),
            ]
        }
    ]


def test_person_seen_before_the_range_is_not_new_when_back_after_a_gap(empty_store, analyze):
    events = [
        Event("a", "$pageview", local("2023-06-01 10:00"), 1),
        Event("b", "$pageview", local("2024-01-03 10:00"), 1),
        Event("c", "$pageview", local("2024-01-03 10:00"), 2),
        Event("d", "$pageview", local("2023-12-28 10:00"), 3),  # the week before the range
    ]
    load(empty_store, Data(events))
    body = {"from": "2024-01-01", "to": "2024-01-07", "timezone": PARIS}
    result = analyze(empty_store, "lifecycle", body)["result"]
    assert result["slices"] == [
        {"periods": [week("2024-01-01", new=1, resurrecting=1, dormant=-1)]}
    ]


def test_first_partial_week_is_the_whole_calendar_week_when_range_starts_midweek(
    empty_store, analyze
):
    events = [Event("a", "$pageview", local("2024-01-02 10:00"), 1)]
    load(empty_store, Data(events))
    body = {"from": "2024-01-04", "to": "2024-01-10", "timezone": PARIS}
    result = analyze(empty_store, "lifecycle", body)["result"]
    assert result["slices"] == [
        {"periods": [week("2024-01-01", new=1), week("2024-01-08", dormant=-1)]}
    ]


def test_result_is_empty_when_the_range_holds_no_activity(store, analyze):
    answer = analyze(store, "lifecycle", {"from": "2024-06-03", "to": "2024-06-30"})
    assert answer["result"]["empty"] is True
    assert answer["message"].startswith("No active persons in range 2024-06-03..2024-06-30")


def refused(store, analyze, body) -> SextantError:
    with pytest.raises(SextantError) as info:
        analyze(store, "lifecycle", body)
    return info.value


def test_unknown_event_is_refused(store, analyze):
    error = refused(store, analyze, MARCH | {"event": "sign_up"})
    assert (error.status, error.code, error.field) == (400, "unknown_event", "event")
    assert error.message == (
        "event: no event named 'sign_up' has been stored; did you mean 'signed_up'?"
    )


def test_unknown_breakdown_is_refused_on_the_breakdown_field(store, analyze):
    error = refused(store, analyze, MARCH | {"breakdown": "contry"})
    assert (error.status, error.code, error.field) == (400, "unknown_dimension", "breakdown")
    assert error.message.startswith("breakdown: unknown dimension 'contry'; did you mean")


def test_hour_grain_is_refused(store, analyze):
    error = refused(store, analyze, MARCH | {"grain": "hour"})
    assert (error.status, error.code, error.field) == (400, "query_invalid", "grain")
    assert "Input should be 'day', 'week' or 'month'" in error.message


# --- random logs: engines and reference agree --------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=ref.small_logs(),
    grain=st.sampled_from(["day", "week", "month"]),
    breakdown=st.sampled_from([[], ["plan"], ["tenant"]]),
    week_start=st.sampled_from(["monday", "sunday"]),
    tenants=st.sampled_from([None, ["t2"]]),
    start=st.sampled_from(["2024-03-10", "2024-03-28", "2024-04-01"]),
)
def test_engines_and_reference_agree_when_logs_are_random(
    stores, analyze, data, grain, breakdown, week_start, tenants, start
):
    body = {
        "from": start,
        "to": "2024-04-14",
        "timezone": PARIS,
        "grain": grain,
        "breakdown": breakdown,
        "week_start": week_start,
        "tenants": tenants,
    }
    want = ref.lifecycle(data, body)
    for engine in stores:
        ref.reload(engine, data)
        result = analyze(engine, "lifecycle", body)["result"]
        assert result["slices"] == want, engine.dialect
