"""Paths: the events after or before a chosen one, as Sankey nodes and links, on DuckDB and
chdb, against the plain-Python reference; visits, repeats, exclusions; refusals; golden SQL."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.errors import SextantError
from tests.analyses import reference_activity as ref
from tests.catalog.builders import PARIS, Data, Event, hand_built, load, local

MARCH = {"from": "2024-03-01", "to": "2024-04-06", "timezone": PARIS}
CASES = {
    "default": MARCH | {"event": "$pageview"},
    "before_top_two": MARCH | {"event": "block_added", "direction": "before", "top": 2, "depth": 4},
    "repeats_kept_t1": MARCH
    | {
        "event": "$pageview",
        "collapse_repeats": False,
        "exclude": ["$pageleave"],
        "tenants": ["t1"],
    },
    "fall_back": {
        "from": "2024-10-26",
        "to": "2024-10-28",
        "timezone": PARIS,
        "event": "$pageview",
    },
}


def view(result: dict) -> dict:
    """The reference's layout: node ids with persons, (source, target) links with persons."""
    return {
        "persons": result["persons"],
        "nodes": {n["id"]: n["persons"] for n in result["nodes"]},
        "links": {(link["source"], link["target"]): link["persons"] for link in result["links"]},
    }


@pytest.mark.parametrize("case", CASES)
def test_flows_match_reference_when_run_on_hand_built_data(store, analyze, case):
    body = dict(CASES[case])
    result = analyze(store, "paths", body)["result"]
    assert view(result) == ref.paths(hand_built(), body)
    assert result["empty"] is False


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
def test_sql_matches_golden_file_when_compiled(case, dialect, golden):
    text = ref.golden_sql("paths", case, CASES[case], dialect)
    golden.check(f"analyses/paths/{case}.{dialect}.sql", text)


def journey(person: int, *steps: tuple[str, str]) -> list[Event]:
    return [
        Event(f"{person}-{i}", name, local(f"2024-03-05 {at}"), person)
        for i, (at, name) in enumerate(steps)
    ]


def test_path_stops_at_a_gap_over_thirty_minutes_when_visit_ends(empty_store, analyze):
    events = journey(1, ("10:00", "a"), ("10:30", "b"), ("11:00:01", "c"))
    events += journey(2, ("10:00", "a"), ("10:10", "b"), ("10:40", "c"))  # 30:00 continues
    load(empty_store, Data(events))
    body = {"from": "2024-03-05", "to": "2024-03-05", "event": "a"}
    result = analyze(empty_store, "paths", body)["result"]
    assert result["nodes"] == [
        {"id": "0:a", "level": 0, "event": "a", "persons": 2, "other": False},
        {"id": "1:b", "level": 1, "event": "b", "persons": 2, "other": False},
        {"id": "2:c", "level": 2, "event": "c", "persons": 1, "other": False},
    ]
    assert result["links"] == [
        {"source": "0:a", "target": "1:b", "persons": 2},
        {"source": "1:b", "target": "2:c", "persons": 1},
    ]


def test_repeats_collapse_and_excluded_events_vanish_when_asked(empty_store, analyze):
    events = journey(
        1, ("10:00", "a"), ("10:01", "$pageleave"), ("10:02", "a"), ("10:03", "b"), ("10:04", "b")
    )
    load(empty_store, Data(events))
    body = {"from": "2024-03-05", "to": "2024-03-05", "event": "a", "exclude": ["$pageleave"]}
    nodes = analyze(empty_store, "paths", body)["result"]["nodes"]
    assert [n["id"] for n in nodes] == ["0:a", "1:b"]
    kept = analyze(empty_store, "paths", body | {"collapse_repeats": False})["result"]["nodes"]
    assert [n["id"] for n in kept] == ["0:a", "1:a", "2:b", "3:b"]


