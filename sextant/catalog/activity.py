"""Active users (DAU, WAU, MAU, power users, North Star) and feature adoption.

Active users use the activity-interval form, which is what makes a 180-day series of WAU or
MAU fast: each person's distinct active days become the days on which the person counts
(a day d counts a person when at least `min_days` of their active days lie in d-N+1..d),
those spans are clipped so a person's spans never overlap, and the series is a running
sum of +1 at each span's first day and -1 after its last. That reads each active
person-day once, where a sliding COUNT(DISTINCT) or a range join re-reads it N times.

For a person with active days a1 < a2 < ... and window N, min_days k: day d qualifies when
a_i <= d <= a_(i-k+1) + N - 1 for some i, so span i is [a_i, a_(i-k+1) + N - 1]; starts and
ends both grow with i, so clipping span i to start after span i-1's end leaves disjoint
spans covering the same days. A calendar window uses span [a_i, end of a_i's period].
Workspaces with >= m active persons (North Star) count persons per workspace the same way,
then turn the days where that count is >= m into workspace spans.

At week or month grain the value is the one on the bucket's last day inside the range (a
calendar week's WAU is the value on its last day).
"""

from __future__ import annotations

from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan, bucket, keys_of
from sextant.catalog.models import ActiveUsersMetric, AdoptionMetric, EventSelector
from sextant.catalog.rows import Context, select_rows
from sextant.errors import InvalidInput

CALENDAR_PERIOD = {1: "day", 7: "week", 30: "month"}


def _n(value: int) -> exp.Literal:
    return exp.Literal.number(value)


def _cols(names: list[str]) -> list[exp.Column]:
    return [exp.column(n) for n in names]


def active_users(ctx: Context, metric: ActiveUsersMetric, plan: Plan) -> exp.Select:
    query, dialect = ctx.query, ctx.dialect
    if query.grain == "hour":
        raise InvalidInput(
            "metric_grain_unsupported",
            f"{metric.name} counts whole days; choose grain day, week or month",
            field="grain",
        )
    calendar = metric.window == "calendar"
    if calendar and metric.min_days > 1:
        raise InvalidInput("metric_parameter_invalid", "a calendar window takes min_days 1")
    period = CALENDAR_PERIOD.get(metric.window_days, "day")
    if calendar:
        lookback = _calendar_lookback(ctx, period)
    else:
        lookback = max(metric.window_days - 1, ctx.lookback_days)
    dims = ctx.dim_names
    by_tenant = metric.of == "tenant_id"
    within = query.bounds(days_before=lookback)
    columns = [
        exp.alias_(
            d.local_date(exp.column("timestamp", table="r"), query.timezone, dialect, within), "day"
        )
    ]
    if by_tenant:
        columns.append(exp.alias_(exp.column("tenant_id", table="r"), "tenant"))
    rows = select_rows(
        ctx,
        "events",
        within,
        condition=ctx.selection(EventSelector(events=metric.events, event_flag=metric.event_flag)),
        metric_filter=metric.filter,
        columns=columns,
    )
    name = metric.name
    rows_cte = plan.add(
        f"{name}_rows",
        rows,
        f"{name}: active events from {lookback} days "
        "before the range, persons resolved through merges",
    )
    # Who is counted: persons, or workspaces (through their persons when min_persons > 1).
    group = [*dims, "tenant"] if by_tenant and metric.min_persons > 1 else dims
    who = "tenant" if by_tenant and metric.min_persons == 1 else "who"
    # Events without a workspace make no workspace active (as COUNT(DISTINCT tenant_id)).
    known = [who, "tenant"] if by_tenant and who != "tenant" else [who]
    days = (
        exp.select(*_cols(group), exp.alias_(exp.column(who), "who"), exp.column("day"))
        .distinct()
        .from_(rows_cte)
        .where(
            exp.and_(
                *[exp.Not(this=exp.Is(this=exp.column(c), expression=exp.Null())) for c in known]
            )
        )
    )
    days_cte = plan.add(
        f"{name}_days",
        days,
        f"{name}: distinct active days per {'workspace' if who == 'tenant' else 'person'}",
    )
    spans = _spans(ctx, metric, days_cte, group, period if calendar else None, plan)
    changes = _changes(ctx, spans, group)
    if group != dims:  # workspaces with at least min_persons active persons
        changes = _tenant_changes(ctx, metric, plan, changes, dims)
    changes_cte = plan.add(
        f"{name}_changes", changes, f"{name}: +1 where a span starts, -1 the day after it ends"
    )
    return _series(ctx, metric, plan, changes_cte, dims)


