"""The portable SQL of a funnel (SEMANTICS F1-F7), as named CTEs:

1. `matched`: one filtered scan of the step (and exclusion) events from the range start to
   the range end plus the window, one row per event with a 0/1 flag per step and exclusion
   (strict order reads every event: any event may break the chain).
2. `ordered`: each person's events numbered in (timestamp, event id) order; equal
   timestamps are ordered by event id, so results are deterministic.
3. `attempts`: one per step-1 event in the range (entry `latest`; only the person's first
   one with entry `first`), continued greedily: step k is the person's first step-k event
   after step k-1's (for strict order, the very next event), within step 1 + window. The
   earliest continuation reaches the furthest step and completes it earliest, so nothing
   is lost by not trying the others. Any order instead takes each start time in the range,
   counts the steps done within the window and when each count is first reached.
4. `voided`: attempts an exclusion event voids (F5); `ranked`/`paths`: per person, the
   counted path (furthest step, then earliest completion, then the latest start).

Statements read `paths`: `funnel` (persons per furthest step, breakdown bucket and the local
date the window closes, for the incomplete count; and the times to convert, as rows of
`part` "time"), and on request `trend` and `dropped`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlglot import exp

from sextant.analyses import funnel_fast
from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan, bucket
from sextant.catalog.rows import Context, row_condition, select_rows

if TYPE_CHECKING:
    from sextant.analyses.funnels import FunnelQuery, Matcher

DROPPED_CAP = 10_000  # person ids per step in the dropped-off lists


def _n(value: float) -> exp.Literal:
    return exp.Literal.number(value)


def _c(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _flag(condition: exp.Expression) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=condition, true=_n(1))], default=_n(0))


def _is(name: str, table: str | None = None) -> exp.EQ:
    return exp.EQ(this=_c(name, table), expression=_n(1))


def _window(func: exp.Expression, partition: list, order: list, spec=None) -> exp.Window:
    return exp.Window(
        this=func,
        partition_by=[p.copy() for p in partition],
        order=exp.Order(expressions=[o.copy() for o in order]) if order else None,
        spec=spec,
    )


def matcher_condition(ctx: Context, matcher: Matcher, field: str) -> exp.Expression:
    """F1: an event of the matcher's name passing every one of its filters."""
    parts: list[exp.Expression] = [
        exp.EQ(this=_c("event", "r"), expression=exp.Literal.string(matcher.event))
    ]
    parts += [row_condition(ctx, "events", text, f"{field}.where") for text in matcher.where]
    return exp.and_(*parts)


def build_statements(ctx: Context, query: FunnelQuery) -> dict[str, exp.Select]:
    n = len(query.steps)
    window = query.window_seconds
    start, end = query.bounds()
    step_conditions = [matcher_condition(ctx, s, f"steps.{i}") for i, s in enumerate(query.steps)]
    exclusion_conditions = [
        matcher_condition(ctx, x, f"exclusions.{i}") for i, x in enumerate(query.exclusions)
    ]
    columns = [exp.alias_(_c("id", "r"), "eid")]
    columns += [exp.alias_(_flag(c), f"m{k}") for k, c in enumerate(step_conditions, 1)]
    columns += [exp.alias_(_flag(c), f"x{k}") for k, c in enumerate(exclusion_conditions, 1)]
    columns.append(
        exp.alias_(
            _flag(exp.LT(this=_c("timestamp", "r"), expression=d.instant(end, ctx.dialect))),
            "in_range",
        )
    )
    wanted = None
    if query.order != "strict":
        wanted = exp.or_(*[c.copy() for c in step_conditions + exclusion_conditions])
    plan = Plan()
    matched = plan.add(
        "matched",
        select_rows(
            ctx,
            "events",
            (start, end + timedelta(seconds=window)),
            condition=wanted,
            columns=columns,
        ),
        "step and exclusion events from the range start to its end plus the window, one "
        "0/1 flag per step (m) and exclusion (x), persons resolved through merges",
    )
    dims = ctx.dim_names
    if funnel_fast.applies(query):
        paths = funnel_fast.counted_paths(ctx, query, plan, matched)
    else:
        if query.order == "any":
            attempts = _any_order(ctx, query, plan, matched)
        else:
            attempts = _sequential(ctx, query, plan, matched)
        voided = _voided(ctx, query, plan, attempts, matched) if query.exclusions else None
        paths = _paths(ctx, query, plan, attempts, voided)

    def final(select: exp.Select) -> exp.Select:
        return Plan(list(plan.ctes)).build(select)

    keys = [_c(name) for name in dims]
    counted = exp.select(
        *[k.copy() for k in keys],
        _c("reach"),
        _c("excluded"),
        _c("closes_on"),
        exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
    ).from_(paths)
    counted = counted.group_by(
        *[k.copy() for k in keys], _c("reach"), _c("excluded"), _c("closes_on")
    )
    statements = {"funnel": final(_together(dims, counted, _times(ctx, query, paths)))}
    if query.trend:
        trend = (
            exp.select(
                _c("period"), _c("reach"), exp.alias_(exp.func("COUNT", exp.Star()), "persons")
            )
            .from_(paths)
            .where(exp.EQ(this=_c("excluded"), expression=_n(0)))
            .group_by(_c("period"), _c("reach"))
        )
        statements["trend"] = final(trend)
    if query.persons:
        statements["dropped"] = final(_dropped(n, paths))
    return statements


