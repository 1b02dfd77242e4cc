"""Several metrics over the same range, grain, slices, filters and tenants in one statement.

A dashboard asks for DAU, WAU, MAU and stickiness together. Compiled into one plan, their
common steps (the scan of active person-days, each person's previous active day) are
planned once (`Plan.add` keeps one copy of identical steps), so the engine reads the events
once instead of once per metric. The statement stacks each metric's rows under a `metric`
column (its position in the batch); each result is then shaped and cached as if it had
been run alone, and shows its own SQL (the definition), which gives the same rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from sqlglot import exp

from sextant.catalog.compiler import (
    Compiled,
    Plan,
    compile_metric,
    compile_query,
    explicit_precedence,
    extra_keys,
    shared_lookback,
)
from sextant.catalog.definitions import Catalog
from sextant.catalog.memo import COMPILED
from sextant.catalog.query import MetricQuery
from sextant.catalog.results import (
    MAX_ROWS,
    QUERY_TIMEOUT_SECONDS,
    MetricResult,
    ResultCache,
    cache_key,
    make_result,
    run_query,
)
from sextant.catalog.rows import Context
from sextant.store.engine import Engine


def batchable(catalog: Catalog, query: MetricQuery) -> bool:
    """Metrics whose rows are `bucket`, slices and `value` at the query's own grain."""
    metric = catalog.metric(query.metric)
    return metric.type != "retention" and not extra_keys(catalog, metric)


def compile_batch(
    catalog: Catalog, queries: Sequence[MetricQuery], dialect: str
) -> tuple[list[Compiled], exp.Select]:
    """Each query compiled alone (for its SQL and shaping) and all of them as one statement
    with a leading `metric` column. The queries may differ only in metric and parameters."""
    shapes = {q.model_dump_json(exclude={"metric", "parameters"}) for q in queries}
    if len(shapes) != 1 or not all(batchable(catalog, q) for q in queries):
        raise ValueError("a batch holds batchable metrics over the same range and slices")
    alone = [compile_query(catalog, q, dialect) for q in queries]
    lookback = shared_lookback(catalog, [c.metric for c in alone])
    plan, stacked = Plan(), None
    for i, compiled in enumerate(alone):  # tagged by position: a metric may come twice
        ctx = Context(catalog, compiled.query, dialect, lookback)
        final = compile_metric(ctx, compiled.metric, plan, ())
        tagged = exp.select(exp.alias_(exp.Literal.number(i), "metric"), "*").from_(
            final.subquery(f"{compiled.metric.name}_{i}")
        )
        stacked = tagged if stacked is None else exp.union(stacked, tagged, distinct=False)
    return alone, explicit_precedence(plan.build(stacked))


def run_batch(
    engine: Engine,
    catalog: Catalog,
    queries: Sequence[MetricQuery],
    *,
    cache: ResultCache | None = None,
    today: date | None = None,
    timeout: float | None = QUERY_TIMEOUT_SECONDS,
) -> list[MetricResult]:
    """Results of `queries`, in order: those sharing a range and slices run as one statement
    (or come from the cache), the others one by one."""
    groups: dict[str, list[int]] = {}
    for i, query in enumerate(queries):
        if batchable(catalog, query):
            shape = query.model_dump_json(exclude={"metric", "parameters"})
            groups.setdefault(shape, []).append(i)
    results: dict[int, MetricResult] = {}
    for members in groups.values():
        if len(members) > 1:
            batch = [queries[i] for i in members]
            for i, result in zip(members, _run_together(engine, catalog, batch, cache, today,
                                                        timeout), strict=True):  # fmt: skip
                results[i] = result
    return [
        results.get(i) or run_query(engine, catalog, q, cache=cache, today=today, timeout=timeout)
        for i, q in enumerate(queries)
    ]


def _run_together(engine, catalog, queries, cache, today, timeout) -> list[MetricResult]:
    alone, statement = COMPILED.get(
        catalog,
        ("batch", engine.dialect, *(q.model_dump_json() for q in queries)),
        lambda: compile_batch(catalog, queries, engine.dialect),
    )
    today = today or datetime.now(queries[0].zone).date()
    version = engine.data_version
    keys = [cache_key(c, version, today) for c in alone]
    if cache is not None:
        hits = [cache.get(k) for k in keys]
        if all(hits):
            return [replace(hit, cached=True, elapsed_ms=0.0) for hit in hits]
    started = time.perf_counter()
    table = engine.execute(statement, max_rows=MAX_ROWS, timeout=timeout)
    elapsed = time.perf_counter() - started
    rows: list[list[dict]] = [[] for _ in alone]
    for row in table.to_pylist():
        rows[row.pop("metric")].append(row)
    results = []
    for compiled, key, own in zip(alone, keys, rows, strict=True):
        result = make_result(compiled, own, version, elapsed, today)
        if cache is not None and engine.data_version == version:
            cache.put(key, result)
        results.append(result)
    return results
