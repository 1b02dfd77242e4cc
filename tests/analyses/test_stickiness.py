"""Stickiness: the histogram of distinct active days (or weeks) per person, on DuckDB and chdb,
against the plain-Python reference; refusals; golden SQL."""

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
    "weeks_sunday_by_plan": MARCH | {"unit": "week", "week_start": "sunday", "breakdown": "plan"},
    "cumulative_t2": MARCH | {"cumulative": True, "tenants": ["t2"]},
    "event_by_tenant_country": MARCH | {"event": "page_edited", "breakdown": ["tenant", "country"]},
    "fall_back": {"from": "2024-10-26", "to": "2024-10-28", "timezone": PARIS},
}


@pytest.mark.parametrize("case", CASES)
def test_histogram_matches_reference_when_run_on_hand_built_data(store, analyze, case):
    body = dict(CASES[case])
    result = analyze(store, "stickiness", body)["result"]
    assert result["slices"] == ref.stickiness(hand_built(), body)
    assert result["empty"] is False


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
def test_sql_matches_golden_file_when_compiled(case, dialect, golden):
    text = ref.golden_sql("stickiness", case, CASES[case], dialect)
    golden.check(f"analyses/stickiness/{case}.{dialect}.sql", text)


def test_power_user_counts_eighteen_days_when_active_every_day(store, analyze):
    body = {"from": "2024-03-03", "to": "2024-03-20", "timezone": PARIS}
    result = analyze(store, "stickiness", body)["result"]
    bars = result["slices"][0]["bars"]
    assert result["periods_in_range"] == 18
    assert bars[17] == {"periods": 18, "persons": 1, "share": 1 / result["slices"][0]["persons"]}


def test_dst_day_counts_once_when_events_fall_on_both_sides_of_the_change(empty_store, analyze):
    # Paris, 2024-03-31: 00:30 (UTC+1) and 23:30 (UTC+2) are the same local day.
    events = [
        Event("a", "$pageview", local("2024-03-31 00:30"), 1),
        Event("b", "$pageview", local("2024-03-31 23:30"), 1),
        Event("c", "$pageview", local("2024-04-01 00:30"), 2),
        Event("d", "$pageview", local("2024-03-30 23:30"), 2),
    ]
    load(empty_store, Data(events))
    body = {"from": "2024-03-30", "to": "2024-04-01", "timezone": PARIS}
    bars = analyze(empty_store, "stickiness", body)["result"]["slices"][0]["bars"]
    assert [b["persons"] for b in bars] == [1, 1, 0]


def test_merged_ids_count_as_one_person_when_overridden(empty_store, analyze):
    events = [
        Event("a", "$pageview", local("2024-03-05 10:00"), 1),
        Event("b", "$pageview", local("2024-03-06 10:00"), 11),
        Event("c", "$pageleave", local("2024-03-07 10:00"), 1),
    ]
    load(empty_store, Data(events, {}, {11: 1}))
    body = {"from": "2024-03-05", "to": "2024-03-07", "timezone": PARIS}
    result = analyze(empty_store, "stickiness", body)["result"]
    assert result["slices"] == [
        {
            "persons": 1,
            "bars": [
                {"periods": 1, "persons": 0, "share": 0.0},
                {"periods": 2, "persons": 1, "share": 1.0},
                {"periods": 3, "persons": 0, "share": 0.0},
            ],
        }
    ]


def test_result_is_empty_when_the_range_holds_no_activity(store, analyze):
    answer = analyze(store, "stickiness", {"from": "2024-06-01", "to": "2024-06-30"})
    assert answer["result"]["empty"] is True
    assert answer["result"]["slices"] == []
    assert answer["message"].startswith("No active persons in range 2024-06-01..2024-06-30")


def refused(store, analyze, body) -> SextantError:
    with pytest.raises(SextantError) as info:
        analyze(store, "stickiness", body)
    return info.value


def test_unknown_event_is_refused_with_close_names(store, analyze):
    error = refused(store, analyze, MARCH | {"event": "page_edit"})
    assert (error.status, error.code, error.field) == (400, "unknown_event", "event")
    assert error.message == (
        "event: no event named 'page_edit' has been stored; did you mean 'page_edited' or "
        "'page_shared' or 'page_created'?"
    )


def test_unknown_breakdown_is_refused_on_the_breakdown_field(store, analyze):
    error = refused(store, analyze, MARCH | {"breakdown": ["plna"]})
    assert (error.status, error.code, error.field) == (400, "unknown_dimension", "breakdown")
    assert error.message.startswith(
        "breakdown: unknown dimension 'plna'; did you mean 'plan', 'path'?; known dimensions: "
    )


def test_unit_other_than_day_or_week_is_refused(store, analyze):
    error = refused(store, analyze, MARCH | {"unit": "month"})
    assert (error.status, error.code, error.field) == (400, "query_invalid", "unit")
    assert "Input should be 'day' or 'week'" in error.message


def test_future_range_is_refused(store, analyze):
    error = refused(store, analyze, {"from": "2024-11-01", "to": "2024-11-16"})
    assert (error.status, error.code, error.field) == (400, "future_dates", "to")
    assert error.message.startswith("Cannot select future dates")


# --- random logs: engines and reference agree --------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=ref.small_logs(),
    unit=st.sampled_from(["day", "week"]),
    cumulative=st.booleans(),
    breakdown=st.sampled_from([[], ["plan"], ["tenant", "plan"]]),
    week_start=st.sampled_from(["monday", "sunday"]),
    tenants=st.sampled_from([None, ["t1"]]),
)
def test_engines_and_reference_agree_when_logs_are_random(
    stores, analyze, data, unit, cumulative, breakdown, week_start, tenants
):
    body = MARCH | {
        "unit": unit,
        "cumulative": cumulative,
        "breakdown": breakdown,
        "week_start": week_start,
        "tenants": tenants,
    }
    want = ref.stickiness(data, body)
    for engine in stores:
        ref.reload(engine, data)
        result = analyze(engine, "stickiness", body)["result"]
        assert result["slices"] == want, engine.dialect
        assert result["empty"] is (not want)