def _sequential(ctx: Context, query: FunnelQuery, plan: Plan, matched: str) -> str:
    n = len(query.steps)
    who, pos = _c("who"), _c("pos")
    numbered = exp.select(
        exp.Star(),
        exp.alias_(
            _window(exp.func("ROW_NUMBER"), [who], [exp.Ordered(this=_c("ts")), _c("eid")]),
            "pos",
        ),
    ).from_(matched)
    ordered = plan.add("ordered", numbered, "each person's events in (timestamp, event id) order")
    following = exp.WindowSpec(
        kind="ROWS", start="1", start_side="FOLLOWING", end="UNBOUNDED", end_side="FOLLOWING"
    )
    extra = []
    if query.order == "sequential":
        for k in range(2, n + 1):
            pick = exp.Case(ifs=[exp.If(this=_is(f"m{k}"), true=pos.copy())])
            extra.append(
                exp.alias_(
                    _window(exp.Min(this=pick), [who], [exp.Ordered(this=pos.copy())], following),
                    f"nx{k}",
                )
            )
    if query.entry == "first":
        first = exp.Case(ifs=[exp.If(this=exp.and_(_is("m1"), _is("in_range")), true=pos.copy())])
        extra.append(exp.alias_(_window(exp.Min(this=first), [who], []), "first1"))
    source = ordered
    if extra:
        note = (
            "the position of each step's next event after this one"
            if query.order == "sequential"
            else "the person's first step-1 event in the range"
        )
        source = plan.add("following", exp.select(exp.Star(), *extra).from_(ordered), note)

    deadline = d.add_seconds(_c("ts", "s1"), query.window_seconds, ctx.dialect)
    select = exp.select(
        exp.alias_(_c("who", "s1"), "who"),
        exp.alias_(_c("pos", "s1"), "p1"),
    ).from_(exp.alias_(exp.table_(source), "s1", table=True))
    for k in range(2, n + 1):
        prev, this = f"s{k - 1}", f"s{k}"
        if query.order == "sequential":
            link = exp.EQ(this=_c("pos", this), expression=_c(f"nx{k}", prev))
        else:
            link = exp.and_(
                exp.EQ(
                    this=_c("pos", this),
                    expression=exp.Add(this=_c("pos", prev), expression=_n(1)),
                ),
                _is(f"m{k}", this),
            )
        on = exp.and_(
            exp.EQ(this=_c("who", this), expression=_c("who", "s1")),
            link,
            exp.LTE(this=_c("ts", this), expression=deadline.copy()),
        )
        select = select.join(
            exp.alias_(exp.table_(source), this, table=True), on=on, join_type="LEFT"
        )
    for k in range(1, n + 1):
        select = select.select(exp.alias_(_c("ts", f"s{k}"), f"t{k}"))
        for dim in ctx.dim_names:
            select = select.select(exp.alias_(_c(dim, f"s{k}"), f"d{k}_{dim}"))
    reach = exp.Case(
        ifs=[
            exp.If(
                this=exp.Not(this=exp.Is(this=_c("pos", f"s{k}"), expression=exp.Null())),
                true=_n(k),
            )
            for k in range(n, 1, -1)
        ],
        default=_n(1),
    )
    select = select.select(exp.alias_(reach, "reach"))
    wheres = [_is("m1", "s1"), _is("in_range", "s1")]
    if query.entry == "first":
        wheres.append(exp.EQ(this=_c("pos", "s1"), expression=_c("first1", "s1")))
    how = (
        "its first step-k event after step k-1"
        if query.order == "sequential"
        else ("the person's very next event, if it is step k")
    )
    return plan.add(
        "attempts",
        select.where(exp.and_(*wheres)),
        f"one attempt per step-1 event in the range; step k is {how}, within the window",
    )


