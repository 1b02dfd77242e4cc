"""Funnels on random small event logs agree with the plain-Python reference on both engines
(sequential, strict, any order, exclusions, attribution, entry), and keep their invariants:
counts never rise step to step, row order does not matter, one tenant's data never moves
another tenant's numbers. Logs hold few persons and names, equal timestamps, merges,
tenants and the Paris DST change (2024-03-31)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.analyses import run_analysis
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from tests.analyses.reference_funnels import Ask, Step, funnel, summary
from tests.catalog.builders import Data, Event, load, local

NAMES = ("A", "B", "C", "X")
BASE = local("2024-03-29 22:00")  # two hours before the range; the range spans the DST change
ANCHOR = local("2023-01-01 12:00")  # every name stored, far outside the range
TABLES = ("events", "person_overrides", "persons", "tenants")
CASES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module", params=["duckdb", "chdb"])
def store(request, tmp_path_factory):
    if request.param == "duckdb":
        engine = DuckDBEngine(tmp_path_factory.mktemp("funnels") / "sextant.duckdb")
    else:
        engine = ClickHouseEngine.embedded()
    yield engine
    engine.close()


def fill(engine, data: Data, order=None) -> None:
    """Replace the store's rows with `data` (faster than a new store per example)."""
    for table in TABLES:
        if engine.dialect == "clickhouse":
            engine.execute(f"TRUNCATE TABLE {table}")
        else:
            engine.execute(f"DELETE FROM {table}")
    anchors = [Event(f"z{i}", name, ANCHOR, 99, "t1") for i, name in enumerate(NAMES)]
    engine.mark_written()
    load(engine, Data(events=data.events + anchors, overrides=data.overrides), order)


@st.composite
def logs(draw) -> Data:
    count = draw(st.integers(1, 14))
    events = []
    for i in range(count):
        events.append(
            Event(
                f"e{i:02d}",
                draw(st.sampled_from(NAMES)),
                BASE + timedelta(minutes=20 * draw(st.integers(0, 180))),
                draw(st.integers(1, 4)),
                draw(st.sampled_from(["t1", "t2"])),
                draw(st.sampled_from([None, "free", "plus"])),
                draw(st.sampled_from([None, "FR", "DE"])),
            )
        )
    overrides = draw(st.sampled_from([{}, {3: 1}, {4: 2, 3: 2}]))
    return Data(events=events, overrides=overrides)


@st.composite
def asks(draw) -> tuple[dict, Ask]:
    order = draw(st.sampled_from(["sequential", "strict", "any"]))
    names = draw(st.lists(st.sampled_from(("A", "B", "C")), min_size=2, max_size=4))
    window = draw(st.sampled_from([1200, 3600, 5 * 3600, 86_400]))
    entry = draw(st.sampled_from(["latest", "first"]))
    body = {
        "from": "2024-03-30",
        "to": "2024-03-31",
        "timezone": "Europe/Paris",
        "steps": names,
        "order": order,
        "window": window,
        "entry": entry,
    }
    ask = Ask(
        [Step(n) for n in names],
        date(2024, 3, 30),
        date(2024, 3, 31),
        "Europe/Paris",
        window,
        order,
        entry,
        today=date(2024, 3, 31),  # windows from late on the 30th are still open
    )
    if order != "any" and draw(st.booleans()):
        i = draw(st.integers(1, len(names) - 1))
        j = draw(st.integers(i + 1, len(names)))
        body["exclusions"] = [{"event": "X", "between": [i, j]}]
        ask.exclusions = [(Step("X"), i, j)]
    if draw(st.booleans()):
        attribution = draw(st.sampled_from(["first_touch", "last_touch", 1, 2]))
        body["breakdown"] = ["country"]
        body["attribution"] = attribution
        ask.breakdown, ask.attribution = ("country",), attribution
    if draw(st.booleans()):
        body["tenants"] = ["t1"]
        ask.tenants = ("t1",)
    return body, ask


def run(engine, catalog, body, today=date(2024, 3, 31)) -> dict:
    return run_analysis(engine, catalog, "funnel", body, today=today).as_dict()["result"]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def check(result: dict, want: dict, n: int) -> None:
    steps = result["total"]["steps"]
    assert [s["persons"] for s in steps] == want["reached"]
    assert [s["incomplete"] for s in steps] == want["incomplete"]
    assert result["total"]["excluded"] == want["excluded"]
    for k in range(2, n + 1):
        got = steps[k - 1]["time_to_convert"]
        expected = want["times"].get(k)
        if expected is None:
            assert got is None or got["mean"] is None
        else:
            assert close(got["mean"], expected[0]), (k, got, expected)
            assert close(got["median"], expected[1]), (k, got, expected)
            assert close(got["p95"], expected[2]), (k, got, expected)
    if result["breakdown"]:
        got = {
            (row["country"],): [s["persons"] for s in row["steps"]] for row in result["breakdown"]
        }
        assert got == want["buckets"]


@CASES
@given(data=logs(), ask=asks())
def test_engine_matches_reference(store, catalog, data, ask):
    body, reference = ask
    fill(store, data)
    n = len(reference.steps)
    check(run(store, catalog, body), summary(funnel(data, reference), n), n)


@settings(CASES, max_examples=25)
@given(data=logs(), ask=asks())
def test_counts_never_rise_and_row_order_does_not_matter(store, catalog, data, ask):
    body, _ = ask
    fill(store, data, order=lambda rows: rows[::-1])
    result = run(store, catalog, body)
    counts = [s["persons"] for s in result["total"]["steps"]]
    assert counts == sorted(counts, reverse=True)
    fill(store, data)
    assert run(store, catalog, body) == result


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=logs(), other=logs(), ask=asks())
def test_one_tenant_never_moves_another(store, catalog, data, other, ask):
    body, _ = ask
    mine = Data(events=[e for e in data.events if e.tenant_id == "t1"], overrides=data.overrides)
    theirs = [
        Event("o" + e.id, e.event, e.timestamp, e.person_id + 10, "t2", e.plan, e.country)
        for e in other.events
    ]
    body = body | {"tenants": ["t1"]}
    fill(store, mine)
    alone = run(store, catalog, body)
    fill(store, Data(events=mine.events + theirs, overrides=mine.overrides))
    assert run(store, catalog, body) == alone
