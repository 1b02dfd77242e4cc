"""SQL of the retention analysis (SEMANTICS: Retention): cohort members from their start
event, the periods in which they came back, and what they spent since; portable sqlglot
expressions, with the calendar arithmetic `shape` shares to flag incomplete cells.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan
from sextant.catalog.models import EventSelector
from sextant.catalog.rows import Context, column, select_rows

if TYPE_CHECKING:
    from sextant.analyses.retention import RetentionQuery

# Rolling windows: 24-hour days, 7 x 24-hour weeks and 30 x 24-hour months from the start.
ROLLING_HOURS = {"day": 24, "week": 7 * 24, "month": 30 * 24}
# "On or after" is unbounded: returns are read until this long after the range.
UNBOUNDED_DAYS = 100 * 365
ORDER_FILTER = "NOT COALESCE(test, FALSE) AND cancelled_at IS NULL"  # as the revenue metric


def _n(value: float) -> exp.Literal:
    return exp.Literal.number(value)


# --- calendar arithmetic (Python), shared with shape ------------------------------------------


def period_start(day: date, unit: str, first_weekday: int) -> date:
    if unit == "week":
        return day - timedelta(days=(day.weekday() - first_weekday) % 7)
    if unit == "month":
        return day.replace(day=1)
    return day


def advance(start: date, unit: str, n: int) -> date:
    """The start of the period `n` periods after the period starting on `start`."""
    if unit == "day":
        return start + timedelta(days=n)
    if unit == "week":
        return start + timedelta(days=7 * n)
    months = start.year * 12 + start.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


def period_end(query: RetentionQuery, cohort: date, unit: str, n: int) -> datetime:
    """The UTC instant at which period `n` of `cohort` has ended for every member: calendar
    period n's end, or (rolling) the window's end for a member starting at the last moment
    of the cohort's period inside the range."""
    if query.window == "calendar":
        return query.instant(advance(cohort, unit, n + 1))
    last_start = query.instant(min(advance(cohort, unit, 1) - timedelta(days=1), query.date_to))
    last_start += timedelta(days=1)
    return last_start + timedelta(hours=ROLLING_HOURS[unit] * (n + 1))


def is_incomplete(query: RetentionQuery, cohort: date, unit: str, n: int, today: date) -> bool:
    """Period `n` of `cohort` has not fully elapsed by the end of yesterday."""
    return period_end(query, cohort, unit, n) > query.instant(today)


# --- SQL -----------------------------------------------------------------------------------


def _selector(event: str | None) -> EventSelector:
    return EventSelector(events=(event,)) if event else EventSelector(event_flag="active")


def _index(day: exp.Expression, unit: str, ctx: Context) -> exp.Expression:
    """The absolute number of the calendar period holding local date `day` (consecutive
    periods differ by 1 for days and months, by 7 for weeks)."""
    if unit == "month":
        return d.month_number(day, ctx.dialect)
    start = d.period_start(day, unit, ctx.query.first_weekday, ctx.dialect)
    return d.day_number(start, ctx.dialect)


def _span_end(query: RetentionQuery, unit: str, last: int) -> datetime:
    """The end of period `last` of the range's last cohort: no return after it counts."""
    if query.window == "calendar":
        first = period_start(query.date_to, unit, query.first_weekday)
        return query.instant(advance(first, unit, last + 1))
    return query.bounds()[1] + timedelta(hours=ROLLING_HOURS[unit] * (last + 1))


