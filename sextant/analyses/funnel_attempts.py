"""The attempt form of a funnel's counted paths, for what the level form (`funnel_fast.py`)
does not cover: strict order, any order, exclusions and `entry: first`.

`attempts`: one per step-1 event in the range (entry `latest`; only the person's first one
with entry `first`), continued greedily: step k is the person's first step-k event after
step k-1's (for strict order, the very next event), within step 1 + window. The earliest
continuation reaches the furthest step and completes it earliest, so nothing is lost by not
trying the others. Any order instead takes each start time in the range, counts the steps
done within the window and when each count is first reached. `voided`: attempts an
exclusion event voids (F5); `ranked`/`paths`: per person, the counted path (furthest step,
then not voided, then earliest completion, then the latest start).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan, bucket
from sextant.catalog.rows import Context

if TYPE_CHECKING:
    from sextant.analyses.funnels import FunnelQuery


def num(value: float) -> exp.Literal:
    return exp.Literal.number(value)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def flag(condition: exp.Expression) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=condition, true=num(1))], default=num(0))


def is_one(name: str, table: str | None = None) -> exp.EQ:
    return exp.EQ(this=col(name, table), expression=num(1))


def over(func: exp.Expression, partition: list, order: list, spec=None) -> exp.Window:
    return exp.Window(
        this=func,
        partition_by=[p.copy() for p in partition],
        order=exp.Order(expressions=[o.copy() for o in order]) if order else None,
        spec=spec,
    )


def sequential(ctx: Context, query: FunnelQuery, plan: Plan, matched: str) -> str:
    n = len(query.steps)
    who, pos = col("who"), col("pos")
    numbered = exp.select(
        exp.Star(),
        exp.alias_(
            over(exp.func("ROW_NUMBER"), [who], [exp.Ordered(this=col("ts")), col("eid")]),
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
            pick = exp.Case(ifs=[exp.If(this=is_one(f"m{k}"), true=pos.copy())])
            extra.append(
                exp.alias_(
                    over(exp.Min(this=pick), [who], [exp.Ordered(this=pos.copy())], following),
                    f"nx{k}",
                )
            )
    if query.entry == "first":
        first = exp.Case(
            ifs=[exp.If(this=exp.and_(is_one("m1"), is_one("in_range")), true=pos.copy())]
        )
        extra.append(exp.alias_(over(exp.Min(this=first), [who], []), "first1"))
    source = ordered
    if extra:
        note = (
            "the position of each step's next event after this one"
            if query.order == "sequential"
            else "the person's first step-1 event in the range"
        )
        source = plan.add("following", exp.select(exp.Star(), *extra).from_(ordered), note)

    deadline = d.add_seconds(col("ts", "s1"), query.window_seconds, ctx.dialect)
    select = exp.select(
        exp.alias_(col("who", "s1"), "who"),
        exp.alias_(col("pos", "s1"), "p1"),
    ).from_(exp.alias_(exp.table_(source), "s1", table=True))
    for k in range(2, n + 1):
        prev, this = f"s{k - 1}", f"s{k}"
        if query.order == "sequential":
            link = exp.EQ(this=col("pos", this), expression=col(f"nx{k}", prev))
        else:
            link = exp.and_(
                exp.EQ(
                    this=col("pos", this),
                    expression=exp.Add(this=col("pos", prev), expression=num(1)),
                ),
                is_one(f"m{k}", this),
            )
        on = exp.and_(
            exp.EQ(this=col("who", this), expression=col("who", "s1")),
            link,
            exp.LTE(this=col("ts", this), expression=deadline.copy()),
        )
        select = select.join(
            exp.alias_(exp.table_(source), this, table=True), on=on, join_type="LEFT"
        )
    for k in range(1, n + 1):
        select = select.select(exp.alias_(col("ts", f"s{k}"), f"t{k}"))
        for dim in ctx.dim_names:
            select = select.select(exp.alias_(col(dim, f"s{k}"), f"d{k}_{dim}"))
    reach = exp.Case(
        ifs=[
            exp.If(
                this=exp.Not(this=exp.Is(this=col("pos", f"s{k}"), expression=exp.Null())),
                true=num(k),
            )
            for k in range(n, 1, -1)
        ],
        default=num(1),
    )
    select = select.select(exp.alias_(reach, "reach"))
    wheres = [is_one("m1", "s1"), is_one("in_range", "s1")]
    if query.entry == "first":
        wheres.append(exp.EQ(this=col("pos", "s1"), expression=col("first1", "s1")))
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


def any_order(ctx: Context, query: FunnelQuery, plan: Plan, matched: str) -> str:
    """Steps with the same event and filters form a group of interchangeable steps; the
    steps done by a time are the sum over groups of min(events so far, group size)."""
    n = len(query.steps)
    groups: dict[tuple, list[int]] = {}
    for k, step in enumerate(query.steps, 1):
        groups.setdefault((step.event, step.where), []).append(k)
    # Steps of one group have identical flags: the first one stands for the group.
    flags = [col(f"m{ks[0]}", "e") for ks in groups.values()]
    any_step = exp.or_(*[is_one(f"m{k}") for k in range(1, n + 1)])
    starts = exp.select(col("who"), exp.alias_(col("ts"), "start")).from_(matched)
    starts = starts.where(exp.and_(is_one("in_range"), exp.paren(any_step))).distinct()
    if query.entry == "first":
        starts = (
            exp.select(col("who"), exp.alias_(exp.Min(this=col("start")), "start"))
            .from_(starts.subquery("s"))
            .group_by(col("who"))
        )
    starts_name = plan.add("starts", starts, "each start time: a step event in the range")
    partition = [col("who", "s"), col("start", "s")]
    order = [exp.Ordered(this=col("ts", "e")), col("eid", "e")]
    so_far = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING")
    before = exp.WindowSpec(
        kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="1", end_side="PRECEDING"
    )

    def done(spec: exp.WindowSpec) -> exp.Expression:
        total: exp.Expression | None = None
        for flag, ks in zip(flags, groups.values(), strict=True):
            count = over(exp.func("SUM", flag.copy()), partition, order, spec)
            part = exp.func("COALESCE", exp.Least(this=count, expressions=[num(len(ks))]), num(0))
            total = part if total is None else exp.Add(this=total, expression=part)
        return total

    on = exp.and_(
        exp.EQ(this=col("who", "e"), expression=col("who", "s")),
        exp.GTE(this=col("ts", "e"), expression=col("start", "s")),
        exp.LTE(
            this=col("ts", "e"),
            expression=d.add_seconds(col("start", "s"), query.window_seconds, ctx.dialect),
        ),
    )
    any_e = exp.or_(*[is_one(f"m{k}", "e") for k in range(1, n + 1)])
    pairs = (
        exp.select(
            col("who", "s"),
            col("start", "s"),
            col("ts", "e"),
            *[col(dim, "e") for dim in ctx.dim_names],
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
    select = exp.select(col("who"), exp.alias_(col("start"), "p1")).from_(pairs_name)
    for k in range(1, n + 1):
        reached = exp.and_(
            exp.GTE(this=col("done"), expression=num(k)),
            exp.LT(this=col("done_before"), expression=num(k)),
        )
        select = select.select(
            exp.alias_(exp.Min(this=exp.Case(ifs=[exp.If(this=reached, true=col("ts"))])), f"t{k}")
        )
        for dim in ctx.dim_names:
            value = exp.Max(this=exp.Case(ifs=[exp.If(this=reached.copy(), true=col(dim))]))
            select = select.select(exp.alias_(value, f"d{k}_{dim}"))
    select = select.select(
        exp.alias_(exp.Least(this=exp.Max(this=col("done")), expressions=[num(n)]), "reach")
    )
    return plan.add(
        "attempts",
        select.group_by(col("who"), col("start")),
        "one attempt per start: how many steps are done within the window, and when",
    )


def voided(ctx: Context, query: FunnelQuery, plan: Plan, attempts: str, matched: str) -> str:
    """F5: an exclusion between steps i and j voids an attempt with an exclusion event
    strictly between its steps i and j, or after step i within the window if j is unreached."""
    deadline = d.add_seconds(col("t1", "a"), query.window_seconds, ctx.dialect)
    cases = []
    for x, exclusion in enumerate(query.exclusions, 1):
        i, j = exclusion.between
        reach = col("reach", "a")
        cases.append(
            exp.and_(
                is_one(f"x{x}", "x"),
                exp.GTE(this=reach, expression=num(i)),
                exp.GT(this=col("ts", "x"), expression=col(f"t{i}", "a")),
                exp.paren(
                    exp.or_(
                        exp.and_(
                            exp.GTE(this=reach.copy(), expression=num(j)),
                            exp.LT(this=col("ts", "x"), expression=col(f"t{j}", "a")),
                        ),
                        exp.and_(
                            exp.LT(this=reach.copy(), expression=num(j)),
                            exp.LTE(this=col("ts", "x"), expression=deadline.copy()),
                        ),
                    )
                ),
            )
        )
    select = (
        exp.select(col("who", "a"), col("p1", "a"))
        .distinct()
        .from_(exp.alias_(exp.table_(attempts), "a", table=True))
        .join(
            exp.alias_(exp.table_(matched), "x", table=True),
            on=exp.EQ(this=col("who", "x"), expression=col("who", "a")),
            join_type="INNER",
        )
        .where(exp.or_(*[exp.paren(c) for c in cases]))
    )
    return plan.add("voided", select, "attempts an exclusion event voids")


def path_columns(ctx: Context, query: FunnelQuery, excluded: exp.Expression) -> list:
    """The columns of `paths`, over a person's counted path with its `reach`, step times
    `t1`..`tn`, breakdown values `d{k}_{dim}` and last step-1 time `last_t1`: the local
    date the window of an unfinished path closes (for the incomplete count), the attributed
    breakdown values and, with a trend, the period of step 1."""
    n = len(query.steps)
    start, end = query.bounds()
    span = timedelta(seconds=query.window_seconds)
    close = d.add_seconds(col("last_t1"), query.window_seconds, ctx.dialect)
    closes_on = exp.Case(
        ifs=[
            exp.If(
                this=exp.LT(this=col("reach"), expression=num(n)),
                true=d.local_date(close, query.timezone, ctx.dialect, (start + span, end + span)),
            )
        ]
    )
    columns = [
        col("who"),
        col("reach"),
        exp.alias_(excluded, "excluded"),
        *[col(f"t{k}") for k in range(1, n + 1)],
        *[exp.alias_(attributed(query, dim), dim) for dim in ctx.dim_names],
        exp.alias_(closes_on, "closes_on"),
    ]
    if query.trend:
        columns.append(exp.alias_(bucket(ctx, col("t1")), "period"))
    return columns


def attributed(query: FunnelQuery, dim: str) -> exp.Expression:
    """F7: the value the person's bucket takes from the counted path."""
    n = len(query.steps)
    if isinstance(query.attribution, int):
        return col(f"d{query.attribution}_{dim}")
    order = range(1, n + 1) if query.attribution == "first_touch" else range(n, 0, -1)
    return exp.func("COALESCE", *[col(f"d{k}_{dim}") for k in order])


