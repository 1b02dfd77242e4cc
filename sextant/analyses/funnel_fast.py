"""The counted paths of a sequential funnel without exclusions, by levels instead of
attempts: the common funnel, and the one that must be fast on large stores.

A step-k event e is reachable when some step-(k-1) event before it (in (timestamp, event id)
order) is reachable from a start within the window; of all the starts that reach e, the
latest leaves the most window, so each level keeps only that one (`level_k`: one row per
reachable step-k event, with its latest start). This is ClickHouse's windowFunnel
recurrence, written as equality joins on the person over the few events of each step
instead of one attempt per step-1 event.

A person's furthest level is their reach. The counted path (SEMANTICS F2: furthest step,
then earliest completion) ends at their earliest reachable event of that level and starts
at its latest start; its steps between are the earliest ones after each other from that
start (they complete no later, and no earlier completion exists). A person who reaches
only step 1 is counted from their first step-1 event in the range (the last of several at
that time), as the attempt form ranks attempts: earliest completion, then latest start.
The result has the columns `funnel_attempts.attempt_paths` gives, so every statement reads
it the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sextant.analyses.funnel_attempts import col, is_one, num, path_columns
from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan
from sextant.catalog.rows import Context

if TYPE_CHECKING:
    from sextant.analyses.funnels import FunnelQuery


def applies(query: FunnelQuery) -> bool:
    return query.order == "sequential" and not query.exclusions and query.entry == "latest"


def _before(ts: exp.Expression, eid: exp.Expression, alias: str) -> exp.Expression:
    """(ts, eid) comes before event `alias` in (timestamp, event id) order."""
    return exp.paren(
        exp.or_(
            exp.LT(this=ts, expression=col("ts", alias)),
            exp.and_(
                exp.EQ(this=ts.copy(), expression=col("ts", alias)),
                exp.LT(this=eid, expression=col("eid", alias)),
            ),
        )
    )


def _key(ts: str, eid: str, table: str | None = None) -> exp.Tuple:
    return exp.Tuple(expressions=[col(ts, table), col(eid, table)])


def _first_row(select: exp.Select, columns: list[str], order: list[exp.Ordered]) -> exp.Select:
    """`columns` of the rows of `select` ranked first per person in `order`."""
    ranked = select.select(
        exp.alias_(
            exp.Window(
                this=exp.func("ROW_NUMBER"),
                partition_by=[col("who")],
                order=exp.Order(expressions=order),
            ),
            "nth",
        )
    )
    return (
        exp.select(*[col(c) for c in columns])
        .from_(ranked.subquery("ranked"))
        .where(exp.EQ(this=col("nth"), expression=num(1)))
    )


def _asc(name: str) -> exp.Ordered:
    return exp.Ordered(this=col(name), nulls_first=False)


def counted_paths(ctx: Context, query: FunnelQuery, plan: Plan, matched: str) -> str:
    n = len(query.steps)
    window = query.window_seconds
    dims = ctx.dim_names
    level = plan.add(
        "level_1",
        exp.select(
            col("who"),
            col("ts"),
            col("eid"),
            exp.alias_(col("ts"), "start"),
            exp.alias_(col("eid"), "start_eid"),
        )
        .from_(matched)
        .where(exp.and_(is_one("m1", matched), is_one("in_range", matched))),
        "step-1 events in the range: each starts itself",
    )
    levels = [level]
    for k in range(2, n + 1):
        deadline = d.add_seconds(col("start", "p"), window, ctx.dialect)
        on = exp.and_(
            exp.EQ(this=col("who", "p"), expression=col("who", "e")),
            _before(col("ts", "p"), col("eid", "p"), "e"),
            exp.LTE(this=col("ts", "e"), expression=deadline),
        )
        select = (
            exp.select(
                col("who", "e"),
                col("ts", "e"),
                col("eid", "e"),
                exp.alias_(exp.Max(this=col("start", "p")), "start"),
                exp.alias_(
                    exp.ArgMax(
                        this=col("start_eid", "p"), expression=_key("start", "start_eid", "p")
                    ),
                    "start_eid",
                ),
            )
            .from_(exp.alias_(exp.table_(matched), "e", table=True))
            .join(exp.alias_(exp.table_(levels[-1]), "p", table=True), on=on, join_type="INNER")
            .where(is_one(f"m{k}", "e"))
            .group_by(col("who", "e"), col("ts", "e"), col("eid", "e"))
        )
        levels.append(
            plan.add(
                f"level_{k}",
                select,
                f"step-{k} events reachable from a start within the window, with the latest start",
            )
        )
    furthest = None
    for k, name in enumerate(levels[1:], 2):
        branch = exp.select(
            col("who"),
            exp.alias_(num(k), "reach"),
            exp.alias_(col("ts"), "done_ts"),
            exp.alias_(col("eid"), "done_eid"),
            col("start"),
            col("start_eid"),
        ).from_(name)
        furthest = branch if furthest is None else exp.union(furthest, branch, distinct=False)
    # As the attempt form ranks attempts: furthest, completed earliest, then started latest.
    order = [
        exp.Ordered(this=col("reach"), desc=True),
        _asc("done_ts"),
        exp.Ordered(this=col("start"), desc=True),
        exp.Ordered(this=col("start_eid"), desc=True),
    ]
    done = ["who", "reach", "done_ts", "done_eid", "start", "start_eid"]
    best = plan.add(
        "furthest",
        _first_row(exp.select(exp.Star()).from_(furthest.subquery("levels")), done, order),
        "each person's furthest level, completed earliest, started latest",
    )
    firsts = plan.add(
        "entered",
        exp.select(
            col("who"),
            exp.alias_(exp.Min(this=col("ts")), "first_ts"),
            exp.alias_(exp.Max(this=col("ts")), "last_t1"),
        )
        .from_(level)
        .group_by(col("who")),
        "persons entering the funnel: their first and last step-1 event in the range",
    )
    if dims:  # the step-1 event itself is needed only for its breakdown values
        firsts = _first_event(plan, level, firsts)
    path = plan.add(
        "path_1",
        exp.select(
            col("who", "f"),
            exp.alias_(exp.func("COALESCE", col("reach", "b"), num(1)), "reach"),
            col("last_t1", "f"),
            exp.alias_(exp.func("COALESCE", col("start", "b"), col("first_ts", "f")), "t1"),
            exp.alias_(
                exp.func("COALESCE", col("start_eid", "b"), col("first_eid", "f"))
                if dims
                else col("start_eid", "b"),
                "eid1",
            ),
        )
        .from_(exp.alias_(exp.table_(firsts), "f", table=True))
        .join(
            exp.alias_(exp.table_(best), "b", table=True),
            on=exp.EQ(this=col("who", "b"), expression=col("who", "f")),
            join_type="LEFT",
        ),
        "the counted path's start: the latest start of the furthest level, else the first "
        "step-1 event",
    )
    columns = ["who", "reach", "last_t1", "t1", "eid1"]
    if dims:
        path = _with_dims(plan, path, matched, columns, dims)
        columns += [f"d1_{dim}" for dim in dims]
    for k in range(2, n + 1):
        path = _next_step(plan, path, matched, levels[k - 1], k, dims, columns)
        columns += [f"t{k}", *([f"eid{k}", *(f"d{k}_{dim}" for dim in dims)] if dims else [])]
    return _paths(ctx, query, plan, path)


def _first_event(plan: Plan, level: str, firsts: str) -> str:
    """`firsts` with `first_eid`: of the step-1 events at a person's first time, the last in
    (timestamp, event id) order, the start a 1-step attempt ranking takes (started latest)."""
    on = exp.and_(
        exp.EQ(this=col("who", "l"), expression=col("who", "f")),
        exp.EQ(this=col("ts", "l"), expression=col("first_ts", "f")),
    )
    select = (
        exp.select(
            exp.alias_(col("who", "f"), "who"),
            exp.alias_(exp.Min(this=col("first_ts", "f")), "first_ts"),
            exp.alias_(exp.Min(this=col("last_t1", "f")), "last_t1"),
            exp.alias_(exp.Max(this=col("eid", "l")), "first_eid"),
        )
        .from_(exp.alias_(exp.table_(firsts), "f", table=True))
        .join(exp.alias_(exp.table_(level), "l", table=True), on=on, join_type="INNER")
        .group_by(col("who", "f"))
    )
    return plan.add("entered_event", select, "the step-1 event a person entering only starts from")


def _with_dims(plan: Plan, path: str, matched: str, columns: list[str], dims: list[str]) -> str:
    """The breakdown values at the path's step-1 event. Columns are named one by one:
    ClickHouse prefixes `a.*` columns whose names the other table shares."""
    k = 1
    select = (
        exp.select(
            *[exp.alias_(col(c, "a"), c) for c in columns],
            *[exp.alias_(col(dim, "e"), f"d{k}_{dim}") for dim in dims],
        )
        .from_(exp.alias_(exp.table_(path), "a", table=True))
        .join(
            exp.alias_(exp.table_(matched), "e", table=True),
            on=exp.and_(
                exp.EQ(this=col("who", "e"), expression=col("who", "a")),
                exp.EQ(this=col("eid", "e"), expression=col(f"eid{k}", "a")),
            ),
            join_type="LEFT",
        )
    )
    return plan.add(f"path_{k}_values", select, "breakdown values at the path's step-1 event")


def _next_step(plan: Plan, path: str, matched: str, level: str, k: int, dims, columns) -> str:
    """Step k of each counted path reaching it. Every event of the path has the path's start
    as its latest start (a later start reaching it would reach the last step too), so step k
    is the earliest step-k event whose latest start is the path's: a group-by of level k
    joined once, where ranking candidate events per person would read the path twice."""
    firsts = [
        col("who"),
        col("start"),
        col("start_eid"),
        exp.alias_(exp.Min(this=col("ts")), "first_ts"),
    ]
    if dims:
        firsts.append(
            exp.alias_(exp.ArgMin(this=col("eid"), expression=_key("ts", "eid")), "first_eid")
        )
    earliest = plan.add(
        f"earliest_{k}",
        exp.select(*firsts).from_(level).group_by(col("who"), col("start"), col("start_eid")),
        f"the earliest step-{k} event of each latest start",
    )
    on = exp.and_(
        exp.EQ(this=col("who", "s"), expression=col("who", "a")),
        exp.EQ(this=col("start", "s"), expression=col("t1", "a")),
        exp.EQ(this=col("start_eid", "s"), expression=col("eid1", "a")),
    )
    select = (
        exp.select(
            *[exp.alias_(col(c, "a"), c) for c in columns],
            exp.alias_(col("first_ts", "s"), f"t{k}"),
        )
        .from_(exp.alias_(exp.table_(path), "a", table=True))
        .join(exp.alias_(exp.table_(earliest), "s", table=True), on=on, join_type="LEFT")
    )
    if dims:
        select = select.select(exp.alias_(col("first_eid", "s"), f"eid{k}"))
        select = select.join(
            exp.alias_(exp.table_(matched), "e", table=True),
            on=exp.and_(
                exp.EQ(this=col("who", "e"), expression=col("who", "a")),
                exp.EQ(this=col("eid", "e"), expression=col("first_eid", "s")),
            ),
            join_type="LEFT",
        ).select(*[exp.alias_(col(dim, "e"), f"d{k}_{dim}") for dim in dims])
    return plan.add(f"path_{k}", select, f"counted paths up to step {k}")


def _paths(ctx: Context, query: FunnelQuery, plan: Plan, path: str) -> str:
    select = exp.select(*path_columns(ctx, query, num(0))).from_(path)
    return plan.add("paths", select, "each person's counted path")
