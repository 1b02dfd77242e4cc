"""Lifecycle: per period, how many persons are new, returning, resurrecting or dormant
(SEMANTICS: Identity and activity). Periods are whole calendar days, weeks or months touching
the range (the last one ends with `to`); "new" looks at the whole history before the range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import Field
from sqlglot import exp

from sextant.analyses.base import (
    AnalysisQuery,
    Facts,
    Rows,
    Statements,
    slice_order,
    unknown_events,
)
from sextant.analyses.registry import analysis
from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan
from sextant.catalog.models import EventSelector
from sextant.catalog.rows import Context, select_rows
from sextant.errors import Problem

# Stands for "active at some time before the lookback": earlier than any period shown, and
# never the period right before one (1970 is the first day every engine's dates hold).
BEFORE = date(1970, 1, 1)


@analysis(
    "lifecycle",
    label="Lifecycle",
    summary="Per period, the active persons who are new, returning (active the period before "
    "too) or resurrecting (back after a gap), and those who went dormant (shown negative).",
    noun="active persons",
)
class LifecycleQuery(AnalysisQuery):
    grain: Literal["day", "week", "month"] = Field(
        default="week", description="the period: day, week or month"
    )
    event: str | None = Field(
        default=None,
        description="the qualifying event (default: any active event)",
    )


def validate(query: LifecycleQuery, facts: Facts) -> list[Problem]:
    events = [(query.event, "event")] if query.event else []
    return unknown_events(events, facts)


def period_start(day: date, grain: str, first_weekday: int) -> date:
    if grain == "week":
        return day - timedelta(days=(day.weekday() - first_weekday) % 7)
    if grain == "month":
        return day.replace(day=1)
    return day


def next_period(start: date, grain: str) -> date:
    if grain == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=7 if grain == "week" else 1)


def previous_period(start: date, grain: str) -> date:
    if grain == "month":
        return (start - timedelta(days=1)).replace(day=1)
    return start - timedelta(days=7 if grain == "week" else 1)


def periods(query: LifecycleQuery) -> list[date]:
    """The starts of the periods shown: every period touching the range."""
    out = [period_start(query.date_from, query.grain, query.first_weekday)]
    while (following := next_period(out[-1], query.grain)) <= query.date_to:
        out.append(following)
    return out


def _next_sql(period: exp.Expression, grain: str, dialect: str) -> exp.Expression:
    if grain == "month":
        return d.next_month_start(period, dialect)
    return d.add_days(period, 7 if grain == "week" else 1, dialect)


def build(ctx: Context) -> Statements:
    query: LifecycleQuery = ctx.query  # type: ignore[assignment]
    dialect, grain = ctx.dialect, query.grain
    shown = periods(query)
    lookback = query.instant(previous_period(shown[0], grain))
    end = query.bounds()[1]
    selector = (
        EventSelector(events=(query.event,)) if query.event else EventSelector(event_flag="active")
    )
    condition = ctx.selection(selector)
    dims = [exp.column(n) for n in ctx.dim_names]
    who = [*dims, exp.column("who")]
    plan = Plan()

    window = (lookback, end)
    day = d.local_date(exp.column("timestamp", table="r"), query.timezone, dialect, window)
    period = d.period_start(day, grain, query.first_weekday, dialect)
    recent = select_rows(
        ctx, "events", window, condition=condition, columns=[exp.alias_(period, "period")]
    )
    # Only whether a person was active before the lookback matters: no dates to convert.
    history = select_rows(
        ctx, "events", (datetime(1970, 1, 1, tzinfo=UTC), lookback), condition=condition
    )
    active = exp.union(
        exp.select(*_copies(who), exp.column("period")).from_(recent.subquery("rr")),
        exp.select(*_copies(who), exp.alias_(d.day_literal(BEFORE, dialect), "period")).from_(
            history.subquery("hr")
        ),
        distinct=True,
    )
    active_cte = plan.add(
        "lifecycle_active",
        active,
        f"lifecycle: the {grain}s each person was active in (from the {grain} before the "
        "range), or 1970-01-01 for any time before; persons resolved through merges",
    )
    here = exp.column("period")
    order = [here]
    classified = exp.select(
        *_copies(who),
        here,
        exp.alias_(d.lag(here, 1, who, order, dialect), "prev"),
        exp.alias_(d.lag(here, 1, who, order, dialect, lead=True), "next"),
        exp.alias_(exp.Window(this=exp.func("MIN", here), partition_by=_copies(who)), "first"),
    ).from_(active_cte)
    classified_cte = plan.add(
        "lifecycle_neighbours",
        classified,
        f"lifecycle: each active {grain} with the person's previous, next and first active one",
    )
    first_shown = d.day_literal(shown[0], dialect)
    status = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=here, expression=exp.column("first")), true=_s("new")),
            exp.If(
                this=exp.EQ(
                    this=_next_sql(exp.column("prev"), grain, dialect), expression=here.copy()
                ),
                true=_s("returning"),
            ),
        ],
        default=_s("resurrecting"),
    )
    present = (
        exp.select(*_copies(dims), here.copy(), exp.alias_(status, "status"))
        .from_(classified_cte)
        .where(exp.GTE(this=here.copy(), expression=first_shown))
    )
    after = _next_sql(here.copy(), grain, dialect)
    gone = exp.or_(
        exp.Is(this=exp.column("next"), expression=exp.Null()),
        exp.NEQ(this=exp.column("next"), expression=after.copy()),
    )
    dormant = (
        # Not aliased `period`: ClickHouse would read `period` in the WHERE as this alias.
        exp.select(
            *_copies(dims), exp.alias_(after.copy(), "gone_in"), exp.alias_(_s("dormant"), "status")
        )
        .from_(classified_cte)
        .where(
            exp.and_(
                exp.paren(gone),
                exp.GTE(this=after.copy(), expression=first_shown.copy()),
                exp.LTE(this=after.copy(), expression=d.day_literal(shown[-1], dialect)),
            )
        )
    )
    statuses = plan.add(
        "lifecycle_statuses",
        exp.union(present, dormant, distinct=False),
        f"lifecycle: each person's status in each {grain} shown (dormant: active the {grain} "
        "before, not in this one)",
    )
    counts = (
        exp.select(
            *_copies(dims),
            here.copy(),
            exp.column("status"),
            exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
        )
        .from_(statuses)
        .group_by(*_copies(dims), here.copy(), exp.column("status"))
    )
    return {"statuses": plan.build(counts)}


def _copies(columns: list[exp.Expression]) -> list[exp.Expression]:
    return [c.copy() for c in columns]


def _s(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def shape(query: LifecycleQuery, rows: Rows, today: date) -> dict[str, Any]:
    names = list(query.breakdown)
    slices: dict[tuple, dict[date, dict[str, int]]] = {}
    for row in rows["statuses"]:
        key = tuple(row[n] for n in names)
        cell = slices.setdefault(key, {}).setdefault(_day(row["period"]), {})
        cell[row["status"]] = int(row["persons"])
    shown = periods(query)
    out = []
    for key in sorted(slices, key=slice_order):
        counts = slices[key]
        series = []
        for start in shown:
            cell = counts.get(start, {})
            series.append(
                {
                    "period": start,
                    "new": cell.get("new", 0),
                    "returning": cell.get("returning", 0),
                    "resurrecting": cell.get("resurrecting", 0),
                    "dormant": -cell.get("dormant", 0),
                }
            )
        out.append({**dict(zip(names, key, strict=True)), "periods": series})
    active = any(p["new"] or p["returning"] or p["resurrecting"] for s in out for p in s["periods"])
    return {"grain": query.grain, "slices": out, "empty": not active}


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value