def members(ctx: Context, plan: Plan, unit: str) -> str:
    """One row per cohort member: who, cohort (period start), idx (its number), started
    (the start event's instant) and the breakdown values at that start event."""
    query: RetentionQuery = ctx.query  # type: ignore[assignment]
    dims = [exp.column(n) for n in ctx.dim_names]
    bounds = query.bounds()
    day = d.local_date(exp.column("timestamp", table="r"), query.timezone, ctx.dialect, bounds)
    rows = select_rows(
        ctx,
        "events",
        bounds,
        condition=ctx.selection(_selector(query.start_event)),
        columns=[exp.alias_(day, "day"), exp.alias_(exp.column("id", table="r"), "event_id")],
    )
    starts = plan.add(
        "start_events",
        rows,
        f"retention: {query.start_event or 'active'} events in the range, persons resolved "
        "through merges, local days",
    )
    period = d.period_start(exp.column("day"), unit, query.first_weekday, ctx.dialect)
    per_period = query.cohort == "recurring"
    if dims:
        # The breakdown is read at the member's first start event; the event id breaks a tie.
        order = [exp.Ordered(this=exp.column("ts")), exp.Ordered(this=exp.column("event_id"))]
        partition = [exp.column("who")] + ([period.copy()] if per_period else [])
        nth = exp.Window(
            this=exp.func("ROW_NUMBER"), partition_by=partition, order=exp.Order(expressions=order)
        )
        first = (
            exp.select(
                exp.column("who"),
                exp.alias_(period, "cohort"),
                exp.alias_(exp.column("ts"), "started"),
                *dims,
                exp.alias_(nth, "nth"),
            )
            .from_(starts)
            .subquery("s")
        )
        where = exp.EQ(this=exp.column("nth"), expression=_n(1))
    else:
        # Without breakdowns a group-by finds each first start event, cheaper than ranking.
        keys = [exp.column("who")] + ([period.copy()] if per_period else [])
        cohort = period if per_period else exp.func("MIN", exp.column("day"))
        first = (
            exp.select(
                exp.column("who"),
                exp.alias_(cohort, "cohort" if per_period else "first_day"),
                exp.alias_(exp.func("MIN", exp.column("ts")), "started"),
            )
            .from_(starts)
            .group_by(*keys)
            .subquery("s")
        )
        where = None
    cohort = exp.column("cohort")
    if not dims and not per_period:
        cohort = d.period_start(exp.column("first_day"), unit, query.first_weekday, ctx.dialect)
    idx = d.month_number(cohort.copy(), ctx.dialect)
    if unit != "month":
        idx = d.day_number(cohort.copy(), ctx.dialect)
    select = exp.select(
        exp.column("who"),
        exp.alias_(cohort, "cohort"),
        exp.alias_(idx, "idx"),
        exp.column("started"),
        *[dim.copy() for dim in dims],
    ).from_(first)
    if where is not None:
        select = select.where(where)
    kind = "every period with a start event" if per_period else "first start event in the range"
    return plan.add(f"members_{unit}", select, f"retention: cohort members by {unit} ({kind})")


def _number(ctx: Context, unit: str, x_idx, x_ts) -> exp.Expression:
    """Period number N of a return (x) for its member (alias c)."""
    if ctx.query.window == "rolling":  # type: ignore[attr-defined]
        seconds = d.seconds_between(exp.column("started", table="c"), x_ts, ctx.dialect)
        return exp.Floor(this=exp.Div(this=seconds, expression=_n(ROLLING_HOURS[unit] * 3600)))
    diff = exp.Sub(this=x_idx, expression=exp.column("idx", table="c"))
    return exp.IntDiv(this=exp.paren(diff), expression=_n(7)) if unit == "week" else diff


Part = tuple[str, str, tuple[int, ...]]  # name, unit, the periods N (>= 1) it reports


