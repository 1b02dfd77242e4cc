"""The values a dimension takes in a range, the most frequent first: what a filter control
offers (plans, countries, workspaces). Counted over the stored sessions (one row per visit,
far fewer than events) with the query's tenant scope and filters, through the same row
selection as every metric, and cached like metric results.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.compiler import explicit_precedence
from sextant.catalog.definitions import Catalog
from sextant.catalog.memo import COMPILED
from sextant.catalog.query import RangeQuery
from sextant.catalog.results import QUERY_TIMEOUT_SECONDS, ResultCache, remembered
from sextant.catalog.rows import Context, select_rows
from sextant.store.engine import Engine

MAX_VALUES = 1_000


def compile_values(catalog: Catalog, query: RangeQuery, dimension: str, limit: int, dialect: str):
    """`SELECT value, sessions` for `dimension` over the query's range, largest first."""
    scoped = query.model_copy(update={"breakdown": (dimension,)})
    ctx = Context(catalog, scoped, dialect)
    name = ctx.dimensions[0].name
    rows = select_rows(ctx, "sessions", scoped.bounds()).subquery("s")
    statement = (
        exp.select(
            exp.alias_(exp.column(name), "value"),
            exp.alias_(exp.Count(this=exp.Star()), "sessions"),
        )
        .from_(rows)
        .where(exp.column(name).is_(exp.null()).not_())
        .group_by(exp.column(name))
        .order_by(exp.column("sessions").desc(), exp.column("value"))
        .limit(limit)
    )
    return explicit_precedence(statement)


def _compiled(catalog, query, dimension, limit, dialect) -> tuple[exp.Select, str]:
    statement = compile_values(catalog, query, dimension, limit, dialect)
    return statement, d.render(statement, dialect)


def dimension_values(
    engine: Engine,
    catalog: Catalog,
    query: RangeQuery,
    dimension: str,
    *,
    limit: int = MAX_VALUES,
    cache: ResultCache | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """`{"dimension", "values": [{"value", "sessions"}], "elapsed_ms", "cached"}` for the
    sessions starting in the query's range (at most `limit` values)."""
    limit = max(1, min(limit, MAX_VALUES))
    statement, sql = COMPILED.get(
        catalog,
        ("values", engine.dialect, dimension, limit, query.model_dump_json()),
        lambda: _compiled(catalog, query, dimension, limit, engine.dialect),
    )
    today = today or datetime.now(query.zone).date()

    def run() -> dict[str, Any]:
        started = time.perf_counter()
        table = engine.execute(statement, max_rows=limit, timeout=QUERY_TIMEOUT_SECONDS)
        return {
            "dimension": dimension,
            "values": [
                {"value": str(r["value"]), "sessions": r["sessions"]} for r in table.to_pylist()
            ],
            "sql": sql,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
        }

    result, cached = remembered(cache, engine, ("values", engine.dialect, sql, today), run)
    return result | ({"cached": True, "elapsed_ms": 0.0} if cached else {"cached": False})
