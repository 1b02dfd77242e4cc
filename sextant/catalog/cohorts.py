"""Cohort metrics: retention in period N and conversion within N days (SEMANTICS: Retention).

Both start from the persons doing a start event in the range. A first-time cohort is the
period of a person's first start event in the range; recurring cohorts count a person in
every period holding a start event. Breakdowns take the value at that start event, so each
person is in one slice per cohort.

Retention counts a cohort member as returned when a return event falls exactly in period
N ("on") or in any period from N on ("on_or_after"). Calendar periods are local days, weeks
(from the configured week start) or months; rolling periods (day unit) are 24-hour windows
from the start event. Period 0 is 100% by definition. Whether a cohort's period N has fully
elapsed is decided when shaping results (`results.py`), which flags it incomplete.
"""

from __future__ import annotations

from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan, bucket
from sextant.catalog.models import ConversionMetric, RetentionMetric
from sextant.catalog.rows import Context, select_rows

DAY_SECONDS = 86_400
# Days after the range end that may still hold period N of its last cohort.
PERIOD_DAYS = {"day": 1, "week": 7, "month": 31}


def _n(value: int | float) -> exp.Literal:
    return exp.Literal.number(value)


def _cols(names: list[str], table: str | None = None) -> list[exp.Column]:
    return [exp.column(n, table=table) for n in names]


def _starts(ctx: Context, metric, plan: Plan, grain: str, per_period: bool) -> str:
    """One row per cohort member: who, started (the start event's instant), bucket, slices."""
    dims = ctx.dim_names
    rows = select_rows(
        ctx,
        "events",
        ctx.query.bounds(),
        condition=ctx.selection(metric.start),
        metric_filter=metric.filter,
        columns=[exp.alias_(bucket(ctx, exp.column("timestamp", table="r"), grain), "bucket")],
    )
    rows_cte = plan.add(
        f"{metric.name}_start_events",
        rows,
        f"{metric.name}: start events in the range, persons resolved through merges",
    )
    partition = [exp.column("who")] + ([exp.column("bucket")] if per_period else [])
    first = exp.Window(
        this=exp.func("ROW_NUMBER"),
        partition_by=partition,
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("ts"))]),
    )
    ranked = exp.select("*", exp.alias_(first, "nth")).from_(rows_cte)
    cohort = (
        exp.select(
            exp.column("who"),
            exp.alias_(exp.column("ts"), "started"),
            exp.column("bucket"),
            *_cols(dims),
        )
        .from_(ranked.subquery("s"))
        .where(exp.EQ(this=exp.column("nth"), expression=_n(1)))
    )
    kind = "every period with a start event" if per_period else "first start event in the range"
    return plan.add(f"{metric.name}_cohort", cohort, f"{metric.name}: cohort members ({kind})")


def retention(ctx: Context, metric: RetentionMetric, plan: Plan) -> exp.Select:
    query, dialect, unit = ctx.query, ctx.dialect, metric.period_unit
    dims = ctx.dim_names
    cohort = _starts(ctx, metric, plan, unit, per_period=metric.cohort == "recurring")
    within = query.bounds(days_after=(metric.period + 2) * PERIOD_DAYS[unit])
    ts = exp.column("timestamp", table="r")
    returns = select_rows(
        ctx,
        "events",
        within,
        condition=ctx.selection(metric.return_),
        columns=[exp.alias_(d.local_date(ts, query.timezone, dialect, within), "day")],
        dims=False,
    )
    returns_cte = plan.add(
        f"{metric.name}_returns",
        returns,
        f"{metric.name}: return events up to period {metric.period} of the last cohort",
    )
    index = _period_index(ctx, metric)
    hit = (exp.EQ if metric.criterion == "on" else exp.GTE)(
        this=index, expression=_n(metric.period)
    )
    not_before = exp.GTE(
        this=exp.column("ts", table="x"), expression=exp.column("started", table="c")
    )
    returned = (
        exp.select(exp.column("who", table="c"), exp.column("bucket", table="c"))
        .distinct()
        .from_(exp.alias_(exp.table_(cohort), "c", table=True))
        .join(
            exp.alias_(exp.table_(returns_cte), "x", table=True),
            on=exp.EQ(this=exp.column("who", table="x"), expression=exp.column("who", table="c")),
        )
        .where(exp.and_(hit, not_before) if metric.periods == "rolling" else hit)
    )
    if metric.period == 0:  # period 0 is 100% by definition
        returned = exp.select(exp.column("who"), exp.column("bucket")).distinct().from_(cohort)
    returned_cte = plan.add(
        f"{metric.name}_returned",
        returned,
        f"{metric.name}: members "
        f"returning {metric.criterion.replace('_', ' ')} period "
        f"{metric.period}",
    )
    return _share(cohort, returned_cte, dims)