def attempt_paths(ctx: Context, query: FunnelQuery, plan: Plan, attempts: str, voided) -> str:
    n = len(query.steps)
    who = col("who", "a")
    done = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=col("reach", "a"), expression=num(k)), true=col(f"t{k}", "a"))
            for k in range(n, 1, -1)
        ],
        default=col("t1", "a"),
    )
    void = num(0)
    if voided:
        void = flag(exp.Not(this=exp.Is(this=col("p1", "v"), expression=exp.Null())))
    scored = exp.select(
        exp.Column(this=exp.Star(), table=exp.to_identifier("a")),
        exp.alias_(void, "void"),
        exp.alias_(done, "done"),
    ).from_(exp.alias_(exp.table_(attempts), "a", table=True))
    if voided:
        scored = scored.join(
            exp.alias_(exp.table_(voided), "v", table=True),
            on=exp.and_(
                exp.EQ(this=col("who", "v"), expression=who.copy()),
                exp.EQ(this=col("p1", "v"), expression=col("p1", "a")),
            ),
            join_type="LEFT",
        )
    order = [
        exp.Ordered(this=col("reach"), desc=True),
        exp.Ordered(this=col("void")),
        exp.Ordered(this=col("done")),
        exp.Ordered(this=col("p1"), desc=True),
    ]
    # Ranked over a subquery: a window cannot order by aliases of its own SELECT.
    inner = exp.select(
        exp.Star(),
        exp.alias_(over(exp.func("ROW_NUMBER"), [col("who")], order), "rank"),
        exp.alias_(over(exp.Max(this=col("t1")), [col("who")], []), "last_t1"),
    ).from_(scored.subquery("scored"))
    ranked = plan.add(
        "ranked",
        inner,
        "attempts ranked per person: furthest step, not voided, earliest completion, latest start",
    )
    select = exp.select(*path_columns(ctx, query, col("void"))).from_(ranked)
    return plan.add(
        "paths",
        select.where(exp.EQ(this=col("rank"), expression=num(1))),
        "each person's counted path; excluded when every attempt reaching their furthest "
        "step is voided",
    )
