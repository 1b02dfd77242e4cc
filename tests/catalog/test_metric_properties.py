"""Properties of compiled metrics on random small event logs (hypothesis).

Row order, re-appended batches and other tenants' data never change a number; DAU/WAU/MAU
equal a brute-force count in local days; every metric equals the reference of
`builders.py`; DuckDB and chdb agree. One chdb engine serves the module (its tables are
emptied before each example); DuckDB stores are new in-memory databases.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.catalog.query import MetricQuery
from sextant.catalog.results import run_query
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.schema import TABLES
from tests.catalog.builders import (
    ADDITIVE,
    INACTIVE,
    Ask,
    Data,
    Event,
    Order,
    Reference,
    Refund,
    arrow,
    differences,
    load,
    observed,
)

START = datetime(2024, 3, 6, tzinfo=UTC)  # spans New York's, Paris's and Lord Howe's changes
SPAN_MINUTES = 35 * 24 * 60
FIRST, LAST = date(2024, 3, 8), date(2024, 4, 8)
TODAY = date(2024, 6, 1)
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
NAMES = [
    "$pageview",
    "$pageleave",
    "$feature_flag_called",
    "signed_up",
    "page_created",
    "page_shared",
    "comment_added",
    "block_added",
    "search_performed",
]
SEGMENTS = {1: "individual", 2: "small_team", 3: "individual", 4: None}
EVENT_METRICS = [
    "dau",
    "wau",
    "mau",
    "stickiness",
    "active_persons",
    "active_tenants",
    "power_users",
    "north_star",
    "signups",
    "activation_rate",
    "retention_m1",
    "feature_adoption",
    "sessions",
    "session_duration_avg",
    "session_duration_p50",
    "session_duration_p95",
    "bounced_sessions",
    "bounce_rate",
]
MONEY_METRICS = ["orders", "revenue", "aov", "refunds"]
SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- strategies -----------------------------------------------------------------------------


@st.composite
def events(draw, tenants=("t1", "t2"), prefix="e", max_size=30) -> list[Event]:
    """Events clustered in a few bursts (so sessions and windows hold several events)."""
    bursts = draw(st.lists(st.integers(0, SPAN_MINUTES), min_size=1, max_size=5))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(bursts),
                st.integers(0, 3 * 24 * 60),  # minutes after the burst start
                st.integers(0, 59),  # seconds
                st.sampled_from(NAMES),
                st.integers(1, 6),  # persons 5 and 6 may be old ids of others
                st.sampled_from(tenants),
                st.sampled_from(["free", "plus"]),
                st.sampled_from([None, None, None, "s1", "s2"]),
            ),
            min_size=1,
            max_size=max_size,
        )
    )
    return [
        Event(
            id=f"{prefix}{n:03}",
            event=name,
            # n microseconds: no two events at one instant (a tie would let the engine pick
            # either as a person's first sign-up, and so its slice).
            timestamp=START + timedelta(minutes=burst + minutes, seconds=seconds, microseconds=n),
            person_id=person,
            tenant_id=tenant,
            plan=plan,
            # SDK ids last at most 12 hours (the SDKs rotate them within a day).
            session_id=f"{tenant}-{burst}-{minutes // 720}-{session}" if session else None,
        )
        for n, (burst, minutes, seconds, name, person, tenant, plan, session) in enumerate(rows)
    ]


overrides = st.dictionaries(st.sampled_from([5, 6]), st.integers(1, 4), max_size=2)


@st.composite
def commerce(draw, tenant="t1", max_size=6) -> tuple[list[Order], list[Refund]]:
    orders = [
        Order(
            tenant_id=tenant,
            order_id=n + 1,
            currency=draw(st.sampled_from(["EUR", "USD"])),
            total=Decimal(draw(st.integers(0, 50_000))) / 100,
            created_at=START + timedelta(minutes=draw(st.integers(0, SPAN_MINUTES))),
            test=draw(st.sampled_from([False, None, True])),
            cancelled_at=draw(st.sampled_from([None, None, START])),
        )
        for n in range(draw(st.integers(0, max_size)))
    ]
    refunds = [
        Refund(
            tenant_id=tenant,
            refund_id=n + 1,
            order_id=draw(st.integers(1, max_size)),
            currency="EUR",
            amount=Decimal(draw(st.integers(0, 5_000))) / 100,
            created_at=START + timedelta(minutes=draw(st.integers(0, SPAN_MINUTES))),
        )
        for n in range(draw(st.integers(0, 3)))
    ]
    return orders, refunds


@st.composite
def datasets(draw, tenants=("t1", "t2")) -> Data:
    orders, refunds = draw(commerce())
    return Data(draw(events(tenants)), dict(SEGMENTS), draw(overrides), orders, refunds)


queries = st.fixed_dictionaries(
    {
        "from": st.just(FIRST.isoformat()),
        "to": st.just(LAST.isoformat()),
        "timezone": st.sampled_from(ZONES),
        "grain": st.sampled_from(["day", "day", "week", "month"]),
        "week_start": st.sampled_from(["monday", "sunday", "wednesday"]),
    },
    optional={
        "breakdown": st.sampled_from([["plan"], ["segment"]]),
        "tenants": st.sampled_from([["t1"], ["t2"], ["t1", "t2"]]),
    },
)


# --- engines and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def chdb():
    engine = ClickHouseEngine.embedded()
    yield engine
    engine.close()


def emptied(engine: ClickHouseEngine) -> ClickHouseEngine:
    for name in TABLES:
        engine.execute(f"TRUNCATE TABLE `{name}`")
    return engine


def duckdb() -> DuckDBEngine:
    return DuckDBEngine(":memory:")


def values(engine, catalog, body: dict) -> dict:
    query = MetricQuery.parse(body, today=TODAY)
    result = run_query(engine, catalog, query, today=TODAY)
    out = observed(result.rows, result.keys)
    for row in result.rows:  # cohorts: whether their period is over, beside their values
        if "incomplete" in row:
            out[("incomplete", *(row[k] for k in result.keys))] = row["incomplete"]
    return out


def same(got: dict, want: dict, metric: str, body: dict) -> None:
    diff = differences(got, want, 0 if metric in ADDITIVE else None)
    assert not diff, f"{metric} {body}\n" + "\n".join(diff)


def body_for(metric: str, query: dict) -> dict:
    body = {"metric": metric} | query
    if metric in MONEY_METRICS and body.get("breakdown"):
        body["breakdown"] = ["tenant"]
    return body


# --- properties -----------------------------------------------------------------------------


@SETTINGS
@given(data=datasets(), order=st.randoms(use_true_random=False), query=queries)
def test_results_ignore_row_order_when_rows_are_shuffled(catalog, data, order, query):
    first, shuffled = duckdb(), duckdb()
    load(first, data)
    load(shuffled, data, order=lambda rows: order.sample(rows, len(rows)))
    for metric in ["wau", "session_duration_p95", "activation_rate", "revenue"]:
        body = body_for(metric, query)
        same(values(shuffled, catalog, body), values(first, catalog, body), metric, body)


@SETTINGS
@given(data=datasets(), repeat=st.randoms(use_true_random=False), query=queries)
def test_results_do_not_change_when_a_batch_is_appended_again(catalog, chdb, data, repeat, query):
    metrics = ["dau", "session_duration_avg", "signups", "revenue"]
    for engine in (duckdb(), emptied(chdb)):
        # A batch holding some rows twice stores them once.
        tables = data.tables()
        events = tables["events"]
        twice = events + repeat.sample(events, repeat.randint(0, len(events)))
        assert engine.append("events", arrow("events", twice)) == len(events)
        for name, rows in tables.items():
            if rows and name != "events":
                engine.append(name, arrow(name, rows))
        before = {m: values(engine, catalog, body_for(m, query)) for m in metrics}
        for name, rows in tables.items():  # the whole load again: nothing is new
            if rows:
                assert engine.append(name, arrow(name, rows)) == 0
        for m in metrics:
            same(values(engine, catalog, body_for(m, query)), before[m], m, query)


@SETTINGS
@given(
    data=datasets(tenants=("t1",)),
    other=events(tenants=("t2",), prefix="x"),
    other_commerce=commerce(tenant="t2"),
    query=queries,
)
def test_scoped_numbers_do_not_change_when_another_tenant_adds_data(
    catalog, data, other, other_commerce, query
):
    """t2 shares persons, SDK session ids and order ids with t1; t1's numbers stay."""
    engine = duckdb()
    load(engine, data)
    query = query | {"tenants": ["t1"]}
    metrics = [
        "dau",
        "north_star",
        "session_duration_p50",
        "activation_rate",
        "retention_m1",
        "feature_adoption",
        "revenue",
        "refunds",
    ]
    bodies = [body_for(m, query) for m in metrics]
    for body in bodies:
        if body["metric"] == "retention_m1":
            body["grain"] = "month"
    before = [values(engine, catalog, body) for body in bodies]
    orders, refunds = other_commerce
    # Three more t2 events carry the SDK session ids of t1's events.
    ids = sorted({e.session_id for e in data.events if e.session_id}) or ["t1-0-0-s1"]
    shared = [replace(e, id=e.id + "s", session_id=ids[0]) for e in other[:3]]
    load(engine, Data(other + shared, {}, {}, orders, refunds))
    for body, was in zip(bodies, before, strict=True):
        same(values(engine, catalog, body), was, body["metric"], body)