def _any_order(ctx: Context, query: FunnelQuery, plan: Plan, matched: str) -> str:
    """Steps with the same event and filters form a group of interchangeable steps; the
    steps done by a time are the sum over groups of min(events so far, group size)."""
    n = len(query.steps)
    groups: dict[tuple, list[int]] = {}
    for k, step in enumerate(query.steps, 1):
        groups.setdefault((step.event, step.where), []).append(k)
    # Steps of one group have identical flags: the first one stands for the group.
    flags = [_c(f"m{ks[0]}", "e") for ks in groups.values()]
    any_step = exp.or_(*[_is(f"m{k}") for k in range(1, n + 1)])
    starts = exp.select(_c("who"), exp.alias_(_c("ts"), "start")).from_(matched)
    starts = starts.where(exp.and_(_is("in_range"), exp.paren(any_step))).distinct()
    if query.entry == "first":
        starts = (
            exp.select(_c("who"), exp.alias_(exp.Min(this=_c("start")), "start"))
            .from_(starts.subquery("s"))
            .group_by(_c("who"))
        )
    starts_name = plan.add("starts", starts, "each start time: a step event in the range")
    partition = [_c("who", "s"), _c("start", "s")]
    order = [exp.Ordered(this=_c("ts", "e")), _c("eid", "e")]
    so_far = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING")
    before = exp.WindowSpec(
        kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="1", end_side="PRECEDING"
    )

    def done(spec: exp.WindowSpec) -> exp.Expression:
        total: exp.Expression | None = None
        for flag, ks in zip(flags, groups.values(), strict=True):
            count = _window(exp.func("SUM", flag.copy()), partition, order, spec)
            part = exp.func("COALESCE", exp.Least(this=count, expressions=[_n(len(ks))]), _n(0))
            total = part if total is None else exp.Add(this=total, expression=part)
        return total

    on = exp.and_(
        exp.EQ(this=_c("who", "e"), expression=_c("who", "s")),
        exp.GTE(this=_c("ts", "e"), expression=_c("start", "s")),
        exp.LTE(
            this=_c("ts", "e"),
            expression=d.add_seconds(_c("start", "s"), query.window_seconds, ctx.dialect),
        ),
    )
    any_e = exp.or_(*[_is(f"m{k}", "e") for k in range(1, n + 1)])
    pairs = (
        exp.select(
            _c("who", "s"),
            _c("start", "s"),
            _c("ts", "e"),
            *[_c(dim, "e") for dim in ctx.dim_names],
            exp.alias_(done(so_far), "done"),
            exp.alias_(done(before), "done_before"),
        )
        .from_(exp.alias_(exp.table_(starts_name), "s", table=True))
        .join(exp.alias_(exp.table_(matched), "e", table=True), on=on, join_type="INNER")
        .where(any_e)
    )
    pairs_name = plan.add(
        "progress", pairs, "steps done by each step event within the window of each start"
    )
    select = exp.select(_c("who"), exp.alias_(_c("start"), "p1")).from_(pairs_name)
    for k in range(1, n + 1):
        reached = exp.and_(
            exp.GTE(this=_c("done"), expression=_n(k)),
            exp.LT(this=_c("done_before"), expression=_n(k)),
        )
        select = select.select(
            exp.alias_(exp.Min(this=exp.Case(ifs=[exp.If(this=reached, true=_c("ts"))])), f"t{k}")
        )
        for dim in ctx.dim_names:
            value = exp.Max(this=exp.Case(ifs=[exp.If(this=reached.copy(), true=_c(dim))]))
            select = select.select(exp.alias_(value, f"d{k}_{dim}"))
    select = select.select(
        exp.alias_(exp.Least(this=exp.Max(this=_c("done")), expressions=[_n(n)]), "reach")
    )
    return plan.add(
        "attempts",
        select.group_by(_c("who"), _c("start")),
        "one attempt per start: how many steps are done within the window, and when",
    )