def _period_index(ctx: Context, metric: RetentionMetric) -> exp.Expression:
    """The period of a return event (alias x) counted from its member's cohort (alias c)."""
    dialect, first_weekday = ctx.dialect, ctx.query.first_weekday
    day = exp.column("day", table="x")
    if metric.periods == "rolling":
        seconds = d.seconds_between(
            exp.column("started", table="c"), exp.column("ts", table="x"), dialect
        )
        return exp.Floor(this=exp.Div(this=seconds, expression=_n(DAY_SECONDS)))
    cohort = exp.column("bucket", table="c")
    if metric.period_unit == "month":
        return exp.Sub(
            this=d.month_number(day, dialect), expression=d.month_number(cohort, dialect)
        )
    start = d.period_start(day, metric.period_unit, first_weekday, dialect)
    days = exp.Sub(
        this=d.day_number(start, dialect), expression=d.day_number(cohort.copy(), dialect)
    )
    if metric.period_unit == "week":
        return exp.Div(this=exp.paren(days), expression=_n(7))
    return days


def _share(cohort: str, reached: str, dims: list[str]) -> exp.Select:
    """Per cohort bucket and slice: reached members / members."""
    keys = ["bucket", *dims]
    on = exp.and_(
        exp.EQ(this=exp.column("who", table="r"), expression=exp.column("who", table="c")),
        exp.EQ(this=exp.column("bucket", table="r"), expression=exp.column("bucket", table="c")),
    )
    members = exp.Count(this=exp.Distinct(expressions=[exp.column("who", table="c")]))
    hits = exp.Count(this=exp.Distinct(expressions=[exp.column("who", table="r")]))
    value = exp.Div(this=exp.cast(hits, "DOUBLE"), expression=members)
    return (
        exp.select(*[exp.alias_(c, c.name) for c in _cols(keys, "c")], exp.alias_(value, "value"))
        .from_(exp.alias_(exp.table_(cohort), "c", table=True))
        .join(exp.alias_(exp.table_(reached), "r", table=True), on=on, join_type="LEFT")
        .group_by(*_cols(keys, "c"))
    )


def conversion(ctx: Context, metric: ConversionMetric, plan: Plan) -> exp.Select:
    query, dialect = ctx.query, ctx.dialect
    cohort = _starts(ctx, metric, plan, query.grain, per_period=False)
    targets = select_rows(
        ctx,
        "events",
        query.bounds(days_after=metric.within_days + 1),
        condition=ctx.selection(metric.target),
        dims=False,
    )
    targets_cte = plan.add(
        f"{metric.name}_targets",
        targets,
        f"{metric.name}: target events up to {metric.within_days} days after the range",
    )
    started = exp.column("started", table="c")
    ts = exp.column("ts", table="x")
    window = exp.and_(
        exp.GTE(this=ts, expression=started),
        exp.LTE(
            this=ts.copy(),
            expression=d.add_seconds(started.copy(), metric.within_days * DAY_SECONDS, dialect),
        ),
    )
    converted = (
        exp.select(exp.column("who", table="c"), exp.column("bucket", table="c"))
        .distinct()
        .from_(exp.alias_(exp.table_(cohort), "c", table=True))
        .join(
            exp.alias_(exp.table_(targets_cte), "x", table=True),
            on=exp.EQ(this=exp.column("who", table="x"), expression=exp.column("who", table="c")),
        )
        .where(window)
    )
    converted_cte = plan.add(
        f"{metric.name}_converted",
        converted,
        f"{metric.name}: members with a target event within {metric.within_days} days",
    )
    return _share(cohort, converted_cte, ctx.dim_names)
