"""DuckDB and ClickHouse (chdb) give identical results for every analysis on the same
generated data set (identity merges, tenants, SDK session ids included), in several query
shapes: time zones with DST, Sunday weeks, breakdowns, tenant scope and filters."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest

from sextant.analyses import kinds, run_analysis
from sextant.catalog import load_catalog
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from sextant.synth.dataset import generate

CATALOG = load_catalog()
TODAY = date(2025, 7, 1)
SMALL = SynthConfig(
    users=600, events=12_000, start=date(2025, 1, 1), end=date(2025, 6, 30), customers=200
)
SHAPES = {
    "paris": {"from": "2025-03-20", "to": "2025-04-05", "timezone": "Europe/Paris"},
    "ny-sunday-weeks": {"from": "2025-02-01", "to": "2025-04-30", "grain": "week",
                        "week_start": "sunday", "timezone": "America/New_York"},
    "by-plan-two-tenants": {"from": "2025-01-01", "to": "2025-06-30", "grain": "month",
                            "breakdown": ["plan"], "where": ["country IS NOT NULL"]},
}  # fmt: skip
# Each analysis's own options on this data set (none: the defaults).
FUNNEL = ["$pageview", "signed_up", "page_created"]
OPTIONS: dict[str, list[dict[str, Any]]] = {
    "sessions": [{}],
    "funnel": [
        {"steps": FUNNEL, "trend": True, "persons": True},
        {"steps": FUNNEL, "order": "strict", "window": {"value": 2, "unit": "hour"}},
        {"steps": FUNNEL, "order": "any", "attribution": "last_touch"},
        {"steps": FUNNEL, "exclusions": [{"event": "$pageleave", "between": [1, 2]}]},
    ],
    "retention": [
        {"start_event": "signed_up", "revenue": True},
        {"criterion": "on_or_after", "window": "rolling", "period": "day", "periods": 14},
        {"cohort": "recurring", "period": "month", "periods": 3},
    ],
    "adoption": [{}, {"top": 3, "over_time": False}],
    "stickiness": [{}, {"unit": "week", "cumulative": True}],
    "lifecycle": [{}, {"event": "page_edited"}],
    "paths": [{"event": "signed_up"}, {"event": "page_created", "direction": "before"}],
    "experiment": [{"experiment": "onboarding-checklist"}],
}
UNSLICED = {"paths", "experiment"}  # analyses that refuse breakdowns


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    duck = DuckDBEngine(tmp_path_factory.mktemp("agree") / "sextant.duckdb")
    generate(duck, SMALL)
    chdb = ClickHouseEngine.embedded()
    chdb.load_from(duck)
    tenants = [r["tenant_id"] for r in duck.execute(
        "SELECT tenant_id FROM events WHERE tenant_id IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 2"
    ).to_pylist()]  # fmt: skip
    SHAPES["by-plan-two-tenants"]["tenants"] = tenants
    yield duck, chdb
    chdb.close()
    duck.close()


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def cases() -> list[tuple[str, int, str]]:
    return [
        (kind, i, shape)
        for kind in kinds()
        for i in range(len(OPTIONS.get(kind, [{}])))
        for shape in SHAPES
    ]


def test_every_analysis_has_options_here():
    assert set(OPTIONS) == set(kinds()), "add the new analysis's options to OPTIONS"


@pytest.mark.parametrize(("kind", "option", "shape"), cases())
def test_engines_agree_when_running_every_analysis_on_generated_data(engines, kind, option, shape):
    duck, chdb = engines
    body = {**SHAPES[shape], **OPTIONS[kind][option]}
    if kind in UNSLICED:
        body.pop("breakdown", None)
    expected = run_analysis(duck, CATALOG, kind, body, today=TODAY).as_dict()
    got = run_analysis(chdb, CATALOG, kind, body, today=TODAY).as_dict()
    assert got["empty"] == expected["empty"]
    assert same(expected["result"], got["result"]), (expected["result"], got["result"])
    if shape != "by-plan-two-tenants":
        assert not expected["empty"], "the data set should exercise the analysis"