def test_person_counts_from_first_occurrence_when_event_repeats(empty_store, analyze):
    # Ties in time are ordered by event id: 1-1 (b) before 1-2 (c).
    events = journey(1, ("09:00", "a"), ("09:05", "b"), ("09:05", "c"), ("12:00", "a"))
    events += journey(12, ("12:10", "d"))  # merged into person 1: the second visit continues
    load(empty_store, Data(events, {}, {12: 1}))
    body = {"from": "2024-03-05", "to": "2024-03-05", "event": "a", "depth": 5}
    result = analyze(empty_store, "paths", body)["result"]
    assert result["persons"] == 1
    assert [n["id"] for n in result["nodes"]] == ["0:a", "1:b", "2:c"]


def test_other_groups_the_rest_when_more_events_than_top(empty_store, analyze):
    events = []
    for person, name in enumerate(["b", "b", "c", "d", "e"], start=1):
        events += journey(person, ("10:00", "a"), ("10:01", name), ("10:02", "z"))
    load(empty_store, Data(events))
    body = {"from": "2024-03-05", "to": "2024-03-05", "event": "a", "top": 2}
    result = analyze(empty_store, "paths", body)["result"]
    assert [(n["id"], n["persons"], n["other"]) for n in result["nodes"]] == [
        ("0:a", 5, False),
        ("1:b", 2, False),
        ("1:c", 1, False),
        ("1:(other)", 2, True),
        ("2:z", 5, False),
    ]
    assert {"source": "1:(other)", "target": "2:z", "persons": 2} in result["links"]


def test_result_is_empty_when_nobody_did_the_event_in_range(store, analyze):
    answer = analyze(
        store, "paths", {"from": "2024-06-01", "to": "2024-06-30", "event": "$pageview"}
    )
    assert answer["result"]["empty"] is True
    assert answer["result"]["nodes"] == []
    assert answer["message"].startswith("No persons with the event in range 2024-06-01..")


def refused(store, analyze, body) -> SextantError:
    with pytest.raises(SextantError) as info:
        analyze(store, "paths", body)
    return info.value


def test_unknown_event_is_refused(store, analyze):
    error = refused(store, analyze, MARCH | {"event": "$pagevew"})
    assert (error.status, error.code, error.field) == (400, "unknown_event", "event")
    assert error.message.startswith(
        "event: no event named '$pagevew' has been stored; did you mean '$pageview'"
    )


def test_breakdown_and_excluding_the_event_are_refused_together(store, analyze):
    body = MARCH | {"event": "$pageview", "exclude": ["$pageview"], "breakdown": "plan"}
    error = refused(store, analyze, body)
    assert [(p.code, p.field) for p in error.problems] == [
        ("paths_event_excluded", "exclude"),
        ("paths_breakdown_unsupported", "breakdown"),
    ]
    assert error.status == 400
    assert error.problems[1].message == (
        "breakdown: paths are not sliced; filter with `where` instead"
    )


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("depth", 6, "less than or equal to 5"),
        ("depth", 0, "greater than or equal to 1"),
        ("top", 21, "less than or equal to 20"),
        ("direction", "sideways", "Input should be 'after' or 'before'"),
    ],
)
def test_out_of_range_options_are_refused(store, analyze, option, value, words):
    error = refused(store, analyze, MARCH | {"event": "$pageview", option: value})
    assert (error.status, error.code, error.field) == (400, "query_invalid", option)
    assert words in error.message


# --- random logs: engines and reference agree --------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=ref.small_logs(),
    direction=st.sampled_from(["after", "before"]),
    depth=st.integers(1, 4),
    top=st.integers(1, 3),
    collapse=st.booleans(),
    exclude=st.sampled_from([[], ["$pageleave"]]),
)
def test_engines_and_reference_agree_when_logs_are_random(
    stores, analyze, data, direction, depth, top, collapse, exclude
):
    body = MARCH | {
        "event": "$pageview",
        "direction": direction,
        "depth": depth,
        "top": top,
        "collapse_repeats": collapse,
        "exclude": exclude,
    }
    data.events.append(Event("z", "$pageview", local("2024-02-01 10:00"), 9))  # always stored
    want = ref.paths(data, body)
    for engine in stores:
        ref.reload(engine, data)
        assert view(analyze(engine, "paths", body)["result"]) == want, engine.dialect
