"""Retention: cohorts of persons by the period of their start event, and the share of each
cohort coming back in each later period, with the weighted average curve, Day-N values and,
optionally, cumulative revenue per member (LTV). Rules in SEMANTICS: Retention; the SQL in
`retention_sql.py`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, Literal

from pydantic import Field, model_validator

from sextant.analyses.base import AnalysisQuery, Facts, Rows, Statements, unknown_events
from sextant.analyses.registry import analysis
from sextant.analyses.retention_sql import counts, is_incomplete, lifetime_value
from sextant.catalog.rows import Context
from sextant.errors import Problem, SextantError

Period = Literal["day", "week", "month"]
DEFAULT_PERIODS = {"day": 30, "week": 8, "month": 12}
MAX_PERIODS = {"day": 90, "week": 52, "month": 24}
MAX_DAY_N = 180
# Result columns a breakdown may not be named after.
COLUMNS = {
    "part",
    "day",
    "first_day",
    "cohort",
    "idx",
    "started",
    "event_id",
    "nth",
    "period",
    "persons",
    "revenue",
}


@analysis(
    "retention",
    label="Retention",
    summary="Persons grouped by the period of their start event (cohorts), and the share of "
    "each cohort coming back in each later period.",
    noun="cohort members",
)
class RetentionQuery(AnalysisQuery):
    start_event: str | None = Field(
        default=None, description="the event that puts a person in a cohort (default: any active)"
    )
    return_event: str | None = Field(
        default=None, description="the event that counts as coming back (default: any active)"
    )
    cohort: Literal["first_time", "recurring"] = Field(
        default="first_time",
        description="first_time: the period of the person's first start event in the range; "
        "recurring: every period holding a start event",
    )
    period: Period = Field(default="week", description="cohort and return periods")
    periods: int = Field(
        default=0, description="the last period N shown (default 30 days, 8 weeks, 12 months)"
    )
    criterion: Literal["on", "on_or_after"] = Field(
        default="on", description="on: returned in exactly period N; on_or_after: in N or later"
    )
    window: Literal["calendar", "rolling"] = Field(
        default="calendar",
        description="calendar periods in the time zone, or rolling 24-hour days (7-day weeks, "
        "30-day months) from the start event",
    )
    day_n: tuple[int, ...] = Field(
        default=(1, 7, 14, 30, 60, 90), description="Day-N retention values to report"
    )
    revenue: bool = Field(
        default=False, description="cumulative net revenue per cohort member (LTV)"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_periods(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("periods"):
            return data | {"periods": DEFAULT_PERIODS.get(data.get("period", "week"), 8)}
        return data


def _periods_in_range(query: RetentionQuery) -> list[Problem]:
    most = MAX_PERIODS[query.period]
    out = []
    if not 1 <= query.periods <= most:
        out.append(
            Problem(
                "retention_periods_out_of_range",
                f"periods: {query.periods} is out of range; 1 to {most} {query.period}s",
                "periods",
            )
        )
    bad = sorted({n for n in query.day_n if not 1 <= n <= MAX_DAY_N})
    if bad:
        out.append(
            Problem(
                "retention_periods_out_of_range",
                f"day_n: {', '.join(map(str, bad))} out of range; days 1 to {MAX_DAY_N}",
                "day_n",
            )
        )
    return out


def _breakdown_known(query: RetentionQuery, facts: Facts) -> list[Problem]:
    out = []
    for name in query.breakdown:
        try:
            dim = facts.catalog.dimension(name)
        except SextantError:  # reported for every analysis by run.validate
            continue
        if dim.name in COLUMNS:
            message = f"breakdown {dim.name!r} clashes with a result column"
            out.append(Problem("breakdown_reserved", message, "breakdown"))
    return out


def _options_compatible(query: RetentionQuery) -> list[Problem]:
    if query.revenue and query.cohort == "recurring":
        return [
            Problem(
                "retention_options_incompatible",
                "revenue: lifetime value needs first_time cohorts (with recurring cohorts a "
                "person's orders would count in several cohorts)",
                "revenue",
            )
        ]
    return []


def validate(query: RetentionQuery, facts: Facts) -> list[Problem]:
    named = [(query.start_event, "start_event"), (query.return_event, "return_event")]
    return [
        *unknown_events([(n, f) for n, f in named if n], facts),
        *_periods_in_range(query),
        *_breakdown_known(query, facts),
        *_options_compatible(query),
    ]


def _day_n_in_matrix(query: RetentionQuery) -> bool:
    return query.period == "day" and query.periods >= max(query.day_n, default=0)


def build(ctx: Context) -> Statements:
    query: RetentionQuery = ctx.query  # type: ignore[assignment]
    parts = [("matrix", query.period, tuple(range(1, query.periods + 1)))]
    if query.day_n and not _day_n_in_matrix(query):
        parts.append(("day_n", "day", tuple(sorted(set(query.day_n)))))
    out = {"matrix": counts(ctx, parts)}
    if query.revenue:
        out["ltv"] = lifetime_value(ctx, query.period, query.periods)
    return out


# --- shaping -------------------------------------------------------------------------------


def _by_cohort(query: RetentionQuery, rows: list[dict]) -> dict[tuple, dict[date, dict]]:
    """slice -> cohort -> {"size": n, N: persons returned in N} (on_or_after summed)."""
    names = list(query.breakdown)
    out: dict[tuple, dict[date, dict]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        key = tuple(row[n] for n in names)
        out[key][row["cohort"]][int(row["period"])] = int(row["persons"])
    if query.criterion == "on_or_after":
        for cohorts in out.values():
            for cells in cohorts.values():
                ends = {n: p for n, p in cells.items() if n > 0}
                for n in range(1, max(ends, default=0) + 1):
                    cells[n] = sum(p for last, p in ends.items() if last >= n)
    return out


def _curve(query, cohorts: dict[date, dict], unit: str, ns, today: date) -> list[dict]:
    """The average over cohorts of the share returned in each N, weighted by cohort size,
    of the cohorts whose period N has fully elapsed (a 0 % cohort counts)."""
    out = []
    for n in ns:
        done = [c for c in cohorts if not is_incomplete(query, c, unit, n, today)]
        size = sum(cohorts[c][0] for c in done)
        persons = sum(cohorts[c].get(n, 0) for c in done) if n else size
        rate = (1.0 if n == 0 else persons / size) if size else None
        out.append(
            {"period": n, "rate": rate, "persons": persons, "size": size, "cohorts": len(done)}
        )
    return out


def _ltv(query: RetentionQuery, rows: list[dict]) -> dict[tuple, dict[date, dict[str, dict]]]:
    """slice -> cohort -> currency -> {N: revenue in N}."""
    names = list(query.breakdown)
    out: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for row in rows:
        key = tuple(row[n] for n in names)
        out[key][row["cohort"]][row["currency"]][int(row["period"])] = float(row["revenue"])
    return out


def _ltv_cells(query, cohort: date, size: int, spent: dict[str, dict], today: date):
    cells = []
    for currency in sorted(spent, key=lambda c: (c is None, str(c))):
        total = 0.0
        for n in range(query.periods + 1):
            total += spent[currency].get(n, 0.0)
            cells.append(
                {
                    "currency": currency,
                    "period": n,
                    "revenue": total,
                    "per_member": total / size,
                    "incomplete": is_incomplete(query, cohort, query.period, n, today),
                }
            )
    return cells


def _ltv_curve(cohorts: list[dict], currencies: set) -> list[dict]:
    out = []
    for currency in sorted(currencies, key=lambda c: (c is None, str(c))):
        for n in range(len(cohorts[0]["cells"])):
            total = size = 0
            for c in cohorts:
                cell = next(
                    (x for x in c["ltv"] if x["currency"] == currency and x["period"] == n), None
                )
                if not c["cells"][n]["incomplete"]:
                    total += cell["revenue"] if cell else 0.0
                    size += c["size"]
            value = total / size if size else None
            out.append({"currency": currency, "period": n, "per_member": value, "size": size})
    return out


def shape(query: RetentionQuery, rows: Rows, today: date) -> dict[str, Any]:
    names = list(query.breakdown)
    matrix = _by_cohort(query, [r for r in rows["matrix"] if r["part"] == "matrix"])
    days = _by_cohort(query, [r for r in rows["matrix"] if r["part"] == "day_n"])
    if _day_n_in_matrix(query):
        days = matrix
    spent = _ltv(query, rows.get("ltv", []))
    slices = []
    for key in sorted(matrix, key=lambda k: tuple((v is None, str(v)) for v in k)):
        cohorts = []
        for start in sorted(matrix[key]):
            found = matrix[key][start]
            size = found[0]
            cells = [
                {
                    "period": n,
                    "persons": size if n == 0 else found.get(n, 0),
                    "rate": 1.0 if n == 0 else found.get(n, 0) / size,
                    "incomplete": is_incomplete(query, start, query.period, n, today),
                }
                for n in range(query.periods + 1)
            ]
            cohort = {"cohort": start, "size": size, "cells": cells}
            if query.revenue:
                cohort["ltv"] = _ltv_cells(query, start, size, spent[key][start], today)
            cohorts.append(cohort)
        average = _curve(query, matrix[key], query.period, range(query.periods + 1), today)
        day_n = [
            {"day": p["period"], **{k: v for k, v in p.items() if k != "period"}}
            for p in _curve(query, days.get(key, {}), "day", sorted(set(query.day_n)), today)
        ]
        one = {
            **dict(zip(names, key, strict=True)),
            "members": sum(c["size"] for c in cohorts),
            "cohorts": cohorts,
            "average": average,
            "day_n": day_n,
        }
        if query.revenue:
            currencies = {x["currency"] for c in cohorts for x in c["ltv"]}
            one["ltv"] = _ltv_curve(cohorts, currencies)
        slices.append(one)
    return {
        "period": query.period,
        "periods": query.periods,
        "cohort": query.cohort,
        "criterion": query.criterion,
        "window": query.window,
        "start_event": query.start_event,
        "return_event": query.return_event,
        "slices": slices,
        "empty": not slices,
    }
