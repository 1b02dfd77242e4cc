"""The experiment readout's sufficient statistics on both engines against plain Python on
random logs: exposures in every SDK form (PostHog flag calls with text or boolean responses,
`Experiment Viewed` in snake_case and camelCase), persons merged and persons seen in two
variants, metric events before exposure (the CUPED covariate), inside and after the window,
and a numeric property for sums and ratios."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analyses.reference_activity import INACTIVE
from tests.catalog.builders import Data, Event, arrow, local

ZONE = "Europe/Paris"
FIRST, LAST = date(2024, 3, 4), date(2024, 3, 24)
KEY = "checkout-test"
RANGE = {"from": str(FIRST), "to": str(LAST), "timezone": ZONE, "experiment": KEY}
METRICS = [
    {"name": "bought", "type": "conversion", "event": "purchase", "window_days": 3},
    {"name": "views", "type": "count", "event": "view", "cuped": True},
    {"name": "spent", "type": "sum", "event": "purchase", "property": "amount"},
    {
        "name": "per_order",
        "type": "ratio",
        "event": "purchase",
        "property": "amount",
        "denominator": "purchase",
    },
    {"name": "back", "type": "retention", "week": 1},
]


def exposure(i: int, person: int, when: datetime, variant: str, form: int) -> tuple[Event, dict]:
    """One exposure event in SDK form `form` and its properties."""
    name, properties = [
        ("$feature_flag_called", {"$feature_flag": KEY, "$feature_flag_response": variant}),
        ("$experiment_exposure", {"$feature_flag": KEY, "$feature_flag_response": variant}),
        ("Experiment Viewed", {"experiment_id": KEY, "variation_id": variant}),
        ("Experiment Viewed", {"experimentId": KEY, "variationId": variant}),
        ("$feature_flag_called", {"$feature_flag": KEY, "$feature_flag_response": variant == "b"}),
    ][form]
    return Event(f"x{i:03}", name, when, person, "t1"), properties


@st.composite
def logs(draw) -> tuple[Data, dict[str, dict]]:
    events, properties = [], {}
    for i in range(draw(st.integers(0, 14))):
        when = local("2024-03-01 09:00") + timedelta(
            days=draw(st.integers(0, 26)), minutes=draw(st.sampled_from([0, 30, 600]))
        )
        form = draw(st.integers(0, 4))
        variant = draw(st.sampled_from(["a", "b"]))
        if form == 4:  # a boolean flag answers true/false
            variant = draw(st.sampled_from(["a", "b"]))
        event, props = exposure(i, draw(st.integers(1, 6)), when, variant, form)
        events.append(event)
        properties[event.id] = props
    other = Event("o1", "$feature_flag_called", local("2024-03-05 10:00"), 1, "t1")
    properties["o1"] = {"$feature_flag": "another-flag", "$feature_flag_response": "a"}
    # The metric events exist in the store (an unknown event is refused), long before.
    events += [
        other,
        Event("o2", "purchase", local("2024-01-10 10:00"), 9, "t1"),
        Event("o3", "view", local("2024-01-10 10:00"), 9, "t1"),
    ]
    for i in range(draw(st.integers(0, 30))):
        when = local("2024-02-25 09:00") + timedelta(
            days=draw(st.integers(0, 35)), hours=draw(st.integers(0, 30))
        )
        name = draw(st.sampled_from(["purchase", "view", "$pageleave"]))
        event = Event(f"m{i:03}", name, when, draw(st.integers(1, 6)), "t1")
        events.append(event)
        if name == "purchase":
            properties[event.id] = {"amount": draw(st.sampled_from([5, 12.5, "n/a"]))}
    merged = draw(st.dictionaries(st.sampled_from([5, 6]), st.integers(1, 2), max_size=2))
    return Data(events, {}, merged), properties


def reload(engine, data: Data, properties: dict[str, dict]) -> None:
    for name in ("events", "person_overrides", "persons", "tenants"):
        engine.execute(
            f"{'DELETE FROM' if engine.dialect == 'duckdb' else 'TRUNCATE TABLE'} {name}"
        )
    for name, rows in data.tables().items():
        for row in rows if name == "events" else ():
            if row["id"] in properties:
                row["properties"] = json.dumps(properties[row["id"]])
        if rows:
            engine.append(name, arrow(name, rows))
    engine.mark_written()


def expected(data: Data, properties: dict[str, dict], metric: dict) -> dict[str, dict]:
    """Per variant: n and the sums the SQL returns, from each person's events in Python."""
    zone = ZoneInfo(ZONE)
    start = datetime.combine(FIRST, datetime.min.time(), zone)
    end = datetime.combine(LAST + timedelta(days=1), datetime.min.time(), zone)
    seen = defaultdict(list)
    for e in data.events:
        props = properties.get(e.id, {})
        key = props.get("$feature_flag", props.get("experiment_id", props.get("experimentId")))
        variant = props.get(
            "$feature_flag_response", props.get("variation_id", props.get("variationId"))
        )
        if key == KEY and variant is not None and start <= e.timestamp < end:
            text = str(variant).lower() if isinstance(variant, bool) else str(variant)
            seen[data.who(e.person_id)].append((e.timestamp, text))
    totals: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    pre_days = 14
    for person, found in seen.items():
        if len({v for _, v in found}) > 1:
            continue
        first = min(t for t, _ in found)
        variant = found[0][1]
        mine = [e for e in data.events if data.who(e.person_id) == person]

        def amount(e) -> float | None:
            value = properties.get(e.id, {}).get("amount")
            return float(value) if isinstance(value, int | float) else None

        def value(lo: datetime, hi: datetime, mine=mine) -> tuple[float, float]:
            hi = min(hi, end)
            inside = [e for e in mine if lo <= e.timestamp < hi]
            if metric["type"] == "retention":
                return float(any(e.event not in INACTIVE for e in inside)), 0.0
            hits = [e for e in inside if e.event == metric["event"]]
            if metric["type"] == "conversion":
                return float(bool(hits)), 0.0
            if metric["type"] == "count":
                return float(len(hits)), 0.0
            total = sum(a for e in hits if (a := amount(e)) is not None)
            return total, float(len(hits)) if metric["type"] == "ratio" else 0.0

        if metric["type"] == "retention":
            week = metric["week"] * 7
            post, den = value(first + timedelta(days=week), first + timedelta(days=week + 7))
            pre, _ = value(first - timedelta(days=7), first)
        else:
            window = metric.get("window_days")
            post, den = value(first, first + timedelta(days=window) if window else end)
            pre, _ = value(first - timedelta(days=pre_days), first)
        if not metric.get("cuped", True):
            pre = 0.0
        sums = totals[variant]
        sums["n"] += 1
        for name, v in (
            ("post_sum", post),
            ("post_squares", post * post),
            ("den_sum", den),
            ("den_squares", den * den),
            ("post_den", post * den),
            ("pre_sum", pre),
            ("pre_squares", pre * pre),
            ("post_pre", post * pre),
        ):
            sums[name] += v
    return {v: dict(s) for v, s in totals.items()}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(log=logs())