def _calendar_lookback(ctx: Context, period: str) -> int:
    first = ctx.query.date_from
    if period == "week":
        return (first.weekday() - ctx.query.first_weekday) % 7
    if period == "month":
        return first.day - 1
    return 0


def _spans(ctx, metric, days_cte, group, period, plan) -> str:
    dialect = ctx.dialect
    part = [*_cols(group), exp.column("who")]
    day = exp.column("day")
    if period is None and metric.min_days == 1:
        return _rolling_spans(ctx, metric, days_cte, group, plan)
    if period is not None:
        until = d.period_end(day, period, ctx.query.first_weekday, dialect)
    else:
        until = d.add_days(
            d.lag(day, metric.min_days - 1, part, [day], dialect), metric.window_days - 1, dialect
        )
    raw = exp.select(*_cols(group), exp.column("who"), day, exp.alias_(until, "until")).from_(
        days_cte
    )
    raw_cte = plan.add(
        f"{metric.name}_reach", raw, f"{metric.name}: each active day counts until this day"
    )
    previous = d.lag(exp.column("until"), 1, part, [day], dialect)
    since = exp.Case(
        ifs=[
            exp.If(
                this=exp.or_(
                    exp.Is(this=previous, expression=exp.Null()),
                    exp.LT(this=previous.copy(), expression=day),
                ),
                true=day,
            )
        ],
        default=d.add_days(previous.copy(), 1, dialect),
    )
    clipped = exp.select(
        *_cols(group), exp.column("who"), exp.alias_(since, "since"), exp.column("until")
    ).from_(raw_cte)
    clipped_cte = plan.add(
        f"{metric.name}_clipped",
        clipped,
        f"{metric.name}: spans clipped to start after the previous one",
    )
    return plan.add(
        f"{metric.name}_spans",
        exp.select("*")
        .from_(clipped_cte)
        .where(exp.LTE(this=exp.column("since"), expression=exp.column("until"))),
        f"{metric.name}: non-empty spans",
    )


def _rolling_spans(ctx, metric, days_cte, group, plan) -> str:
    """The common case (every active day counts for N days) in one pass: span i is
    [a_i, a_i + N - 1], clipped to start after span i-1 ends (a_(i-1) + N - 1); with N = 1
    the spans of distinct days never overlap and need no clipping."""
    dialect, n = ctx.dialect, metric.window_days
    day = exp.column("day")
    since: exp.Expression = day
    source = days_cte
    if n > 1:  # each person's previous active day, shared by every window size
        lag = d.lag(day, 1, [*_cols(group), exp.column("who")], [day], dialect)
        with_previous = exp.select("*", exp.alias_(lag, "previous")).from_(days_cte)
        source = plan.add(
            f"{metric.name}_previous",
            with_previous,
            f"{metric.name}: the previous active day of the same person",
        )
        previous = exp.column("previous")
        since = exp.Case(
            ifs=[
                exp.If(
                    this=exp.or_(
                        exp.Is(this=previous, expression=exp.Null()),
                        exp.LT(this=d.add_days(previous.copy(), n - 1, dialect), expression=day),
                    ),
                    true=day,
                )
            ],
            default=d.add_days(previous.copy(), n, dialect),
        )
    spans = exp.select(
        *_cols(group),
        exp.column("who"),
        exp.alias_(since, "since"),
        exp.alias_(d.add_days(day.copy(), n - 1, dialect), "until"),
    ).from_(source)
    note = f"{metric.name}: each active day counts for {n} day(s), clipped after the previous"
    return plan.add(f"{metric.name}_spans", spans, note)


