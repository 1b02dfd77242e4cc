"""Sessions: average, median and 95th percentile duration, sessions and bounce rate against
the previous period; the daily trend, the duration distribution, sessions per person, and
the events sessions start and end with (where people drop off). One `sessions` analysis per
period, as `POST /api/v1/analyses/sessions` answers it.
"""

from __future__ import annotations

from typing import Any

from sextant.web import charts
from sextant.web.context import PageContext
from sextant.web.formatting import change
from sextant.web.panels import Column, Kpi, Page, Panel

HEADLINES = (  # key path in a slice, label, unit, catalog metric
    (("duration", "avg"), "Average session", "seconds", "session_duration_avg"),
    (("duration", "p50"), "Median session", "seconds", "session_duration_p50"),
    (("duration", "p95"), "95th percentile session", "seconds", "session_duration_p95"),
    (("sessions",), "Sessions", "sessions", "sessions"),
    (("bounce_rate",), "Bounce rate", "ratio", "bounce_rate"),
)
METRICS = tuple(h[3] for h in HEADLINES)
HEADLINE_METRICS = METRICS[:3]
OPTIONS: tuple[str, ...] = ()


def build(ctx: PageContext) -> Page:
    page = ctx.start(
        Page(
            "sessions",
            "Sessions",
            "How long visits last and where they end. A session ends after 30 minutes without an "
            "event (or at 24 hours); it counts on the day it starts.",
        )
    )
    result = ctx.analysis("sessions")
    if result.empty:
        page.message = result.message
        return page
    previous = ctx.analysis("sessions", **_range(ctx.state.previous()))
    now = result.result["slices"][0]
    before = None if previous.empty else previous.result["slices"][0]
    series = now["series"]
    for path, label, unit, metric in HEADLINES:
        value = _get(now, path)
        page.kpis.append(
            Kpi(
                id=metric,
                label=label,
                value=value,
                unit=unit,
                basis="total" if unit == "sessions" else "over the range",
                definition=ctx.describe(metric),
                metric=metric,
                change=None if before is None else change(value, _get(before, path), unit),
                sparkline=charts.sparkline(
                    [r["bucket"] for r in series], [_get(r, path[-1:]) for r in series], unit=unit
                ),
            )
        )
    sql = result.sql
    page.panels = [
        Panel(
            id="trend",
            title="Session duration by day",
            definition=" ".join(ctx.describe(m) for m in HEADLINE_METRICS),
            columns=[
                Column("bucket", "Day"),
                Column("sessions", "Sessions", "sessions"),
                Column("avg", "Average", "seconds"),
                Column("p50", "Median", "seconds"),
                Column("p95", "95th percentile", "seconds"),
                Column("bounce_rate", "Bounce rate", "ratio"),
            ],
            rows=series,
            figure=charts.line(
                [r["bucket"] for r in series],
                {
                    k: [r[v] for r in series]
                    for k, v in (("Average", "avg"), ("Median", "p50"), ("95th percentile", "p95"))
                },
                unit="seconds",
                y_title="seconds",
            ),
            sql=sql,
            summary="Average, median and 95th percentile session duration for each day.",
            wide=True,
        ),
        Panel(
            id="durations",
            title="How long sessions last",
            definition="Sessions by duration (last event minus first event; a single-event "
            "session lasts 0 s). " + ctx.describe("bounce_rate"),
            columns=[
                Column("bin", "Duration"),
                Column("sessions", "Sessions", "sessions"),
                Column("share", "Share", "ratio"),
            ],
            rows=now["durations"],
            figure=charts.bars(
                [r["bin"] for r in now["durations"]],
                {"Sessions": [r["sessions"] for r in now["durations"]]},
                unit="sessions",
                y_title="sessions",
            ),
            sql=sql,
            summary="Sessions counted by how long they lasted.",
        ),
        Panel(
            id="per_person",
            title="Sessions per person",
            definition="People active in the range by how many sessions they started in it.",
            columns=[Column("sessions", "Sessions"), Column("persons", "People", "persons")],
            rows=now["sessions_per_person"]["distribution"],
            figure=charts.bars(
                [r["sessions"] for r in now["sessions_per_person"]["distribution"]],
                {"People": [r["persons"] for r in now["sessions_per_person"]["distribution"]]},
                unit="persons",
                y_title="people",
                x_title="sessions in the range",
            ),
            sql=sql,
            summary="People counted by their number of sessions in the range.",
        ),
        _events_panel(
            "exits",
            "Where sessions end",
            now["exit_events"],
            sql,
            "The last event of each session: where people drop off.",
        ),
        _events_panel(
            "entries",
            "Where sessions start",
            now["entry_events"],
            sql,
            "The first event of each session: how people arrive.",
        ),
    ]
    return page


def _range(state) -> dict[str, str]:
    return {"from": state.date_from.isoformat(), "to": state.date_to.isoformat()}


def _get(row: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        row = row.get(key) if isinstance(row, dict) else None
    return row


def _events_panel(panel_id: str, title: str, found: list[dict], sql, definition: str) -> Panel:
    # The API's `name` is the event's; renamed so no export mistakes it for a person's name.
    rows = [{"event": r["name"], "sessions": r["sessions"]} for r in found]
    return Panel(
        id=panel_id,
        title=title,
        definition=f"{definition} The top 10 events by sessions.",
        columns=[Column("event", "Event"), Column("sessions", "Sessions", "sessions")],
        rows=rows,
        figure=charts.bars(
            [r["event"] for r in rows],
            {"Sessions": [r["sessions"] for r in rows]},
            unit="sessions",
            horizontal=True,
        ),
        sql=sql,
        summary=f"{title}: sessions by event, largest first.",
    )