def _voided(ctx: Context, query: FunnelQuery, plan: Plan, attempts: str, matched: str) -> str:
    """F5: an exclusion between steps i and j voids an attempt with an exclusion event
    strictly between its steps i and j, or after step i within the window if j is unreached."""
    deadline = d.add_seconds(_c("t1", "a"), query.window_seconds, ctx.dialect)
    cases = []
    for x, exclusion in enumerate(query.exclusions, 1):
        i, j = exclusion.between
        reach = _c("reach", "a")
        cases.append(
            exp.and_(
                _is(f"x{x}", "x"),
                exp.GTE(this=reach, expression=_n(i)),
                exp.GT(this=_c("ts", "x"), expression=_c(f"t{i}", "a")),
                exp.paren(
                    exp.or_(
                        exp.and_(
                            exp.GTE(this=reach.copy(), expression=_n(j)),
                            exp.LT(this=_c("ts", "x"), expression=_c(f"t{j}", "a")),
                        ),
                        exp.and_(
                            exp.LT(this=reach.copy(), expression=_n(j)),
                            exp.LTE(this=_c("ts", "x"), expression=deadline.copy()),
                        ),
                    )
                ),
            )
        )
    select = (
        exp.select(_c("who", "a"), _c("p1", "a"))
        .distinct()
        .from_(exp.alias_(exp.table_(attempts), "a", table=True))
        .join(
            exp.alias_(exp.table_(matched), "x", table=True),
            on=exp.EQ(this=_c("who", "x"), expression=_c("who", "a")),
            join_type="INNER",
        )
        .where(exp.or_(*[exp.paren(c) for c in cases]))
    )
    return plan.add("voided", select, "attempts an exclusion event voids")


def attributed(query: FunnelQuery, dim: str) -> exp.Expression:
    """F7: the value the person's bucket takes from the counted path."""
    n = len(query.steps)
    if isinstance(query.attribution, int):
        return _c(f"d{query.attribution}_{dim}")
    order = range(1, n + 1) if query.attribution == "first_touch" else range(n, 0, -1)
    return exp.func("COALESCE", *[_c(f"d{k}_{dim}") for k in order])


def _paths(ctx: Context, query: FunnelQuery, plan: Plan, attempts: str, voided) -> str:
    n = len(query.steps)
    who = _c("who", "a")
    done = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=_c("reach", "a"), expression=_n(k)), true=_c(f"t{k}", "a"))
            for k in range(n, 1, -1)
        ],
        default=_c("t1", "a"),
    )
    void = _n(0)
    if voided:
        void = _flag(exp.Not(this=exp.Is(this=_c("p1", "v"), expression=exp.Null())))
    scored = exp.select(
        exp.Column(this=exp.Star(), table=exp.to_identifier("a")),
        exp.alias_(void, "void"),
        exp.alias_(done, "done"),
    ).from_(exp.alias_(exp.table_(attempts), "a", table=True))
    if voided:
        scored = scored.join(
            exp.alias_(exp.table_(voided), "v", table=True),
            on=exp.and_(
                exp.EQ(this=_c("who", "v"), expression=who.copy()),
                exp.EQ(this=_c("p1", "v"), expression=_c("p1", "a")),
            ),
            join_type="LEFT",
        )
    order = [
        exp.Ordered(this=_c("reach"), desc=True),
        exp.Ordered(this=_c("void")),
        exp.Ordered(this=_c("done")),
        exp.Ordered(this=_c("p1"), desc=True),
    ]
    # Ranked over a subquery: a window cannot order by aliases of its own SELECT.
    inner = exp.select(
        exp.Star(),
        exp.alias_(_window(exp.func("ROW_NUMBER"), [_c("who")], order), "rank"),
        exp.alias_(_window(exp.Max(this=_c("t1")), [_c("who")], []), "last_t1"),
    ).from_(scored.subquery("scored"))
    ranked = plan.add(
        "ranked",
        inner,
        "attempts ranked per person: furthest step, not voided, earliest completion, latest start",
    )
    close = d.add_seconds(_c("last_t1"), query.window_seconds, ctx.dialect)
    start, end = query.bounds()
    span = timedelta(seconds=query.window_seconds)
    closes_on = exp.Case(
        ifs=[
            exp.If(
                this=exp.LT(this=_c("reach"), expression=_n(n)),
                true=d.local_date(close, query.timezone, ctx.dialect, (start + span, end + span)),
            )
        ]
    )
    select = exp.select(
        _c("who"),
        _c("reach"),
        exp.alias_(_c("void"), "excluded"),
        *[_c(f"t{k}") for k in range(1, n + 1)],
        *[exp.alias_(attributed(query, dim), dim) for dim in ctx.dim_names],
        exp.alias_(closes_on, "closes_on"),
    ).from_(ranked)
    if query.trend:
        select = select.select(exp.alias_(bucket(ctx, _c("t1")), "period"))
    return plan.add(
        "paths",
        select.where(exp.EQ(this=_c("rank"), expression=_n(1))),
        "each person's counted path; excluded when every attempt reaching their furthest "
        "step is voided",
    )