def _changes(ctx: Context, spans: str, group: list[str]) -> exp.Select:
    start = exp.select(
        *_cols(group), exp.alias_(exp.column("since"), "day"), exp.alias_(_n(1), "delta")
    ).from_(spans)
    after = d.add_days(exp.column("until"), 1, ctx.dialect)
    end = exp.select(*_cols(group), exp.alias_(after, "day"), exp.alias_(_n(-1), "delta")).from_(
        spans
    )
    return exp.union(start, end, distinct=False)


def _tenant_changes(ctx, metric, plan, person_changes, dims) -> exp.Select:
    """Workspace spans: the days on which >= min_persons of its persons count."""
    group = [*dims, "tenant"]
    per_day = (
        exp.select(
            *_cols(group),
            exp.column("day"),
            exp.alias_(exp.func("SUM", exp.column("delta")), "delta"),
        )
        .from_(person_changes.subquery("pc"))
        .group_by(*_cols(group), exp.column("day"))
    )
    part, order = _cols(group), [exp.column("day")]
    counted = exp.select(
        *_cols(group),
        exp.column("day"),
        exp.alias_(d.running_sum(exp.column("delta"), part, order, ctx.dialect), "persons"),
        exp.alias_(d.lag(exp.column("day"), 1, part, order, ctx.dialect, lead=True), "next_day"),
    ).from_(per_day.subquery("pd"))
    counted_cte = plan.add(
        f"{metric.name}_persons",
        counted,
        f"{metric.name}: active persons per workspace from each change on",
    )
    enough = exp.GTE(this=exp.column("persons"), expression=_n(metric.min_persons))
    spans = (
        exp.select(
            *_cols(dims),
            exp.alias_(exp.column("tenant"), "who"),
            exp.alias_(exp.column("day"), "since"),
            exp.alias_(d.add_days(exp.column("next_day"), -1, ctx.dialect), "until"),
        )
        .from_(counted_cte)
        .where(enough)
    )
    spans_cte = plan.add(
        f"{metric.name}_workspaces",
        spans,
        f"{metric.name}: days with at least {metric.min_persons} active persons",
    )
    return _changes(ctx, spans_cte, dims)


def _series(ctx, metric, plan, changes_cte, dims) -> exp.Select:
    query, dialect = ctx.query, ctx.dialect
    spine = plan.add(
        f"{metric.name}_calendar",
        d.day_spine(query.date_from, query.date_to, dialect),
        f"{metric.name}: every day of the range",
    )
    zeros = exp.select(*_cols(dims), exp.column("day"), exp.alias_(_n(0), "delta"))
    if dims:
        seen = exp.select(*_cols(dims)).distinct().from_(changes_cte)
        zeros = zeros.from_(seen.subquery("s")).join(spine, join_type="CROSS")
    else:
        zeros = zeros.from_(spine)
    stacked = exp.union(
        exp.select(*_cols(dims), exp.column("day"), exp.column("delta")).from_(changes_cte),
        zeros,
        distinct=False,
    )
    per_day = (
        exp.select(
            *_cols(dims),
            exp.column("day"),
            exp.alias_(exp.func("SUM", exp.column("delta")), "delta"),
        )
        .from_(stacked.subquery("z"))
        .where(exp.LTE(this=exp.column("day"), expression=d.day_literal(query.date_to, dialect)))
        .group_by(*_cols(dims), exp.column("day"))
    )
    series = exp.select(
        *_cols(dims),
        exp.column("day"),
        exp.alias_(
            d.running_sum(exp.column("delta"), _cols(dims), [exp.column("day")], dialect), "value"
        ),
    ).from_(per_day.subquery("pd"))
    series_cte = plan.add(
        f"{metric.name}_series",
        series,
        f"{metric.name}: value on each day (running sum of changes)",
    )
    day = exp.column("day")
    in_range = exp.GTE(this=day, expression=d.day_literal(query.date_from, dialect))
    if query.grain != "day":
        last_day = exp.or_(
            exp.EQ(
                this=day.copy(),
                expression=d.period_end(day.copy(), query.grain, query.first_weekday, dialect),
            ),
            exp.EQ(this=day.copy(), expression=d.day_literal(query.date_to, dialect)),
        )
        in_range = exp.and_(in_range, exp.paren(last_day))
    start = d.period_start(day.copy(), query.grain, query.first_weekday, dialect)
    return (
        exp.select(exp.alias_(start, "bucket"), *_cols(dims), exp.column("value"))
        .from_(series_cte)
        .where(in_range)
    )


