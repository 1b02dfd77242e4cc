"""Exposure events, whichever SDK sent them (INTEGRATIONS: Experiment exposure), as one record
(person, experiment key, variant, time): PostHog's `$feature_flag_called` and
`$experiment_exposure` (`$feature_flag`, `$feature_flag_response`, a boolean response read
as "true"/"false"), and `Experiment Viewed` / `experiment_viewed` with `experiment_id` and
`variation_id` (or camelCase `experimentId`, `variationId`; numbers read as text). Also the
discovery of experiments: every key seen with its variants, persons and dates.
"""

from __future__ import annotations

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

EXPOSURE_EVENTS = (
    "$feature_flag_called",
    "$experiment_exposure",
    "Experiment Viewed",
    "experiment_viewed",
)
KEY_PATHS = ("$feature_flag", "experiment_id", "experimentId")
VARIANT_PATHS = ("$feature_flag_response", "variation_id", "variationId")


def _first_of(paths: tuple[str, ...], dialect: str) -> exp.Expression:
    properties = exp.column("properties", table="r")
    return exp.func("COALESCE", *(d.json_text(properties.copy(), (p,), dialect) for p in paths))


def exposure_rows(ctx: Context, bounds: tuple[datetime, datetime], key: str | None) -> exp.Select:
    """`ts`, `who` (resolved person), `key`, `variant` of each exposure event in `bounds`
    (of experiment `key`, or every one), with the query's tenant scope and filters."""
    experiment = _first_of(KEY_PATHS, ctx.dialect)
    variant = _first_of(VARIANT_PATHS, ctx.dialect)
    event = exp.column("event", table="r")
    conditions = [
        exp.In(this=event, expressions=[exp.Literal.string(e) for e in EXPOSURE_EVENTS]),
        exp.Not(this=exp.Is(this=variant.copy(), expression=exp.Null())),
        exp.Not(this=exp.Is(this=experiment.copy(), expression=exp.Null()))
        if key is None
        else exp.EQ(this=experiment.copy(), expression=exp.Literal.string(key)),
    ]
    return select_rows(
        ctx,
        "events",
        bounds,
        condition=exp.and_(*conditions),
        columns=[exp.alias_(experiment, "key"), exp.alias_(variant, "variant")],
    )


def discovery(catalog: Catalog, query: RangeQuery, dialect: str) -> exp.Select:
    """Every experiment key with its variants: persons, exposures, first and last seen."""
    ctx = Context(catalog, query, dialect)
    rows = exposure_rows(ctx, query.bounds(), None).subquery("x")
    who = exp.column("who")
    statement = (
        exp.select(
            exp.column("key"),
            exp.column("variant"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[who])), "persons"),
            exp.alias_(exp.Count(this=exp.Star()), "exposures"),
            exp.alias_(exp.func("MIN", exp.column("ts")), "first_seen"),
            exp.alias_(exp.func("MAX", exp.column("ts")), "last_seen"),
        )
        .from_(rows)
        .group_by(exp.column("key"), exp.column("variant"))
        .order_by(exp.column("key"), exp.column("variant"))
    )
    return explicit_precedence(statement)


def discover(
    engine: Engine,
    catalog: Catalog,
    query: RangeQuery,
    *,
    cache: ResultCache | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """The experiments exposed in the query's range: key, variants (each with persons and
    exposures), first and last seen. Cached by SQL and data version."""
    statement, sql = COMPILED.get(
        catalog,
        ("experiments", engine.dialect, query.model_dump_json()),
        lambda: _compiled(catalog, query, engine.dialect),
    )
    today = today or datetime.now(query.zone).date()
    key = ("experiments", engine.dialect, sql, today)
    return remembered(cache, engine, key, lambda: _experiments(engine, statement))[0]


def _experiments(engine: Engine, statement: exp.Select) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for row in engine.execute(statement, timeout=QUERY_TIMEOUT_SECONDS).to_pylist():
        item = found.setdefault(
            row["key"],
            {
                "key": row["key"],
                "variants": [],
                "first_seen": row["first_seen"],
                "last_seen": row["last_seen"],
            },
        )
        item["variants"].append(
            {"key": row["variant"], "persons": row["persons"], "exposures": row["exposures"]}
        )
        item["first_seen"] = min(item["first_seen"], row["first_seen"])
        item["last_seen"] = max(item["last_seen"], row["last_seen"])
    return list(found.values())


def _compiled(catalog: Catalog, query: RangeQuery, dialect: str) -> tuple[exp.Select, str]:
    statement = discovery(catalog, query, dialect)
    return statement, d.render(statement, dialect)
