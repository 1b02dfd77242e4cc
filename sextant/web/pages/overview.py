"""Overview: the North Star and the headline numbers (DAU, WAU, MAU, stickiness, sign-ups,
activation, sessions), each with its change against the previous period of the same length
and a daily sparkline; below, active users and sign-ups by day.

A range's headline value is formed from the daily series by a rule that suits the metric
(stated on each card): counts are totals, rolling windows are read on the last day, daily
rates are averaged, and activation is weighted by each day's sign-ups (each sign-up day is
its own cohort, so the weighted mean is the range's rate).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sextant.catalog.results import MetricResult
from sextant.web import charts
from sextant.web.context import PageContext
from sextant.web.formatting import change
from sextant.web.panels import Column, Kpi, Page, Panel

CARDS = {  # metric -> how the range's value is formed
    "north_star": "last",
    "dau": "mean",
    "wau": "last",
    "mau": "last",
    "stickiness": "mean",
    "signups": "sum",
    "activation_rate": "weighted:signups",
    "sessions": "sum",
}
BASIS = {"sum": "total", "mean": "average per day", "weighted:signups": "of the range's sign-ups"}
OPTIONS: tuple[str, ...] = ()
METRICS: tuple[str, ...] = tuple(CARDS)


def build(ctx: PageContext) -> Page:
    page = ctx.start(
        Page(
            "overview",
            "Overview",
            "The headline numbers for the range, each against the previous period of the same "
            "length. Hover or open the (i) beside a number for its definition; each name links to "
            "its catalog entry.",
        )
    )
    state = ctx.state
    both = replace(state, date_from=state.previous().date_from)
    results = dict(zip(CARDS, ctx.metrics(list(CARDS), state=both), strict=True))
    current = {name: _rows(r, state.date_from, state.date_to) for name, r in results.items()}
    before = {
        name: _rows(r, state.previous().date_from, state.previous().date_to)
        for name, r in results.items()
    }
    for name, rule in CARDS.items():
        result = results[name]
        value, previous = _value(rule, current, name), _value(rule, before, name)
        page.kpis.append(
            Kpi(
                id=name,
                label=f"North Star: {result.label}" if name == "north_star" else result.label,
                value=value,
                unit=result.unit,
                basis=BASIS.get(rule, f"on {state.date_to}"),
                definition=result.description,
                metric=name,
                change=change(value, previous, result.unit),
                sparkline=charts.sparkline(
                    [r["bucket"] for r in current[name]],
                    [r["value"] for r in current[name]],
                    unit=result.unit,
                ),
            )
        )
    if not sum(r["value"] or 0 for r in current["sessions"]):
        page.message = (
            f"No sessions in range {state.date_from}..{state.date_to}: choose a longer range "
            "(Last 90 days) or clear the filters."
        )
    page.panels = [_active_users(ctx, results, current), _signups(results, current)]
    return page


def _rows(result: MetricResult, first, last) -> list[dict[str, Any]]:
    return [r for r in result.rows if first <= r["bucket"] <= last]


def _value(rule: str, series: dict[str, list[dict[str, Any]]], name: str) -> Any:
    values = [r["value"] for r in series[name]]
    present = [v for v in values if v is not None]
    if not values:
        return None
    if rule == "sum":
        return sum(present)
    if rule == "last":
        return values[-1]
    if rule == "mean":
        return sum(present) / len(present) if present else None
    weights = {r["bucket"]: r["value"] or 0 for r in series[rule.split(":")[1]]}
    total = sum(weights[r["bucket"]] for r in series[name] if r["value"] is not None)
    if not total:
        return None
    return (
        sum(r["value"] * weights[r["bucket"]] for r in series[name] if r["value"] is not None)
        / total
    )


def _merged(
    current: dict[str, list[dict[str, Any]]], names: tuple[str, ...]
) -> list[dict[str, Any]]:
    """One row per day with a column per metric (the rows of each metric's API result)."""
    days = [r["bucket"] for r in current[names[0]]]
    by_name = {n: {r["bucket"]: r["value"] for r in current[n]} for n in names}
    return [{"bucket": day, **{n: by_name[n].get(day) for n in names}} for day in days]


def _active_users(ctx: PageContext, results, current) -> Panel:
    names = ("dau", "wau", "mau")
    rows = _merged(current, names)
    return Panel(
        id="active_users",
        title="Active users",
        definition=" ".join(f"{results[n].label}: {results[n].description}" for n in names),
        columns=[Column("bucket", "Day"), *(Column(n, results[n].label, "persons") for n in names)],
        rows=rows,
        figure=charts.line(
            [r["bucket"] for r in rows],
            {n.upper(): [r[n] for r in rows] for n in names},
            unit="persons",
            y_title="people",
        ),
        sql={n: results[n].sql for n in names},
        summary="Daily, weekly and monthly active people for each day of the range.",
        wide=True,
    )


def _signups(results, current) -> Panel:
    rows = _merged(current, ("signups", "activation_rate"))
    return Panel(
        id="signups",
        title="Sign-ups and activation by day",
        definition=f"{results['signups'].description} {results['activation_rate'].description}",
        columns=[
            Column("bucket", "Day"),
            Column("signups", "Sign-ups", "persons"),
            Column("activation_rate", "Activation rate", "ratio"),
        ],
        rows=rows,
        figure=charts.bars(
            [r["bucket"] for r in rows],
            {"Sign-ups": [r["signups"] for r in rows]},
            unit="persons",
            y_title="sign-ups",
        ),
        sql={n: results[n].sql for n in ("signups", "activation_rate")},
        summary="Sign-ups per day; the table adds each day's activation rate.",
    )