def adoption(ctx: Context, metric: AdoptionMetric, plan: Plan) -> exp.Select:
    """Per bucket and slice: distinct users of each feature / distinct active persons."""
    flags = ctx.catalog.event_flags
    features = (metric.feature,) if metric.feature else flags.flagged("feature")
    active = ctx.selection(EventSelector(event_flag="active"))
    columns = [
        exp.alias_(bucket(ctx, exp.column("timestamp", table="r")), "bucket"),
        exp.alias_(exp.column("event", table="r"), "event"),
    ]
    rows = select_rows(
        ctx,
        "events",
        ctx.query.bounds(),
        condition=active,
        metric_filter=metric.filter,
        columns=columns,
    )
    name = metric.name
    rows_cte = plan.add(f"{name}_rows", rows, f"{name}: active events in the range")
    keys = keys_of(ctx)
    actives = (
        exp.select(
            *keys,
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[exp.column("who")])), "active"),
        )
        .from_(rows_cte)
        .group_by(*[k.copy() for k in keys])
    )
    actives_cte = plan.add(f"{name}_active", actives, f"{name}: distinct active persons")
    is_feature = exp.In(
        this=exp.column("event"), expressions=[exp.Literal.string(f) for f in features]
    )
    users = (
        exp.select(
            *keys,
            exp.alias_(exp.column("event"), "feature"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[exp.column("who")])), "users"),
        )
        .from_(rows_cte)
        .where(is_feature)
        .group_by(*[k.copy() for k in keys], exp.column("event"))
    )
    users_cte = plan.add(f"{name}_users", users, f"{name}: distinct users per feature")
    listed = None
    for feature in features:
        one = exp.select(exp.alias_(exp.Literal.string(feature), "feature"))
        listed = one if listed is None else exp.union(listed, one, distinct=False)
    features_cte = plan.add(f"{name}_features", listed, f"{name}: the features measured")
    # Every feature in every bucket and slice with active persons: unused is 0 %, not absent.
    # Slices match null-safely: a slice without a value (no segment) is a slice too.
    on = exp.and_(
        exp.EQ(this=exp.column("feature", table="u"), expression=exp.column("feature", table="f")),
        *[
            (exp.EQ if k.name == "bucket" else exp.NullSafeEQ)(
                this=exp.column(k.name, table="u"), expression=exp.column(k.name, table="a")
            )
            for k in keys
        ],
    )
    users_or_none = exp.func("COALESCE", exp.column("users", table="u"), exp.Literal.number(0))
    value = exp.Div(
        this=exp.cast(users_or_none, "DOUBLE"), expression=exp.column("active", table="a")
    )
    select = [exp.column(k.name, table="a") for k in keys]
    if not metric.feature:
        select.append(exp.column("feature", table="f"))
    return (
        exp.select(*[exp.alias_(s, s.name) for s in select], exp.alias_(value, "value"))
        .from_(exp.alias_(exp.table_(actives_cte), "a", table=True))
        .join(exp.alias_(exp.table_(features_cte), "f", table=True), join_type="CROSS")
        .join(exp.alias_(exp.table_(users_cte), "u", table=True), on=on, join_type="LEFT")
    )