def _returns(ctx: Context, plan: Plan, parts: list[Part]) -> dict[str, str]:
    """Per unit, the CTE of returns to join with members (alias x): distinct (who, idx)
    for calendar periods, distinct (who, ts) for rolling ones, each person's last return
    (who, ts) with "on or after". One scan of events serves every part."""
    query: RetentionQuery = ctx.query  # type: ignore[assignment]
    selection = ctx.selection(_selector(query.return_event))
    name = query.return_event or "active"
    units = sorted({unit for _, unit, _ in parts})
    if query.criterion == "on_or_after":
        span = query.bounds(days_after=UNBOUNDED_DAYS)
        rows = select_rows(ctx, "events", span, condition=selection, dims=False)
        lasts = (
            exp.select(exp.column("who"), exp.alias_(exp.func("MAX", exp.column("ts")), "ts"))
            .from_(rows.subquery("x"))
            .group_by(exp.column("who"))
        )
        note = f"retention: each person's last {name} event (unbounded)"
        return dict.fromkeys(units, plan.add("last_returns", lasts, note))
    span = (
        query.bounds()[0],
        max(_span_end(query, unit, max(shown)) for _, unit, shown in parts),
    )
    ts = exp.column("timestamp", table="r")
    day = d.local_date(ts, query.timezone, ctx.dialect, span)
    if query.window == "rolling":
        rows = select_rows(ctx, "events", span, condition=selection, dims=False)
        distinct = exp.select("who", "ts").distinct().from_(rows.subquery("x"))
        note = f"retention: {name} events up to the last period shown"
        return dict.fromkeys(units, plan.add("returns", distinct, note))
    if len(units) == 1:
        # Distinct person-periods before the join: a person's many events meet their
        # cohorts once per period.
        (unit,) = units
        idx = exp.alias_(_index(day, unit, ctx), "idx")
        rows = select_rows(ctx, "events", span, condition=selection, dims=False, columns=[idx])
        distinct = exp.select("who", "idx").distinct().from_(rows.subquery("x"))
        note = f"retention: persons' {name} {unit}s up to the last period shown"
        return {unit: plan.add(f"returns_{unit}", distinct, note)}
    rows = select_rows(
        ctx, "events", span, condition=selection, dims=False, columns=[exp.alias_(day, "day")]
    )
    days = exp.select("who", "day").distinct().from_(rows.subquery("x"))
    days_cte = plan.add("return_days", days, f"retention: persons' {name} days")
    out = {}
    for unit in units:
        idx = exp.alias_(_index(exp.column("day"), unit, ctx), "idx")
        periods = exp.select(exp.column("who"), idx).from_(days_cte)
        if unit != "day":
            periods = periods.distinct()
        note = f"retention: persons' {name} {unit}s"
        out[unit] = plan.add(f"returns_{unit}", periods, note)
    return out


def counts(ctx: Context, parts: list[Part]) -> exp.Select:
    """Rows (part, cohort, breakdowns, period, persons) for each part (the matrix, the
    Day-N values): period 0 holds the cohort's size; with "on", period N the members
    returning in exactly period N; with "on_or_after", period N the members whose last
    return falls in N (capped at the last N of the part), which `shape` sums from N on."""
    query: RetentionQuery = ctx.query  # type: ignore[assignment]
    plan = Plan()
    dims = ctx.dim_names
    returns = _returns(ctx, plan, parts)
    who_c = exp.column("who", table="c")
    selects = []
    for part, unit, shown in parts:
        cohort = members(ctx, plan, unit)
        last = max(shown)
        x_ts = exp.column("ts", table="x")
        if query.criterion == "on":
            number = _number(ctx, unit, exp.column("idx", table="x"), x_ts)
            if len(shown) == last:
                keep = exp.Between(this=number, low=_n(1), high=_n(last))
            else:
                keep = exp.In(this=number, expressions=[_n(n) for n in shown])
            # Calendar returns are one row per person and period, so each member meets a
            # period once; rolling returns are events and need DISTINCT.
            persons = (
                exp.Count(this=exp.Distinct(expressions=[who_c.copy()]))
                if query.window == "rolling"
                else exp.func("COUNT", exp.Star())
            )
        else:
            # One row per person here, so the per-row time zone conversion is cheap.
            last_day = d.local_date(x_ts.copy(), query.timezone, ctx.dialect)
            reached = _number(ctx, unit, _index(last_day, unit, ctx), x_ts)
            number = exp.Least(this=reached, expressions=[_n(last)])
            keep = exp.GTE(this=reached.copy(), expression=_n(1))
            persons = exp.func("COUNT", exp.Star())
        group = [exp.column("cohort", table="c"), *[exp.column(n, table="c") for n in dims]]
        returned = (
            exp.select(
                exp.alias_(exp.Literal.string(part), "part"),
                *[exp.alias_(g.copy(), g.name) for g in group],
                exp.alias_(number, "period"),
                exp.alias_(persons, "persons"),
            )
            .from_(exp.alias_(exp.table_(cohort), "c", table=True))
            .join(
                exp.alias_(exp.table_(returns[unit]), "x", table=True),
                on=exp.EQ(this=exp.column("who", table="x"), expression=who_c.copy()),
            )
            .where(keep)
            .group_by(*[g.copy() for g in group], number.copy())
        )
        criterion = "in" if query.criterion == "on" else "last in"
        returned_cte = plan.add(
            f"returned_{part}", returned, f"retention: members returning {criterion} {unit} N"
        )
        sizes = exp.select(
            exp.alias_(exp.Literal.string(part), "part"),
            exp.column("cohort"),
            *[exp.column(n) for n in dims],
            exp.alias_(_n(0), "period"),
            exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
        ).from_(cohort)
        selects.append(sizes.group_by(exp.column("cohort"), *[exp.column(n) for n in dims]))
        selects.append(exp.select(exp.Star()).from_(returned_cte))
    union = selects[0]
    for one in selects[1:]:
        union = exp.union(union, one, distinct=False)
    return plan.build(exp.select(exp.Star()).from_(union.subquery("u")))