COUNT_COLUMNS = ("reach", "excluded", "closes_on", "persons")
TIME_COLUMNS = ("total", "step", "persons", "mean", "median", "p95")
TIME_COLUMNS += ("mean_step", "median_step", "p95_step")


def _together(dims: list[str], counted: exp.Select, times: exp.Select) -> exp.Select:
    """The counts and the times in one statement (`part` tells them apart), so the paths
    are worked out once."""
    names = list(dict.fromkeys([*COUNT_COLUMNS, *TIME_COLUMNS]))

    def part(label: str, select: exp.Select, has: tuple[str, ...], alias: str) -> exp.Select:
        cells = [_c(dim) for dim in dims] + [exp.alias_(exp.Literal.string(label), "part")]
        cells += [_c(c) if c in has else exp.alias_(exp.Null(), c) for c in names]
        return exp.select(*cells).from_(select.subquery(alias))

    return exp.union(
        part("count", counted, COUNT_COLUMNS, "counts"),
        part("time", times, TIME_COLUMNS, "times"),
        distinct=False,
    )


def _times(ctx: Context, query: FunnelQuery, paths: str) -> exp.Select:
    """Seconds from step 1 and from the previous step to each step, over the counted paths
    reaching it: mean, median, p95 (exact continuous quantiles), per bucket and in total.
    One pass over the paths per grouping, crossed with the step numbers."""
    n = len(query.steps)
    dims = ctx.dim_names
    numbers = None
    for k in range(2, n + 1):
        one = exp.select(exp.alias_(_n(k), "step"))
        numbers = one if numbers is None else exp.union(numbers, one, distinct=False)

    def at(template) -> exp.Case:
        return exp.Case(
            ifs=[
                exp.If(this=exp.EQ(this=_c("step"), expression=_n(k)), true=template(k))
                for k in range(2, n + 1)
            ]
        )

    since_first = at(lambda k: d.seconds_between(_c("t1"), _c(f"t{k}"), ctx.dialect))
    since_prev = at(lambda k: d.seconds_between(_c(f"t{k - 1}"), _c(f"t{k}"), ctx.dialect))
    branches = []
    for total in [False, True] if dims else [False]:
        cells = [
            exp.alias_(exp.cast(exp.Null(), "TEXT") if total else _c(dim), dim) for dim in dims
        ]
        cells += [
            exp.alias_(_flag(exp.true()) if total else _n(0), "total"),
            _c("step"),
            exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
            exp.alias_(exp.func("AVG", since_first), "mean"),
            exp.alias_(d.quantile_cont(since_first.copy(), 0.5, ctx.dialect), "median"),
            exp.alias_(d.quantile_cont(since_first.copy(), 0.95, ctx.dialect), "p95"),
            exp.alias_(exp.func("AVG", since_prev), "mean_step"),
            exp.alias_(d.quantile_cont(since_prev.copy(), 0.5, ctx.dialect), "median_step"),
            exp.alias_(d.quantile_cont(since_prev.copy(), 0.95, ctx.dialect), "p95_step"),
        ]
        branch = (
            exp.select(*cells)
            .from_(paths)
            .join(numbers.subquery("steps"), join_type="CROSS")
            .where(
                exp.and_(
                    exp.EQ(this=_c("excluded"), expression=_n(0)),
                    exp.GTE(this=_c("reach"), expression=_c("step")),
                )
            )
            .group_by(*[_c(dim) for dim in dims if not total], _c("step"))
        )
        branches.append(branch)
    union = branches[0]
    for branch in branches[1:]:
        union = exp.union(union, branch, distinct=False)
    return exp.select(exp.Star()).from_(union.subquery("times"))


def _dropped(n: int, paths: str) -> exp.Select:
    numbered = exp.select(
        exp.alias_(_c("reach"), "step"),
        _c("who"),
        exp.alias_(
            _window(exp.func("ROW_NUMBER"), [_c("reach")], [exp.Ordered(this=_c("who"))]), "nth"
        ),
    ).from_(paths)
    numbered = numbered.where(
        exp.and_(
            exp.EQ(this=_c("excluded"), expression=_n(0)),
            exp.LT(this=_c("reach"), expression=_n(n)),
        )
    )
    return (
        exp.select(_c("step"), _c("who"))
        .from_(numbered.subquery("dropped"))
        .where(exp.LTE(this=_c("nth"), expression=_n(DROPPED_CAP + 1)))
        .order_by(_c("step"), _c("who"))
    )
