"""Feature adoption: top features, rates within slices and over time, on DuckDB and chdb,
against the plain-Python reference; chosen and property-value features; refusals; golden SQL."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.errors import SextantError
from tests.analyses import reference_activity as ref
from tests.catalog.builders import PARIS, Data, Event, arrow, hand_built, load, local

MARCH = {"from": "2024-03-01", "to": "2024-04-06", "timezone": PARIS}
CASES = {
    "default": MARCH,
    "weekly_sunday_by_plan_country": MARCH
    | {"grain": "week", "week_start": "sunday", "breakdown": ["plan", "country"]},
    "top_two_t2_monthly": MARCH | {"top": 2, "tenants": ["t2"], "grain": "month"},
    "chosen_features_by_tenant": MARCH
    | {"features": ["search_performed", "block_added", "page_edited"], "breakdown": "tenant"},
    "totals_only": MARCH | {"over_time": False},
    "fall_back": {"from": "2024-10-26", "to": "2024-10-28", "timezone": PARIS},
}


@pytest.mark.parametrize("case", CASES)
def test_rates_match_reference_when_run_on_hand_built_data(store, analyze, case):
    body = dict(CASES[case])
    result = analyze(store, "adoption", body)["result"]
    assert result["slices"] == ref.adoption(hand_built(), body)
    assert result["empty"] is False


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
def test_sql_matches_golden_file_when_compiled(case, dialect, golden):
    text = ref.golden_sql("adoption", case, CASES[case], dialect)
    golden.check(f"analyses/adoption/{case}.{dialect}.sql", text)


def test_rate_divides_by_active_persons_of_the_slice_when_sliced(empty_store, analyze):
    # Two free persons (one uses search), one plus person who uses it: free 1/2, plus 1/1.
    events = [
        Event("a", "search_performed", local("2024-03-05 10:00"), 1, "t1", "free"),
        Event("b", "$pageview", local("2024-03-05 11:00"), 2, "t1", "free"),
        Event("c", "search_performed", local("2024-03-06 10:00"), 3, "t1", "plus"),
        Event("d", "search_performed", local("2024-03-06 11:00"), 13, "t1", "plus"),  # merged
        Event("e", "$pageleave", local("2024-03-06 12:00"), 4, "t1", "plus"),  # not active
    ]
    load(empty_store, Data(events, {}, {13: 3}))
    body = {"from": "2024-03-05", "to": "2024-03-06", "breakdown": "plan", "over_time": False}
    result = analyze(empty_store, "adoption", body)["result"]
    assert result["slices"] == [
        {
            "plan": "free",
            "active": 2,
            "features": [{"feature": "search_performed", "users": 1, "rate": 0.5, "rank": 1}],
        },
        {
            "plan": "plus",
            "active": 1,
            "features": [{"feature": "search_performed", "users": 1, "rate": 1.0, "rank": 1}],
        },
    ]


def test_ties_rank_by_name_when_users_are_equal(empty_store, analyze):
    events = [
        Event("a", "template_used", local("2024-03-05 10:00"), 1),
        Event("b", "block_added", local("2024-03-05 11:00"), 2),
        Event("c", "page_moved", local("2024-03-05 12:00"), 3),
    ]
    load(empty_store, Data(events))
    body = {"from": "2024-03-05", "to": "2024-03-05", "top": 2, "over_time": False}
    features = analyze(empty_store, "adoption", body)["result"]["slices"][0]["features"]
    assert [f["feature"] for f in features] == ["block_added", "page_moved"]


def test_property_value_feature_counts_only_its_value_when_chosen(empty_store, analyze):
    views = {"a": "board", "b": "calendar", "c": "board"}
    events = [Event(i, "view_opened", local("2024-03-05 10:00"), n) for n, i in enumerate(views)]
    for name, rows in Data(events).tables().items():
        for row in rows if name == "events" else ():
            row["properties"] = json.dumps({"view": views[row["id"]]})
        if rows:
            empty_store.append(name, arrow(name, rows))
    feature = {"event": "view_opened", "property": "view", "value": "board", "label": "Boards"}
    body = {"from": "2024-03-05", "to": "2024-03-05", "features": [feature]}
    result = analyze(empty_store, "adoption", body)["result"]
    assert result["slices"][0]["features"] == [
        {"feature": "Boards", "users": 2, "rate": 2 / 3, "rank": 1}
    ]
    assert result["slices"][0]["over_time"] == [
        {"bucket": "2024-03-05", "active": 3, "rates": {"Boards": 2 / 3}}
    ]


def test_result_is_empty_when_the_range_holds_no_activity(store, analyze):
    answer = analyze(store, "adoption", {"from": "2024-06-01", "to": "2024-06-30"})
    assert answer["result"] == {"top": 10, "slices": [], "empty": True}
    assert answer["message"].startswith("No active persons in range 2024-06-01..2024-06-30")


def refused(store, analyze, body) -> SextantError:
    with pytest.raises(SextantError) as info:
        analyze(store, "adoption", body)
    return info.value


def test_unknown_feature_event_is_refused_on_its_place_in_the_list(store, analyze):
    error = refused(store, analyze, MARCH | {"features": ["block_added", "serch_performed"]})
    assert (error.status, error.code, error.field) == (400, "unknown_event", "features.1")
    assert error.message.startswith(
        "features.1: no event named 'serch_performed' has been stored; did you mean "
        "'search_performed'?"
    )


def test_inactive_or_repeated_features_are_refused_together(store, analyze):
    error = refused(
        store, analyze, MARCH | {"features": ["$pageleave", "page_edited", "page_edited"]}
    )
    assert [(p.code, p.field) for p in error.problems] == [
        ("adoption_feature_inactive", "features.0"),
        ("adoption_feature_twice", "features.2"),
    ]
    assert error.problems[1].message == "features.2: the feature 'page_edited' is listed twice"


def test_unknown_breakdown_is_refused_on_the_breakdown_field(store, analyze):
    error = refused(store, analyze, MARCH | {"breakdown": ["tenant", "planet"]})
    assert (error.status, error.code, error.field) == (400, "unknown_dimension", "breakdown")
    assert error.message.startswith("breakdown: unknown dimension 'planet'")


@pytest.mark.parametrize("top", [0, 51])
def test_top_out_of_range_is_refused(store, analyze, top):
    error = refused(store, analyze, MARCH | {"top": top})
    assert (error.status, error.code, error.field) == (400, "query_invalid", "top")
    assert ("greater than or equal to 1" if top == 0 else "less than or equal to 50") in (
        error.message
    )


# --- random logs: engines and reference agree --------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=ref.small_logs(),
    grain=st.sampled_from(["day", "week", "month"]),
    breakdown=st.sampled_from([[], ["plan"], ["tenant", "plan"]]),
    top=st.integers(1, 3),
    tenants=st.sampled_from([None, ["t1"]]),
)
def test_engines_and_reference_agree_when_logs_are_random(
    stores, analyze, data, grain, breakdown, top, tenants
):
    body = MARCH | {"grain": grain, "breakdown": breakdown, "top": top, "tenants": tenants}
    want = ref.adoption(data, body)
    for engine in stores:
        ref.reload(engine, data)
        result = analyze(engine, "adoption", body)["result"]
        assert result["slices"] == want, engine.dialect
