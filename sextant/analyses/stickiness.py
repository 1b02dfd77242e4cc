"""Stickiness: how many distinct days (or weeks) in the range each person was active, as a
histogram of persons (SEMANTICS: Identity and activity). Exact counts by default; with
`cumulative`, each bar counts the persons active on that many periods or more.
"""

from __future__ import annotations

from datetime import date, timedelta
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
from sextant.catalog.compiler import bucket
from sextant.catalog.models import EventSelector
from sextant.catalog.rows import Context, select_rows
from sextant.errors import Problem


@analysis(
    "stickiness",
    label="Stickiness",
    summary="For each person, the number of distinct days (or weeks) they were active in the "
    "range, as a histogram: how habitual use is.",
    noun="active persons",
)
class StickinessQuery(AnalysisQuery):
    unit: Literal["day", "week"] = Field(
        default="day", description="count distinct active days or weeks"
    )
    cumulative: bool = Field(
        default=False, description="each bar counts persons active on N or more periods"
    )
    event: str | None = Field(
        default=None, description="count only periods with this event (default: any active one)"
    )


def validate(query: StickinessQuery, facts: Facts) -> list[Problem]:
    events = [(query.event, "event")] if query.event else []
    return unknown_events(events, facts)


def build(ctx: Context) -> Statements:
    query: StickinessQuery = ctx.query  # type: ignore[assignment]
    selector = (
        EventSelector(events=(query.event,)) if query.event else EventSelector(event_flag="active")
    )
    period = bucket(ctx, exp.column("timestamp", table="r"), query.unit)
    rows = select_rows(
        ctx,
        "events",
        query.bounds(),
        condition=ctx.selection(selector),
        columns=[exp.alias_(period, "period")],
    )
    dims = [exp.column(name) for name in ctx.dim_names]
    per_person = (
        exp.select(
            *dims,
            exp.column("who"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[exp.column("period")])), "periods"),
        )
        .from_(rows.subquery("active"))
        .group_by(*[d.copy() for d in dims], exp.column("who"))
    )
    histogram = (
        exp.select(
            *[d.copy() for d in dims],
            exp.column("periods"),
            exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
        )
        .from_(per_person.subquery("per_person"))
        .group_by(*[d.copy() for d in dims], exp.column("periods"))
    )
    return {"histogram": histogram}


def periods_in_range(query: StickinessQuery) -> int:
    """How many days or weeks (started in or before the range) the range touches."""
    if query.unit == "day":
        return (query.date_to - query.date_from).days + 1
    first = query.date_from - timedelta(days=(query.date_from.weekday() - query.first_weekday) % 7)
    return (query.date_to - first).days // 7 + 1


def shape(query: StickinessQuery, rows: Rows, today: date) -> dict[str, Any]:
    names = list(query.breakdown)
    slices: dict[tuple, dict[int, int]] = {}
    for row in rows["histogram"]:
        key = tuple(row[n] for n in names)
        slices.setdefault(key, {})[int(row["periods"])] = int(row["persons"])
    most = periods_in_range(query)
    out = []
    for key in sorted(slices, key=slice_order):
        counts = slices[key]
        total = sum(counts.values())
        bars = []
        for n in range(1, most + 1):
            if query.cumulative:
                persons = sum(c for k, c in counts.items() if k >= n)
            else:
                persons = counts.get(n, 0)
            bars.append({"periods": n, "persons": persons, "share": persons / total})
        out.append({**dict(zip(names, key, strict=True)), "persons": total, "bars": bars})
    return {
        "unit": query.unit,
        "cumulative": query.cumulative,
        "periods_in_range": most,
        "slices": out,
        "empty": not out,
    }
