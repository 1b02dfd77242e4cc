"""Paths: the events persons did next after (or just before) a chosen event, level by level,
as the nodes and links of a Sankey diagram.

Counting: each person counts once, from their first occurrence of the event in the range
(events ordered by timestamp, then id). Their path is the next (or previous) `depth` events of
the same visit: events of the range, minus `exclude`d names, where a gap of more than 30
minutes between consecutive events ends the visit (exactly 30:00 continues it; SDK session
ids and the 24-hour cap of SEMANTICS: Sessions do not apply here). With `collapse_repeats`,
an event repeating the one just before it in the visit is dropped. A node is (level, event):
level 0 is the chosen event, 1..depth the events after it, -depth..-1 those before; at each
level the `top` events by persons are shown and the rest grouped as one "other" node. A link
counts the persons going from one node to the next in time.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field
from sqlglot import exp

from sextant.analyses.base import AnalysisQuery, Facts, Rows, Statements, unknown_event
from sextant.analyses.registry import analysis
from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan
from sextant.catalog.rows import Context, select_rows
from sextant.errors import Problem

GAP_SECONDS = 30 * 60
MAX_DEPTH = 5
MAX_TOP = 20
OTHER = "other"


@analysis(
    "paths",
    label="Paths",
    summary="What persons did right after (or just before) an event, step by step, as a "
    "flow of the most common events.",
    noun="persons with the event",
)
class PathsQuery(AnalysisQuery):
    event: str = Field(description="the event paths start from (or lead to)")
    direction: Literal["after", "before"] = Field(
        default="after", description="the events after the chosen one, or before it"
    )
    depth: int = Field(default=3, ge=1, le=MAX_DEPTH, description="how many steps to follow")
    top: int = Field(
        default=5, ge=1, le=MAX_TOP, description="events shown per step; the rest are 'other'"
    )
    collapse_repeats: bool = Field(
        default=True, description="drop an event repeating the one just before it"
    )
    exclude: tuple[str, ...] = Field(
        default=(), description="event names left out of paths, such as $pageleave"
    )


def validate(query: PathsQuery, facts: Facts) -> list[Problem]:
    problems = []
    if (problem := unknown_event(query.event, "event", facts)) is not None:
        problems.append(problem)
    if query.event in query.exclude:
        problems.append(
            Problem(
                "paths_event_excluded",
                f"exclude: {query.event!r} is the event paths start from; it cannot be left out",
                "exclude",
            )
        )
    if query.breakdown:
        problems.append(
            Problem(
                "paths_breakdown_unsupported",
                "breakdown: paths are not sliced; filter with `where` instead",
                "breakdown",
            )
        )
    return problems


def build(ctx: Context) -> Statements:
    query: PathsQuery = ctx.query  # type: ignore[assignment]
    dialect = ctx.dialect
    plan = Plan()
    condition = None
    if query.exclude:
        listed = [exp.Literal.string(e) for e in query.exclude]
        condition = exp.Not(this=exp.In(this=exp.column("event", table="r"), expressions=listed))
    rows = select_rows(
        ctx,
        "events",
        query.bounds(),
        condition=condition,
        columns=[
            exp.alias_(exp.column("id", table="r"), "eid"),
            exp.alias_(exp.column("event", table="r"), "event"),
        ],
        dims=False,
    )
    who, ts, eid, event = (exp.column(c) for c in ("who", "ts", "eid", "event"))
    order = [ts, eid]  # ties in time keep a fixed order: by event id
    base = ["who", "ts", "eid", "event"]
    ordered = plan.add(
        "paths_events",
        exp.select(*_cols(base), exp.alias_(d.lag(ts, 1, [who], order, dialect), "prev_ts")).from_(
            rows.subquery("r")
        ),
        "paths: events in the range with the same person's previous one, persons resolved "
        "through merges",
    )
    prev_ts = exp.column("prev_ts")
    starts = exp.Case(
        ifs=[
            exp.If(
                this=exp.or_(
                    exp.Is(this=prev_ts, expression=exp.Null()),
                    exp.GT(
                        this=ts.copy(),
                        expression=d.add_seconds(prev_ts.copy(), GAP_SECONDS, dialect),
                    ),
                ),
                true=exp.Literal.number(1),
            )
        ],
        default=exp.Literal.number(0),
    )
    visits = plan.add(
        "paths_visits",
        exp.select(
            *_cols(base), exp.alias_(d.running_sum(starts, [who], order, dialect), "visit")
        ).from_(ordered),
        "paths: visits, cut where more than 30 minutes pass between two events",
    )
    steps_from = visits
    if query.collapse_repeats:
        visit = [who.copy(), exp.column("visit")]
        before = d.lag(event, 1, visit, order, dialect)
        with_before = plan.add(
            "paths_repeats",
            exp.select(*_cols([*base, "visit"]), exp.alias_(before, "prev_event")).from_(visits),
            "paths: each event with the one before it in the visit",
        )
        prev_event = exp.column("prev_event")
        steps_from = plan.add(
            "paths_collapsed",
            exp.select(*_cols([*base, "visit"]))
            .from_(with_before)
            .where(
                exp.or_(
                    exp.Is(this=prev_event, expression=exp.Null()),
                    exp.NEQ(this=prev_event.copy(), expression=event.copy()),
                )
            ),
            "paths: repeats of the event just before dropped",
        )
    number = exp.Window(
        this=exp.func("ROW_NUMBER"),
        partition_by=[who.copy()],
        order=exp.Order(expressions=[exp.Ordered(this=o.copy()) for o in order]),
    )
    steps = plan.add(
        "paths_steps",
        exp.select(*_cols(["who", "visit", "event"]), exp.alias_(number, "k")).from_(steps_from),
        "paths: each person's events numbered in order",
    )
    chosen = exp.EQ(this=event.copy(), expression=exp.Literal.string(query.event))

    def at_first(value: str) -> exp.Window:
        when = exp.Case(ifs=[exp.If(this=chosen.copy(), true=exp.column(value))])
        return exp.Window(this=exp.func("MIN", when), partition_by=[who.copy()])

    anchored = plan.add(
        "paths_anchored",
        exp.select(
            *_cols(["who", "visit", "event", "k"]),
            exp.alias_(at_first("k"), "k0"),
            # Visits only grow with k, so the first chosen event lies in the lowest such visit.
            exp.alias_(at_first("visit"), "v0"),
        ).from_(steps),
        f"paths: each person's first {query.event} (its number and visit)",
    )
    k, k0 = exp.column("k"), exp.column("k0")
    level = exp.Sub(this=k, expression=k0)
    span = (0, query.depth) if query.direction == "after" else (-query.depth, 0)
    levels = plan.add(
        "paths_levels",
        exp.select(who.copy(), exp.alias_(level, "level"), event.copy())
        .from_(anchored)
        .where(
            exp.and_(
                exp.EQ(this=exp.column("visit"), expression=exp.column("v0")),
                exp.Between(
                    this=exp.Sub(this=k.copy(), expression=k0.copy()),
                    low=exp.Literal.number(span[0]),
                    high=exp.Literal.number(span[1]),
                ),
            )
        ),
        f"paths: the {query.depth} events {query.direction} it in the same visit, by level",
    )
    source = d.lag(event.copy(), 1, [who.copy()], [exp.column("level")], dialect)
    linked = exp.select(
        exp.column("level"), exp.alias_(source, "source"), exp.alias_(event.copy(), "target")
    ).from_(levels)
    counts = (
        exp.select(
            exp.column("level"),
            exp.column("source"),
            exp.column("target"),
            exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
        )
        .from_(linked.subquery("l"))
        .group_by(exp.column("level"), exp.column("source"), exp.column("target"))
    )
    return {"links": plan.build(counts)}


def _cols(names: list[str]) -> list[exp.Column]:
    return [exp.column(n) for n in names]


def shape(query: PathsQuery, rows: Rows, today: date) -> dict[str, Any]:
    reached: dict[int, dict[str, int]] = {}
    for row in rows["links"]:
        at = reached.setdefault(int(row["level"]), {})
        at[row["target"]] = at.get(row["target"], 0) + int(row["persons"])
    shown: dict[int, set[str]] = {}
    for level, counts in reached.items():
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        shown[level] = {name for name, _ in ranked[: query.top]}

    Key = tuple[int, str | None]  # (level, event); None: the level's "other" events

    def node(level: int, name: str) -> Key:
        return (level, name if name in shown[level] else None)

    nodes: dict[Key, int] = {}
    links: dict[tuple[Key, Key], int] = {}
    for row in rows["links"]:
        level, persons = int(row["level"]), int(row["persons"])
        target = node(level, row["target"])
        nodes[target] = nodes.get(target, 0) + persons
        if row["source"] is not None:
            pair = (node(level - 1, row["source"]), target)
            links[pair] = links.get(pair, 0) + persons

    def ident(key: Key) -> str:
        return f"{key[0]}:{key[1] if key[1] is not None else '(other)'}"

    def order(key: Key) -> tuple:
        return (key[0], key[1] is None, -nodes[key], key[1] or "")

    out_nodes = [
        {
            "id": ident(key),
            "level": key[0],
            "event": key[1] if key[1] is not None else OTHER,
            "persons": nodes[key],
            "other": key[1] is None,
        }
        for key in sorted(nodes, key=order)
    ]
    out_links = [
        {"source": ident(s), "target": ident(t), "persons": n}
        for (s, t), n in sorted(links.items(), key=lambda kv: (order(kv[0][0]), order(kv[0][1])))
    ]
    persons = nodes.get((0, query.event), 0)
    return {
        "event": query.event,
        "direction": query.direction,
        "persons": persons,
        "nodes": out_nodes,
        "links": out_links,
        "empty": persons == 0,
    }
