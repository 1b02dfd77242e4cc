"""Retention analysis (SEMANTICS: Retention): the worked cases, time zones and week starts,
merges, tenants, breakdown at the start event, incomplete cells, the weighted average,
Day-N values, LTV; errors; golden SQL; random logs against the plain-Python reference on
DuckDB and chdb.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.analyses import get
from sextant.analyses.run import compile_analysis, parse
from sextant.errors import SextantError
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.schema import TABLES
from tests.analyses.conftest import TODAY
from tests.analyses.reference_retention import Sale, expected, flatten, load_sales
from tests.catalog.builders import PARIS, Data, Event, load, local, utc

DAYS = {"period": "day", "periods": 5, "day_n": [1, 3]}


def run(engine, analyze, data: Data, body: dict, sales=(), today: date = TODAY) -> dict:
    load(engine, data)
    load_sales(engine, list(sales))
    result = analyze(engine, "retention", body, today=today)["result"]
    want = expected(data, list(sales), body, today)
    got = flatten(result, tuple(body.get("breakdown", ())))
    assert_same(got, want)
    return result


def assert_same(got: dict, want: dict) -> None:
    assert got["cells"] == want["cells"]
    for part in ("average", "day_n", "ltv"):
        assert set(got[part]) == set(want[part]), part
        for key, value in want[part].items():
            if value is None:
                assert got[part][key] is None, (part, key)
            else:
                assert got[part][key] == pytest.approx(value, abs=1e-9), (part, key)


def cells(result: dict, slice_index: int = 0) -> dict[str, dict[int, tuple[int, bool]]]:
    """cohort -> N -> (persons, incomplete)."""
    return {
        c["cohort"]: {x["period"]: (x["persons"], x["incomplete"]) for x in c["cells"]}
        for c in result["slices"][slice_index]["cohorts"]
    }


def persons(result: dict, cohort: str) -> list[int]:
    return [n for n, _ in cells(result)[cohort].values()]


def ev(i, name, when, person, tenant="t1", plan="free", country="FR") -> Event:
    return Event(f"e{i:03}", name, when, person, tenant, plan, country)


# --- the worked cases ------------------------------------------------------------------------


def test_return_next_morning_is_calendar_day_1_when_rolling_it_is_day_0(empty_store, analyze):
    # Monday 2024-10-07 20:00, back Tuesday 06:00 (Paris).
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-07 20:00"), 1),
            ev(2, "$pageview", local("2024-10-08 06:00"), 1),
        ]
    )
    body = {"from": "2024-10-07", "to": "2024-10-07", "timezone": PARIS, "start_event": "signed_up"}
    calendar = run(empty_store, analyze, data, body | DAYS)
    assert persons(calendar, "2024-10-07") == [1, 1, 0, 0, 0, 0]
    rolling = analyze(empty_store, "retention", body | DAYS | {"window": "rolling"})["result"]
    assert persons(rolling, "2024-10-07") == [1, 0, 0, 0, 0, 0]
    assert_same(flatten(rolling), expected(data, [], body | DAYS | {"window": "rolling"}, TODAY))


@pytest.mark.parametrize(
    ("criterion", "counted"), [("on", [1, 0, 0, 1, 0, 0]), ("on_or_after", [1, 1, 1, 1, 0, 0])]
)
def test_return_on_day_3_counts_day_3_only_when_on_and_days_1_to_3_when_on_or_after(
    empty_store, analyze, criterion, counted
):
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-07 10:00"), 1),
            ev(2, "$pageview", local("2024-10-10 09:00"), 1),
        ]
    )
    body = {"from": "2024-10-07", "to": "2024-10-07", "timezone": PARIS, "criterion": criterion}
    result = run(empty_store, analyze, data, body | DAYS)
    assert persons(result, "2024-10-07") == counted


@pytest.mark.parametrize(("cohort", "cohorts"), [("first_time", 1), ("recurring", 2)])
def test_start_in_weeks_1_and_3_is_two_cohorts_when_recurring_one_when_first_time(
    empty_store, analyze, cohort, cohorts
):
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-01 10:00"), 1),  # week of Sep 30
            ev(2, "$pageview", local("2024-10-08 10:00"), 1),
            ev(3, "signed_up", local("2024-10-15 10:00"), 1),  # week of Oct 14
            ev(4, "$pageview", local("2024-10-22 10:00"), 1),
        ]
    )
    body = {
        "from": "2024-09-30",
        "to": "2024-10-20",
        "timezone": PARIS,
        "start_event": "signed_up",
        "return_event": "$pageview",
        "cohort": cohort,
        "periods": 4,
    }
    result = run(empty_store, analyze, data, body)
    found = cells(result)
    assert list(found) == ["2024-09-30", "2024-10-14"][:cohorts]
    assert [n for n, _ in found["2024-09-30"].values()] == [1, 1, 0, 1, 0]
    if cohort == "recurring":
        assert [n for n, _ in found["2024-10-14"].values()] == [1, 1, 0, 0, 0]


# --- time ------------------------------------------------------------------------------------


def test_days_follow_paris_when_the_clocks_go_back(empty_store, analyze):
    # 2024-10-27 lasts 25 hours in Paris: a start at 00:30 and a return at 23:30 the same
    # local day are 24 hours apart (rolling day 1) but calendar day 0.
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-27 00:30"), 1),
            ev(2, "$pageview", local("2024-10-27 23:30"), 1),
            ev(3, "signed_up", utc("2024-10-27 22:59"), 2),  # 23:59 local, Oct 27
            ev(4, "$pageview", utc("2024-10-27 23:01"), 2),  # 00:01 local, Oct 28
        ]
    )
    body = {"from": "2024-10-27", "to": "2024-10-27", "timezone": PARIS, **DAYS}
    calendar = run(empty_store, analyze, data, body)
    assert persons(calendar, "2024-10-27") == [2, 1, 0, 0, 0, 0]
    rolling = analyze(empty_store, "retention", body | {"window": "rolling"})["result"]
    assert persons(rolling, "2024-10-27") == [2, 1, 0, 0, 0, 0]
    assert_same(flatten(rolling), expected(data, [], body | {"window": "rolling"}, TODAY))
    # UTC days cut elsewhere: person 2 starts and returns on Oct 27.
    utc_body = body | {"timezone": "UTC"}
    in_utc = analyze(empty_store, "retention", utc_body)["result"]
    assert_same(flatten(in_utc), expected(data, [], utc_body, TODAY))


def test_weeks_start_on_sunday_when_configured(empty_store, analyze):
    # Sunday 2024-10-13: week 2 when weeks start on Monday, week 1 on Sunday.
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-07 10:00"), 1),  # Monday
            ev(2, "$pageview", local("2024-10-13 10:00"), 1),  # Sunday
        ]
    )
    body = {"from": "2024-10-07", "to": "2024-10-07", "timezone": PARIS, "periods": 2}
    monday = run(empty_store, analyze, data, body)
    assert cells(monday) == {"2024-10-07": {0: (1, False), 1: (0, False), 2: (0, False)}}
    sunday = analyze(empty_store, "retention", body | {"week_start": "sunday"})["result"]
    assert cells(sunday) == {"2024-10-06": {0: (1, False), 1: (1, False), 2: (0, False)}}
    assert_same(flatten(sunday), expected(data, [], body | {"week_start": "sunday"}, TODAY))


def test_month_1_starts_on_the_first_when_monthly(empty_store, analyze):
    data = Data(
        [
            ev(1, "signed_up", local("2024-08-31 23:30"), 1),
            ev(2, "$pageview", local("2024-09-01 00:10"), 1),  # month 1, 40 minutes later
            ev(3, "signed_up", local("2024-08-01 00:10"), 2),
            ev(4, "$pageview", local("2024-08-31 23:59"), 2),  # still month 0
            ev(5, "$pageview", local("2024-10-01 00:00"), 2),  # month 2
        ]
    )
    body = {"from": "2024-08-01", "to": "2024-08-31", "timezone": PARIS, "period": "month"}
    result = run(empty_store, analyze, data, body | {"periods": 3})
    assert persons(result, "2024-08-01") == [2, 1, 1, 0]
    rolling = body | {"periods": 3, "window": "rolling"}  # 30-day months from the start
    got = analyze(empty_store, "retention", rolling)["result"]
    assert persons(got, "2024-08-01") == [2, 1, 1, 0]  # Oct 1 is day 61 for person 2
    assert_same(flatten(got), expected(data, [], rolling, TODAY))


# --- persons, tenants, slices ----------------------------------------------------------------


def test_merged_ids_count_as_one_person(empty_store, analyze):
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-07 10:00"), 11),
            ev(2, "$pageview", local("2024-10-08 10:00"), 1),  # the survivor returns
            ev(3, "signed_up", local("2024-10-09 10:00"), 1),  # not a second member
        ],
        overrides={11: 1},
    )
    body = {"from": "2024-10-07", "to": "2024-10-09", "timezone": PARIS, **DAYS}
    result = run(empty_store, analyze, data, body | {"start_event": "signed_up"})
    assert list(cells(result)) == ["2024-10-07"]
    assert persons(result, "2024-10-07") == [1, 1, 1, 0, 0, 0]


def test_other_tenants_never_count_when_scoped(empty_store, analyze):
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-07 10:00"), 1, "t1"),
            ev(2, "$pageview", local("2024-10-08 10:00"), 1, "t2"),  # another workspace
            ev(3, "signed_up", local("2024-10-07 11:00"), 2, "t2"),
            ev(4, "$pageview", local("2024-10-09 10:00"), 1, "t1"),
        ]
    )
    body = {"from": "2024-10-07", "to": "2024-10-07", "timezone": PARIS, **DAYS}
    scoped = run(empty_store, analyze, data, body | {"tenants": ["t1"]})
    assert persons(scoped, "2024-10-07") == [1, 0, 1, 0, 0, 0]
    both = analyze(empty_store, "retention", body)["result"]
    assert persons(both, "2024-10-07") == [2, 1, 1, 0, 0, 0]


def test_breakdown_takes_the_value_at_the_start_event(empty_store, analyze):
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-07 10:00"), 1, plan="free"),
            ev(2, "$pageview", local("2024-10-08 10:00"), 1, plan="plus"),  # upgraded
            ev(3, "signed_up", local("2024-10-07 11:00"), 2, plan="plus"),
            ev(4, "signed_up", local("2024-10-08 11:00"), 2, plan="free"),  # not first
        ]
    )
    body = {
        "from": "2024-10-07",
        "to": "2024-10-08",
        "timezone": PARIS,
        "start_event": "signed_up",
        "breakdown": ["plan"],
        **DAYS,
    }
    result = run(empty_store, analyze, data, body)
    assert [(s["plan"], s["members"]) for s in result["slices"]] == [("free", 1), ("plus", 1)]
    assert persons(result, "2024-10-07") == [1, 1, 0, 0, 0, 0]
    recurring = body | {"cohort": "recurring"}
    got = analyze(empty_store, "retention", recurring)["result"]
    assert [(s["plan"], s["members"]) for s in got["slices"]] == [("free", 2), ("plus", 1)]
    assert_same(flatten(got, ("plan",)), expected(data, [], recurring, TODAY))


# --- incomplete cells and averages -----------------------------------------------------------


def test_cells_not_yet_elapsed_are_incomplete_and_left_out_of_the_average(empty_store, analyze):
    today = date(2024, 10, 10)
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-07 10:00"), 1),
            ev(2, "$pageview", local("2024-10-09 10:00"), 1),
            ev(3, "signed_up", local("2024-10-08 10:00"), 2),
            ev(4, "$pageview", local("2024-10-09 10:00"), 2),
        ]
    )
    body = {"from": "2024-10-07", "to": "2024-10-08", "timezone": PARIS, **DAYS}
    result = run(empty_store, analyze, data, body, today=today)
    # Cohort Oct 7: day 2 (Oct 9) ended before today; day 3 (Oct 10) is today.
    assert cells(result)["2024-10-07"] == {
        0: (1, False),
        1: (0, False),
        2: (1, False),
        3: (0, True),
        4: (0, True),
        5: (0, True),
    }
    assert cells(result)["2024-10-08"][1] == (1, False)
    assert cells(result)["2024-10-08"][2] == (0, True)
    average = {p["period"]: p["rate"] for p in result["slices"][0]["average"]}
    assert average == {0: 1.0, 1: 0.5, 2: 1.0, 3: None, 4: None, 5: None}
    rolling = body | {"window": "rolling"}
    got = analyze(empty_store, "retention", rolling, today=today)["result"]
    # Rolling day 1 of cohort Oct 8 may end on Oct 10 10:00 (a start at 23:59): incomplete.
    assert cells(got)["2024-10-08"][1] == (1, True)
    assert_same(flatten(got), expected(data, [], rolling, today))


def test_average_is_weighted_by_cohort_size_and_counts_a_0_percent_cohort(empty_store, analyze):
    events = [ev(1, "signed_up", local("2024-10-07 10:00"), 1)]
    events += [ev(1 + p, "signed_up", local("2024-10-08 10:00"), p) for p in (2, 3, 4)]
    events += [ev(10 + p, "$pageview", local("2024-10-09 10:00"), p) for p in (2, 3)]
    body = {"from": "2024-10-07", "to": "2024-10-08", "timezone": PARIS, **DAYS}
    result = run(empty_store, analyze, Data(events), body)
    # Day 1: 0 of 1 and 2 of 3 -> 2 / 4, not the mean of 0 % and 67 %.
    first = result["slices"][0]["average"][1]
    assert first == {"period": 1, "rate": 0.5, "persons": 2, "size": 4, "cohorts": 2}


def test_day_n_values_use_day_periods_when_weekly(empty_store, analyze):
    events = [ev(p, "signed_up", local("2024-10-07 10:00"), p) for p in (1, 2, 3, 4)]
    events += [ev(10, "$pageview", local("2024-10-08 09:00"), 1)]
    events += [ev(11, "$pageview", local("2024-10-14 09:00"), 2)]
    events += [ev(12, "$pageview", local("2024-10-14 09:00"), 1)]
    body = {"from": "2024-10-07", "to": "2024-10-13", "timezone": PARIS, "periods": 2}
    result = run(empty_store, analyze, Data(events), body)
    day_n = {p["day"]: p["rate"] for p in result["slices"][0]["day_n"]}
    assert day_n == {1: 0.25, 7: 0.5, 14: 0.0, 30: 0.0, 60: None, 90: None}


# --- revenue ---------------------------------------------------------------------------------


def test_lifetime_value_sums_net_orders_per_member_from_the_start(empty_store, analyze):
    data = Data(
        [
            ev(1, "signed_up", local("2024-10-07 10:00"), 1),
            ev(2, "signed_up", local("2024-10-08 10:00"), 12),
            ev(3, "signed_up", local("2024-10-09 10:00"), 3),
        ],
        overrides={12: 2},
    )
    sales = [
        Sale(1, 1, Decimal("9.00"), local("2024-10-07 09:00")),  # before the start
        Sale(2, 1, Decimal("30.00"), local("2024-10-07 12:00"), refunded=Decimal("10.00")),
        Sale(3, 2, Decimal("50.00"), local("2024-10-15 12:00")),  # survivor of 12: week 1
        Sale(4, 3, Decimal("70.00"), local("2024-10-16 12:00"), test=True),
        Sale(5, 3, Decimal("80.00"), local("2024-10-16 12:00"), cancelled=True),
        Sale(6, 3, Decimal("5.00"), local("2024-10-16 12:00"), currency="USD"),
        Sale(7, None, Decimal("99.00"), local("2024-10-16 12:00")),  # no person
    ]
    body = {"from": "2024-10-07", "to": "2024-10-13", "timezone": PARIS, "periods": 2}
    result = run(empty_store, analyze, data, body | {"revenue": True}, sales)
    curve = [(p["currency"], p["period"], p["per_member"]) for p in result["slices"][0]["ltv"]]
    assert curve == [
        ("EUR", 0, pytest.approx(20 / 3)),
        ("EUR", 1, pytest.approx(70 / 3)),
        ("EUR", 2, pytest.approx(70 / 3)),
        ("USD", 0, 0.0),
        ("USD", 1, pytest.approx(5 / 3)),
        ("USD", 2, pytest.approx(5 / 3)),
    ]
    rolling = body | {"revenue": True, "window": "rolling"}
    got = analyze(empty_store, "retention", rolling)["result"]
    assert_same(flatten(got), expected(data, sales, rolling, TODAY))


# --- empty and errors ------------------------------------------------------------------------


def test_result_is_empty_when_no_start_event_falls_in_the_range(empty_store, analyze):
    data = Data([ev(1, "signed_up", local("2024-10-07 10:00"), 1)])
    load(empty_store, data)
    out = analyze(empty_store, "retention", {"from": "2024-09-01", "to": "2024-09-30"})
    assert out["empty"] is True
    assert out["result"]["slices"] == []
    assert out["message"].startswith("No cohort members in range 2024-09-01..2024-09-30")


ERRORS = [
    (
        {"start_event": "signed_upp"},
        "unknown_event",
        "start_event",
        "start_event: no event named 'signed_upp' has been stored; did you mean 'signed_up'?",
    ),
    (
        {"period": "week", "periods": 53},
        "retention_periods_out_of_range",
        "periods",
        "periods: 53 is out of range; 1 to 52 weeks",
    ),
    (
        {"day_n": [1, 400]},
        "retention_periods_out_of_range",
        "day_n",
        "day_n: 400 out of range; days 1 to 180",
    ),
    (
        {"revenue": True, "cohort": "recurring"},
        "retention_options_incompatible",
        "revenue",
        "revenue: lifetime value needs first_time cohorts (with recurring cohorts a person's "
        "orders would count in several cohorts)",
    ),
]


@pytest.mark.parametrize(("extra", "code", "field", "message"), ERRORS)
def test_rejected_with_code_field_and_message_when_invalid(
    duckdb_store, analyze, extra, code, field, message
):
    with pytest.raises(SextantError) as caught:
        analyze(duckdb_store, "retention", {"from": "2024-10-01", "to": "2024-10-31", **extra})
    error = caught.value
    assert error.status == 400
    assert (error.code, error.field, error.message) == (code, field, message)


def test_unknown_breakdown_is_rejected_on_the_breakdown_field(duckdb_store, analyze):
    with pytest.raises(SextantError) as caught:
        body = {"from": "2024-10-01", "to": "2024-10-31", "breakdown": ["planz"]}
        analyze(duckdb_store, "retention", body)
    error = caught.value
    assert (error.status, error.code, error.field) == (400, "unknown_dimension", "breakdown")
    assert error.message.startswith("breakdown: unknown dimension 'planz'; did you mean 'plan'?")


def test_every_problem_is_reported_at_once(duckdb_store, analyze):
    body = {"from": "2024-10-01", "to": "2024-10-31", "return_event": "nope", "periods": 99}
    with pytest.raises(SextantError) as caught:
        analyze(duckdb_store, "retention", body)
    assert [(p.code, p.field) for p in caught.value.problems] == [
        ("unknown_event", "return_event"),
        ("retention_periods_out_of_range", "periods"),
    ]


def test_options_are_checked_by_the_query_model(duckdb_store, analyze):
    with pytest.raises(SextantError) as caught:
        analyze(
            duckdb_store, "retention", {"from": "2024-10-01", "to": "2024-10-31", "window": "x"}
        )
    assert (caught.value.code, caught.value.field) == ("query_invalid", "window")


@pytest.fixture
def duckdb_store(tmp_path):
    engine = DuckDBEngine(tmp_path / "sextant.duckdb")
    load(engine, Data([ev(1, "signed_up", local("2024-10-07 10:00"), 1)]))
    yield engine
    engine.close()


# --- golden SQL ------------------------------------------------------------------------------

GOLDEN = {
    "weekly": {},
    "daily_rolling_on_or_after": {
        "period": "day",
        "periods": 14,
        "window": "rolling",
        "criterion": "on_or_after",
        "day_n": [1, 7],
    },
    "monthly_signups_by_plan_ltv": {
        "period": "month",
        "start_event": "signed_up",
        "breakdown": ["plan"],
        "revenue": True,
        "tenants": ["t1"],
    },
    "recurring_sunday_weeks": {"cohort": "recurring", "week_start": "sunday", "day_n": []},
}


@pytest.mark.parametrize("case", sorted(GOLDEN))
@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
def test_sql_matches_golden(catalog, golden, case, dialect):
    body = {"from": "2024-09-01", "to": "2024-10-31", "timezone": PARIS, **GOLDEN[case]}
    analysis, query = parse("retention", body, catalog, today=TODAY)
    _, sql = compile_analysis(analysis, catalog, query, dialect)
    text = "".join(f"-- statement {name}\n{sql[name]};\n" for name in sql)
    golden.check(f"analyses/retention/{case}.{dialect}.sql", f"-- case: {case}\n{text}")


def golden_data() -> tuple[Data, list[Sale]]:
    """Persons joining in September and October 2024 (Paris), coming back and buying."""
    events, sales, n = [], [], 0
    start = local("2024-09-02 09:00")
    for person in range(1, 9):
        joined = start + timedelta(days=7 * person, hours=5 * person)
        plan = "plus" if person % 3 == 0 else "free"
        events.append(ev(n := n + 1, "signed_up", joined, person, plan=plan))
        for k in range(person % 4 + 1):
            back = joined + timedelta(days=4 * k * (person % 3 + 1), hours=k)
            events.append(ev(n := n + 1, "$pageview", back, person, plan=plan))
        sales.append(Sale(person, person, Decimal(10 * person), joined + timedelta(days=person)))
    events.append(ev(n + 1, "$pageview", local("2024-11-20 10:00"), 2))  # after today
    return Data(events, overrides={21: 2}), sales


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_golden_cases_equal_the_reference(empty_store, analyze, case):
    data, sales = golden_data()
    load(empty_store, data)
    load_sales(empty_store, sales)
    body = {"from": "2024-09-01", "to": "2024-10-31", "timezone": PARIS, **GOLDEN[case]}
    got = analyze(empty_store, "retention", body)["result"]
    assert got["slices"]
    want = expected(data, sales, body, TODAY)
    assert_same(flatten(got, tuple(body.get("breakdown", ()))), want)


def test_registered_with_label_and_noun():
    found = get("retention")
    assert (found.label, found.noun) == ("Retention", "cohort members")


# --- random logs against the reference -------------------------------------------------------

START = datetime(2024, 10, 1, tzinfo=UTC)  # spans Paris's and New York's clock changes
SPAN_MINUTES = 50 * 24 * 60
NAMES = ["signed_up", "$pageview", "$pageleave", "page_edited"]
ZONES = ["UTC", PARIS, "America/New_York", "Asia/Kolkata"]


@st.composite
def logs(draw) -> tuple[Data, list[Sale]]:
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, SPAN_MINUTES),
                st.sampled_from(NAMES),
                st.integers(1, 6),  # 5 and 6 may be old ids of others
                st.sampled_from(["t1", "t2"]),
                st.sampled_from(["free", "plus"]),
            ),
            min_size=1,
            max_size=25,
        )
    )
    events = [
        Event(f"e{n:03}", name, START + timedelta(minutes=m, microseconds=n), who, tenant, plan)
        for n, (m, name, who, tenant, plan) in enumerate(rows)
    ]
    overrides = draw(st.dictionaries(st.sampled_from([5, 6]), st.integers(1, 4), max_size=2))
    sales = [
        Sale(
            n + 1,
            draw(st.sampled_from([1, 2, 3, 5, None])),
            Decimal(draw(st.integers(0, 10_000))) / 100,
            START + timedelta(minutes=draw(st.integers(0, SPAN_MINUTES))),
            tenant_id=draw(st.sampled_from(["t1", "t2"])),
            currency=draw(st.sampled_from(["EUR", "USD"])),
            refunded=Decimal(draw(st.sampled_from([0, 0, 150]))) / 100,
            test=draw(st.sampled_from([False, None, True])),
        )
        for n in range(draw(st.integers(0, 4)))
    ]
    return Data(events, overrides=overrides), sales


bodies = st.fixed_dictionaries(
    {
        "from": st.just("2024-10-03"),
        "to": st.sampled_from(["2024-10-20", "2024-11-10"]),
        "timezone": st.sampled_from(ZONES),
        "week_start": st.sampled_from(["monday", "sunday"]),
        "period": st.sampled_from(["day", "week", "month"]),
        "periods": st.integers(1, 6),
        "cohort": st.sampled_from(["first_time", "recurring"]),
        "criterion": st.sampled_from(["on", "on_or_after"]),
        "window": st.sampled_from(["calendar", "rolling"]),
        "day_n": st.sampled_from([[1, 7], [2, 3, 30], []]),
    },
    optional={
        "start_event": st.sampled_from(["signed_up", "page_edited"]),
        "return_event": st.sampled_from(["$pageview", "signed_up"]),
        "breakdown": st.sampled_from([["plan"], ["tenant"]]),
        "tenants": st.sampled_from([["t1"], ["t2"]]),
    },
)


@pytest.fixture(scope="module")
def chdb():
    engine = ClickHouseEngine.embedded()
    yield engine
    engine.close()


def emptied(engine):
    for name in TABLES:
        engine.execute(f"TRUNCATE TABLE `{name}`")
    return engine


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(log=logs(), body=bodies)
def test_engines_equal_the_reference_on_random_logs(chdb, analyze, log, body):
    data, sales = log
    body = dict(body)
    if body["cohort"] == "first_time":
        body["revenue"] = True
    names = {e.event for e in data.events}
    for key in ("start_event", "return_event"):
        if body.get(key) not in names:
            body.pop(key, None)
    want = expected(data, sales, body, TODAY)
    breakdown = tuple(body.get("breakdown", ()))
    for engine in (DuckDBEngine(":memory:"), emptied(chdb)):
        load(engine, data)
        load_sales(engine, sales)
        got = analyze(engine, "retention", body)["result"]
        assert_same(flatten(got, breakdown), want)
