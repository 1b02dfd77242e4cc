"""The experiment readout's SQL: who was exposed to which variant first (persons seen in two
variants set aside), each exposed person's metric value from their first exposure (and in
the days before it, for CUPED), and per variant and exposure day the sufficient statistics
the statistics need: n, sums, sums of squares and cross products. Nothing per person leaves
the engine.
"""

from __future__ import annotations

from datetime import timedelta

import sqlglot
from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.models import EventSelector
from sextant.catalog.rows import Context, row_condition, select_rows
from sextant.experiments.definitions import ExperimentMetric
from sextant.experiments.exposures import exposure_rows

DAY_SECONDS = 86_400

ASSIGNED = """
SELECT who, MIN(ts) AS first_ts, MIN(variant) AS chosen, COUNT(DISTINCT variant) AS variants
FROM exposure GROUP BY who
"""
# One row per variant (NULL: persons exposed to several, left out of every readout).
EXPOSURES = """
SELECT CASE WHEN variants = 1 THEN chosen END AS variant, COUNT(*) AS persons
FROM assigned GROUP BY CASE WHEN variants = 1 THEN chosen END
"""
PER_PERSON = """
SELECT x.chosen AS variant, x.first_ts AS first_ts, :post AS post, :den AS den, :pre AS pre
FROM assigned AS x LEFT JOIN measured AS m ON m.who = x.who
WHERE x.variants = 1
GROUP BY x.who, x.chosen, x.first_ts
"""
STATISTICS = """
SELECT variant, day, COUNT(*) AS n,
       SUM(post) AS post_sum, SUM(post * post) AS post_squares,
       SUM(den) AS den_sum, SUM(den * den) AS den_squares, SUM(post * den) AS post_den,
       SUM(pre) AS pre_sum, SUM(pre * pre) AS pre_squares, SUM(post * pre) AS post_pre
FROM (SELECT *, :day AS day FROM per_person) AS p GROUP BY variant, day ORDER BY variant, day
"""


def _sql(template: str, **parts: exp.Expression) -> exp.Select:
    return exp.replace_placeholders(sqlglot.parse_one(template), **parts)


def _number(text: exp.Expression, dialect: str) -> exp.Expression:
    """A JSON property as a number; NULL when it is not one."""
    if dialect == "clickhouse":
        return exp.func("toFloat64OrNull", text)
    return exp.TryCast(this=text, to=exp.DataType.build("DOUBLE"))


def _seconds(ts: exp.Expression, seconds: float, dialect: str) -> exp.Expression:
    return d.add_seconds(ts, round(seconds), dialect)


def exposures(ctx: Context, key: str) -> exp.Select:
    """Persons per variant (and, as variant NULL, those exposed to more than one)."""
    rows = exposure_rows(ctx, ctx.query.bounds(), key)
    return _sql(EXPOSURES).with_("exposure", as_=rows).with_("assigned", as_=_sql(ASSIGNED))


def statistics(ctx: Context, key: str, metric: ExperimentMetric, pre_days: int) -> exp.Select:
    """Sufficient statistics of `metric` per variant and local day of first exposure."""
    query, dialect = ctx.query, ctx.dialect
    start, end = query.bounds()
    r = "r"
    event = exp.column("event", table=r)
    properties = exp.column("properties", table=r)

    def matches(name: str | None, where: tuple[str, ...]) -> exp.Expression:
        if name is None:  # retention: any active event
            return ctx.selection(EventSelector(event_flag="active"))
        conditions = [exp.EQ(this=event.copy(), expression=exp.Literal.string(name))]
        conditions += [
            row_condition(ctx, "events", text, f"metrics.{metric.name}.where") for text in where
        ]
        return exp.and_(*conditions)

    is_num = matches(metric.event, metric.where)
    is_den = matches(metric.denominator, ()) if metric.type == "ratio" else exp.false()
    value = (
        _number(d.json_text(properties, tuple(metric.property.split(".")), dialect), dialect)
        if metric.property
        else exp.Literal.number(1)
    )
    columns = [
        exp.alias_(
            exp.Case(ifs=[exp.If(this=is_num, true=exp.true())], default=exp.false()), "is_num"
        ),
        exp.alias_(
            exp.Case(ifs=[exp.If(this=is_den, true=exp.true())], default=exp.false()), "is_den"
        ),
        exp.alias_(value, "value"),
    ]
    measured = select_rows(
        ctx,
        "events",
        (start - timedelta(days=pre_days), end),
        condition=exp.or_(is_num.copy(), is_den.copy()),
        columns=columns,
        dims=False,
    )
    first = exp.column("first_ts", table="x")
    ts = exp.column("ts", table="m")
    if metric.type == "retention":
        lo, hi = metric.week * 7 * DAY_SECONDS, (metric.week + 1) * 7 * DAY_SECONDS
        post_window = (_seconds(first.copy(), lo, dialect), _seconds(first.copy(), hi, dialect))
        pre_window = (_seconds(first.copy(), -7 * DAY_SECONDS, dialect), first.copy())
    else:
        upper = (
            d.instant(end, dialect)
            if metric.window_days is None
            else _seconds(first.copy(), metric.window_days * DAY_SECONDS, dialect)
        )
        post_window = (first.copy(), upper)
        pre_window = (_seconds(first.copy(), -pre_days * DAY_SECONDS, dialect), first.copy())

    def total(window, flag: str, of_value: bool) -> exp.Expression:
        inside = exp.and_(
            exp.GTE(this=ts.copy(), expression=window[0].copy()),
            exp.LT(this=ts.copy(), expression=window[1].copy()),
            exp.column(flag, table="m"),
        )
        amount = exp.column("value", table="m") if of_value else exp.Literal.number(1)
        case = exp.Case(ifs=[exp.If(this=inside, true=amount)], default=exp.Literal.number(0))
        if metric.type in ("conversion", "retention"):
            return exp.func("MAX", case)
        return exp.func("COALESCE", exp.func("SUM", case), exp.Literal.number(0))

    of_value = metric.type in ("sum", "ratio")
    post = total(post_window, "is_num", of_value)
    den = total(post_window, "is_den", False) if metric.type == "ratio" else exp.Literal.number(0)
    pre = total(pre_window, "is_num", of_value) if metric.cuped else exp.Literal.number(0)
    day = d.local_date(exp.column("first_ts"), query.timezone, dialect)
    return (
        _sql(STATISTICS, day=day)
        .with_("exposure", as_=exposure_rows(ctx, query.bounds(), key))
        .with_("assigned", as_=_sql(ASSIGNED))
        .with_("measured", as_=measured)
        .with_("per_person", as_=_sql(PER_PERSON, post=post, den=den, pre=pre))
    )