def lifetime_value(ctx: Context, unit: str, last: int) -> exp.Select:
    """Rows (cohort, breakdowns, period, currency, revenue): net order totals of members
    from their start event, by period N in 0..last (summed cumulatively by `shape`). Orders
    are tied to members by `orders.person_id` (resolved through merges); orders without a
    person belong to no cohort."""
    query: RetentionQuery = ctx.query  # type: ignore[assignment]
    plan = Plan()
    dims = ctx.dim_names
    cohort = members(ctx, plan, unit)
    span = (query.bounds()[0], _span_end(query, unit, last))
    ts = exp.column("created_at", table="r")
    day = d.local_date(ts, query.timezone, ctx.dialect, span)
    # `where` conditions select events (and so cohorts); orders are their members' orders.
    unfiltered = Context(ctx.catalog, query.model_copy(update={"where": ()}), ctx.dialect)
    rows = select_rows(
        unfiltered,
        "orders",
        span,
        metric_filter=ORDER_FILTER,
        dims=False,
        columns=[
            exp.alias_(exp.column("person_id", table="r"), "buyer"),
            exp.alias_(exp.column("currency", table="r"), "currency"),
            exp.alias_(column("orders", "net_total"), "amount"),
            exp.alias_(_index(day, unit, ctx), "idx"),
        ],
    )
    buyer = exp.column("buyer", table="x")
    resolved = exp.func("COALESCE", exp.column("person_id", table="o"), buyer)
    orders = (
        exp.select(
            exp.alias_(resolved, "who"),
            exp.column("ts", table="x"),
            exp.column("idx", table="x"),
            exp.column("currency", table="x"),
            exp.column("amount", table="x"),
        )
        .from_(rows.subquery("x"))
        .join(
            exp.alias_(exp.table_("person_overrides"), "o", table=True),
            on=exp.EQ(this=exp.column("old_person_id", table="o"), expression=buyer.copy()),
            join_type="LEFT",
        )
        .where(exp.Not(this=exp.Is(this=buyer.copy(), expression=exp.Null())))
    )
    orders_cte = plan.add(
        "orders",
        orders,
        "retention: non-test, non-cancelled orders net of refunds, buyers resolved through merges",
    )
    number = _number(ctx, unit, exp.column("idx", table="x"), exp.column("ts", table="x"))
    group = [exp.column("cohort", table="c"), *[exp.column(n, table="c") for n in dims]]
    since_start = exp.GTE(
        this=exp.column("ts", table="x"), expression=exp.column("started", table="c")
    )
    spent = (
        exp.select(
            *[exp.alias_(g.copy(), g.name) for g in group],
            exp.alias_(number, "period"),
            exp.column("currency", table="x"),
            exp.alias_(exp.func("SUM", exp.column("amount", table="x")), "revenue"),
        )
        .from_(exp.alias_(exp.table_(cohort), "c", table=True))
        .join(
            exp.alias_(exp.table_(orders_cte), "x", table=True),
            on=exp.EQ(this=exp.column("who", table="x"), expression=exp.column("who", table="c")),
        )
        .where(exp.and_(since_start, exp.Between(this=number.copy(), low=_n(0), high=_n(last))))
        .group_by(*[g.copy() for g in group], number.copy(), exp.column("currency", table="x"))
    )
    return plan.build(spent)