@SETTINGS
@given(
    data=datasets(),
    zone=st.sampled_from(ZONES[1:]),
    grain=st.sampled_from(["day", "week", "month"]),
    week_start=st.sampled_from(["monday", "sunday"]),
)
def test_active_users_equal_brute_force_when_timezone_is_not_utc(
    catalog, data, zone, grain, week_start
):
    engine = duckdb()
    load(engine, data)
    tz = ZoneInfo(zone)
    active_days = {
        (data.who(e.person_id), e.timestamp.astimezone(tz).date())
        for e in data.events
        if e.event not in INACTIVE
    }
    ask = Ask("dau", FIRST, LAST, grain, zone, week_start)
    for metric, window in (("dau", 1), ("wau", 7), ("mau", 30)):
        body = {
            "metric": metric,
            "from": FIRST.isoformat(),
            "to": LAST.isoformat(),
            "timezone": zone,
            "grain": grain,
            "week_start": week_start,
        }
        got = values(engine, catalog, body)
        want = {}
        for bucket in ask.buckets():
            day = ask.last_day(bucket)
            since = day - timedelta(days=window - 1)
            want[(bucket,)] = len({p for p, d in active_days if since <= d <= day})
        assert got == want, metric


@settings(SETTINGS, max_examples=12)
@given(
    data=datasets(),
    query=queries,
    metrics=st.lists(st.sampled_from(EVENT_METRICS + MONEY_METRICS), min_size=3, max_size=3),
)
def test_metric_matches_reference_and_engines_agree_when_data_is_random(
    catalog, chdb, data, query, metrics
):
    duck = duckdb()
    load(duck, data)
    ch = emptied(chdb)
    load(ch, data)
    for metric in metrics:
        body = body_for(metric, query)
        if metric == "retention_m1":
            body["grain"] = "month"
        ask = Ask.of(body)
        reference = Reference(data, ask, TODAY)
        want = reference.values()
        if metric in ("activation_rate", "retention_m1"):
            keys = list(want)
            want |= {("incomplete", *k): reference.incomplete()[k] for k in keys}
        got_duck = values(duck, catalog, body)
        same(got_duck, want, metric, body)
        same(values(ch, catalog, body), got_duck, metric, body)