def test_statistics_equal_plain_python_on_both_engines(stores, analyze, log):
    data, properties = log
    wants = [expected(data, properties, m) for m in METRICS]
    for engine in stores:
        reload(engine, data, properties)
        result = analyze(
            engine, "experiment", RANGE | {"metrics": METRICS}, today=date(2024, 11, 15)
        )
        got = result["result"]
        assert got["empty"] == (not wants[0]), engine.dialect
        if got["empty"]:
            continue
        for metric, want in zip(got["metrics"], wants, strict=True):
            assert set(metric["statistics"]) == set(want), (engine.dialect, metric["name"])
            for variant, sums in want.items():
                for name, value in sums.items():
                    assert abs(metric["statistics"][variant][name] - value) < 1e-9, (
                        engine.dialect,
                        metric["name"],
                        variant,
                        name,
                    )


def test_windows_are_half_open_at_their_edges(empty_store, analyze):
    """Exposure at 10:00 on 5 March: a purchase 14 days before counts as the pre-exposure
    value, one a second earlier does not; the 3-day conversion window ends just before
    10:00 on 8 March."""
    at = local("2024-03-05 10:00")
    second = timedelta(seconds=1)
    x_a, props_a = exposure(0, 1, at, "a", 0)
    x_b, props_b = exposure(1, 2, at, "b", 2)
    events = [
        x_a,
        x_b,
        Event("p1", "purchase", at - timedelta(days=14), 1, "t1"),
        Event("p2", "purchase", at - timedelta(days=14) - second, 1, "t1"),
        Event("p3", "purchase", at + timedelta(days=3) - second, 1, "t1"),
        Event("p4", "purchase", at + timedelta(days=3), 2, "t1"),
        Event("v1", "view", at, 2, "t1"),
    ]
    amounts = {"p1": {"amount": 5}, "p2": {"amount": 7}, "p3": {"amount": 2}, "p4": {"amount": 3}}
    reload(empty_store, Data(events), {x_a.id: props_a, x_b.id: props_b, **amounts})
    metrics = [
        {"name": "bought", "type": "conversion", "event": "purchase", "window_days": 3},
        {"name": "spent", "type": "sum", "event": "purchase", "property": "amount"},
    ]
    result = analyze(
        empty_store, "experiment", RANGE | {"metrics": metrics}, today=date(2024, 11, 15)
    )
    bought, spent = (m["statistics"] for m in result["result"]["metrics"])
    assert (bought["a"]["post_sum"], bought["a"]["pre_sum"]) == (1, 1)  # p3 in; p1 in, p2 out
    assert bought["b"]["post_sum"] == 0  # p4 is exactly at the window's end
    assert (spent["a"]["post_sum"], spent["a"]["pre_sum"]) == (2, 5)
    assert spent["b"]["post_sum"] == 3  # no window: until the end of the range
