"""The portable SQL of a funnel (SEMANTICS F1-F7), as named CTEs:

1. `matched`: one filtered scan of the step (and exclusion) events from the range start to
   the range end plus the window, one row per event with a 0/1 flag per step and exclusion
   (strict order reads every event: any event may break the chain).
2. `ordered`: each person's events numbered in (timestamp, event id) order; equal
   timestamps are ordered by event id, so results are deterministic.
3. the counted paths: level by level for a sequential funnel without exclusions
   (`funnel_fast.py`), else by attempts (`funnel_attempts.py`).

Statements read `paths`: `funnel` (persons per furthest step, breakdown bucket and the local
date the window closes, for the incomplete count; and the times to convert, as rows of
`part` "time"), and on request `trend` and `dropped`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlglot import exp

from sextant.analyses import funnel_fast
from sextant.analyses.funnel_attempts import (
    any_order,
    attempt_paths,
    col,
    flag,
    num,
    over,
    sequential,
    voided,
)
from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan
from sextant.catalog.rows import Context, row_condition, select_rows

if TYPE_CHECKING:
    from sextant.analyses.funnels import FunnelQuery, Matcher

DROPPED_CAP = 10_000  # person ids per step in the dropped-off lists


def matcher_condition(ctx: Context, matcher: Matcher, field: str) -> exp.Expression:
    """F1: an event of the matcher's name passing every one of its filters."""
    parts: list[exp.Expression] = [
        exp.EQ(this=col("event", "r"), expression=exp.Literal.string(matcher.event))
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
    columns = [exp.alias_(col("id", "r"), "eid")]
    columns += [exp.alias_(flag(c), f"m{k}") for k, c in enumerate(step_conditions, 1)]
    columns += [exp.alias_(flag(c), f"x{k}") for k, c in enumerate(exclusion_conditions, 1)]
    columns.append(
        exp.alias_(
            flag(exp.LT(this=col("timestamp", "r"), expression=d.instant(end, ctx.dialect))),
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
            attempts = any_order(ctx, query, plan, matched)
        else:
            attempts = sequential(ctx, query, plan, matched)
        void = voided(ctx, query, plan, attempts, matched) if query.exclusions else None
        paths = attempt_paths(ctx, query, plan, attempts, void)

    def final(select: exp.Select) -> exp.Select:
        return Plan(list(plan.ctes)).build(select)

    keys = [col(name) for name in dims]
    counted = exp.select(
        *[k.copy() for k in keys],
        col("reach"),
        col("excluded"),
        col("closes_on"),
        exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
    ).from_(paths)
    counted = counted.group_by(
        *[k.copy() for k in keys], col("reach"), col("excluded"), col("closes_on")
    )
    statements = {"funnel": final(_together(dims, counted, _times(ctx, query, paths)))}
    if query.trend:
        trend = (
            exp.select(
                col("period"), col("reach"), exp.alias_(exp.func("COUNT", exp.Star()), "persons")
            )
            .from_(paths)
            .where(exp.EQ(this=col("excluded"), expression=num(0)))
            .group_by(col("period"), col("reach"))
        )
        statements["trend"] = final(trend)
    if query.persons:
        statements["dropped"] = final(_dropped(n, paths))
    return statements


COUNT_COLUMNS = ("reach", "excluded", "closes_on", "persons")
TIME_COLUMNS = ("total", "step", "persons", "mean", "median", "p95")
TIME_COLUMNS += ("mean_step", "median_step", "p95_step")


def _together(dims: list[str], counted: exp.Select, times: exp.Select) -> exp.Select:
    """The counts and the times in one statement (`part` tells them apart), so the paths
    are worked out once."""
    names = list(dict.fromkeys([*COUNT_COLUMNS, *TIME_COLUMNS]))

    def part(label: str, select: exp.Select, has: tuple[str, ...], alias: str) -> exp.Select:
        cells = [col(dim) for dim in dims] + [exp.alias_(exp.Literal.string(label), "part")]
        cells += [col(c) if c in has else exp.alias_(exp.Null(), c) for c in names]
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
        one = exp.select(exp.alias_(num(k), "step"))
        numbers = one if numbers is None else exp.union(numbers, one, distinct=False)

    def at(template) -> exp.Case:
        return exp.Case(
            ifs=[
                exp.If(this=exp.EQ(this=col("step"), expression=num(k)), true=template(k))
                for k in range(2, n + 1)
            ]
        )

    since_first = at(lambda k: d.seconds_between(col("t1"), col(f"t{k}"), ctx.dialect))
    since_prev = at(lambda k: d.seconds_between(col(f"t{k - 1}"), col(f"t{k}"), ctx.dialect))
    # Each path once per step it reached, with its two durations worked out once.
    spans = (
        exp.select(
            *[col(dim) for dim in dims],
            col("step"),
            exp.alias_(since_first, "since_first"),
            exp.alias_(since_prev, "since_prev"),
        )
        .from_(paths)
        .join(numbers.subquery("steps"), join_type="CROSS")
        .where(
            exp.and_(
                exp.EQ(this=col("excluded"), expression=num(0)),
                exp.GTE(this=col("reach"), expression=col("step")),
            )
        )
    )
    first, prev = col("since_first"), col("since_prev")
    branches = []
    for total in [False, True] if dims else [False]:
        cells = [
            exp.alias_(exp.cast(exp.Null(), "TEXT") if total else col(dim), dim) for dim in dims
        ]
        cells += [
            exp.alias_(flag(exp.true()) if total else num(0), "total"),
            col("step"),
            exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
            exp.alias_(exp.func("AVG", first.copy()), "mean"),
            exp.alias_(d.quantile_cont(first.copy(), 0.5, ctx.dialect), "median"),
            exp.alias_(d.quantile_cont(first.copy(), 0.95, ctx.dialect), "p95"),
            exp.alias_(exp.func("AVG", prev.copy()), "mean_step"),
            exp.alias_(d.quantile_cont(prev.copy(), 0.5, ctx.dialect), "median_step"),
            exp.alias_(d.quantile_cont(prev.copy(), 0.95, ctx.dialect), "p95_step"),
        ]
        branch = (
            exp.select(*cells)
            .from_(spans.subquery("spans"))
            .group_by(*[col(dim) for dim in dims if not total], col("step"))
        )
        branches.append(branch)
    union = branches[0]
    for branch in branches[1:]:
        union = exp.union(union, branch, distinct=False)
    return exp.select(exp.Star()).from_(union.subquery("times"))


def _dropped(n: int, paths: str) -> exp.Select:
    numbered = exp.select(
        exp.alias_(col("reach"), "step"),
        col("who"),
        exp.alias_(
            over(exp.func("ROW_NUMBER"), [col("reach")], [exp.Ordered(this=col("who"))]), "nth"
        ),
    ).from_(paths)
    numbered = numbered.where(
        exp.and_(
            exp.EQ(this=col("excluded"), expression=num(0)),
            exp.LT(this=col("reach"), expression=num(n)),
        )
    )
    return (
        exp.select(col("step"), col("who"))
        .from_(numbered.subquery("dropped"))
        .where(exp.LTE(this=col("nth"), expression=num(DROPPED_CAP + 1)))
        .order_by(col("step"), col("who"))
    )
