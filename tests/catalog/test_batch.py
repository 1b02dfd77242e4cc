"""Metrics computed together in one statement give exactly what each gives alone."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from sextant.catalog.batch import compile_batch, run_batch
from sextant.catalog.dialects import render
from sextant.catalog.query import MetricQuery
from sextant.catalog.results import ResultCache, run_query
from tests.catalog.test_metric_values import MARCH, TODAY

SHAPES = [
    {},
    {"grain": "week", "week_start": "sunday"},
    {"breakdown": ["plan"], "where": ["country = 'FR'"]},
    {"tenants": ["t1"]},
]


def queries(names: list[str], extra: dict, **per_metric: dict) -> list[MetricQuery]:
    return [
        MetricQuery.parse(MARCH | extra | {"metric": n} | per_metric.get(n, {}), today=TODAY)
        for n in names
    ]


def comparable(result) -> dict:
    out = asdict(result)
    for volatile in ("elapsed_ms", "cached", "data_version"):
        out.pop(volatile)
    return out


@pytest.mark.parametrize("extra", SHAPES, ids=["day", "week", "sliced", "scoped"])
def test_batch_equals_each_metric_alone_when_sharing_a_range(engines, catalog, extra):
    batch = queries(["dau", "wau", "mau", "stickiness", "signups", "power_users"], extra)
    together = run_batch(engines, catalog, batch, today=TODAY)
    alone = [run_query(engines, catalog, q, today=TODAY) for q in batch]
    assert [comparable(r) for r in together] == [comparable(r) for r in alone]
    assert any(row["value"] for r in together for row in r.rows)


def test_events_are_scanned_once_when_active_users_share_a_batch(catalog):
    _, statement = compile_batch(catalog, queries(["dau", "wau", "mau"], {}), "duckdb")
    sql = render(statement, "duckdb")
    assert sql.count("FROM events") == 1
    assert sql.count("LAG(") == 1  # the previous active day serves every window size


def test_results_keep_their_order_when_some_metrics_cannot_be_batched(engines, catalog):
    mixed = queries(["revenue", "dau", "retention_m1", "mau", "aov"], {})
    together = run_batch(engines, catalog, mixed, today=TODAY)
    assert [r.metric for r in together] == ["revenue", "dau", "retention_m1", "mau", "aov"]
    alone = [run_query(engines, catalog, q, today=TODAY) for q in mixed]
    assert [comparable(r) for r in together] == [comparable(r) for r in alone]


def test_a_metric_twice_with_other_parameters_keeps_both_when_batched(engines, catalog):
    twice = queries(["power_users", "power_users"], {})
    twice[1] = MetricQuery.parse(
        MARCH | {"metric": "power_users", "parameters": {"min_days": 2}}, today=TODAY
    )
    strict, loose = run_batch(engines, catalog, twice, today=TODAY)
    assert strict.rows == run_query(engines, catalog, twice[0], today=TODAY).rows
    assert loose.rows == run_query(engines, catalog, twice[1], today=TODAY).rows
    assert sum(r["value"] for r in loose.rows) > sum(r["value"] for r in strict.rows)


def test_a_repeated_batch_is_served_from_the_cache_when_data_is_unchanged(engines, catalog):
    cache = ResultCache()
    batch = queries(["dau", "wau", "mau"], {})
    first = run_batch(engines, catalog, batch, cache=cache, today=TODAY)
    again = run_batch(engines, catalog, batch, cache=cache, today=TODAY)
    assert [r.cached for r in first] == [False] * 3 and [r.cached for r in again] == [True] * 3
    assert [r.rows for r in again] == [r.rows for r in first]
    # Each result is cached under its own SQL: a later query for one of them alone hits.
    assert run_query(engines, catalog, batch[1], cache=cache, today=TODAY).cached


def test_compile_batch_refuses_queries_over_different_ranges(catalog):
    later = {"metric": "wau", "from": "2024-03-02", "to": "2024-03-31"}
    mixed = [*queries(["dau"], {}), MetricQuery.parse(later, today=TODAY)]
    with pytest.raises(ValueError, match="same range"):
        compile_batch(catalog, mixed, "duckdb")
