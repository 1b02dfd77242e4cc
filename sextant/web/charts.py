"""Plotly figures for the pages, built in Python: lines, bars, a funnel, a heatmap and the
overview sparklines. One look everywhere (font, margins, a colour-blind-safe palette with
AA contrast on white), axes formatted by unit, and JSON that is safe inside a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

# Okabe-Ito, darkened where needed for 3:1 contrast of marks on white (WCAG 1.4.11).
PALETTE = ("#0b62a4", "#c75a00", "#007a5e", "#b8327a", "#5b4bb7", "#8a6d00", "#1f2328", "#d1343d")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _axis(unit: str | None) -> dict[str, Any]:
    if unit == "ratio":
        return {"tickformat": ".0%", "hoverformat": ".1%"}
    if unit == "seconds":
        return {"ticksuffix": " s", "hoverformat": ",.1f"}
    if unit == "currency":
        return {"hoverformat": ",.2f"}
    return {"hoverformat": ",.0f" if unit in {"persons", "sessions", "tenants"} else ",.2f"}


TIME_UNITS = ((120, 1, "seconds"), (7_200, 60, "minutes"), (172_800, 3_600, "hours"))


def _in_time_unit(
    series: dict[str, Sequence[Any]], y_title: str
) -> tuple[dict[str, list[Any]], str]:
    """Durations in the unit that suits their largest value (a p95 of 300,000 s reads as
    83 hours); `y_title` names the unit where it said "seconds".

    >>> _in_time_unit({"p95": [30, 3600]}, "seconds from step 1")
    ({'p95': [0.5, 60.0]}, 'minutes from step 1')
    """
    top = max((v for values in series.values() for v in values if v is not None), default=0)
    divisor, name = next(((d, n) for limit, d, n in TIME_UNITS if top < limit), (86_400, "days"))
    scaled = {k: [None if v is None else v / divisor for v in vs] for k, vs in series.items()}
    return scaled, y_title.replace("seconds", name)


def _layout(fig: go.Figure, *, unit: str | None, x_title: str = "", y_title: str = "") -> None:
    fig.update_layout(
        template="simple_white",
        font={"family": FONT, "size": 13, "color": "#1f2328"},
        colorway=PALETTE,
        margin={"l": 56, "r": 16, "t": 12, "b": 48},
        height=320,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.35 if x_title else -0.22, "x": 0},
        xaxis={"title": {"text": x_title}, "automargin": True},
        yaxis={
            "title": {"text": y_title},
            "automargin": True,
            "rangemode": "tozero",
            **_axis(unit),
        },
    )


def line(
    x: Sequence[Any],
    series: dict[str, Sequence[Any]],
    *,
    unit: str | None,
    y_title: str = "",
    x_title: str = "",
) -> go.Figure:
    if unit == "seconds":
        series, y_title = _in_time_unit(series, y_title)
        unit = None
    fig = go.Figure(
        [
            go.Scatter(x=list(x), y=list(y), name=name, mode="lines+markers")
            for name, y in series.items()
        ]
    )
    _layout(fig, unit=unit, x_title=x_title, y_title=y_title)
    fig.update_traces(marker={"size": 5})
    if len(series) == 1:
        fig.update_layout(showlegend=False)
    return fig


def bars(
    categories: Sequence[Any],
    series: dict[str, Sequence[Any]],
    *,
    unit: str | None,
    y_title: str = "",
    x_title: str = "",
    horizontal: bool = False,
    text: dict[str, Sequence[str]] | None = None,
) -> go.Figure:
    if unit == "seconds":
        series, y_title = _in_time_unit(series, y_title)
        unit = None
    traces = []
    for name, values in series.items():
        labels = list(text[name]) if text and name in text else None
        xy = (
            {"y": list(categories), "x": list(values)}
            if horizontal
            else {"x": list(categories), "y": list(values)}
        )
        traces.append(
            go.Bar(
                **xy,
                name=name,
                orientation="h" if horizontal else "v",
                text=labels,
                textposition="auto" if labels else None,
            )
        )
    fig = go.Figure(traces)
    _layout(fig, unit=None if horizontal else unit, x_title=x_title, y_title=y_title)
    fig.update_layout(barmode="group", hovermode="closest")
    if horizontal:
        fig.update_layout(
            xaxis=_axis(unit) | {"rangemode": "tozero"}, yaxis={"autorange": "reversed"}
        )
        fig.update_layout(height=max(240, 28 * len(categories) * max(1, len(series)) + 80))
    if len(series) == 1:
        fig.update_layout(showlegend=False)
    return fig


def heatmap(
    columns: Sequence[str],
    rows: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    x_title: str,
    y_title: str,
) -> go.Figure:
    """Rates from 0 to 1; None cells (not yet complete) stay blank."""
    text = [["" if v is None else f"{v:.0%}" for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            x=list(columns),
            y=list(rows),
            z=[list(r) for r in values],
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=1,
            colorscale="Blues",
            hovertemplate=f"{y_title} %{{y}}<br>{x_title} %{{x}}: %{{z:.1%}}<extra></extra>",
            colorbar={"tickformat": ".0%", "thickness": 12},
            xgap=1,
            ygap=1,
        )
    )
    _layout(fig, unit="ratio", x_title=x_title, y_title=y_title)
    fig.update_layout(
        hovermode="closest",
        height=max(280, 26 * len(rows) + 90),
        yaxis={"autorange": "reversed", "type": "category", "rangemode": "normal"},
        xaxis={"type": "category", "side": "top"},
        margin={"t": 40},
    )
    return fig


def sparkline(x: Sequence[Any], y: Sequence[Any], *, unit: str | None) -> go.Figure:
    fig = go.Figure(go.Scatter(x=list(x), y=list(y), mode="lines", line={"width": 2}))
    fig.update_layout(
        template="simple_white",
        colorway=PALETTE,
        height=48,
        margin={"l": 0, "r": 0, "t": 2, "b": 2},
        showlegend=False,
        xaxis={"visible": False},
        yaxis={"visible": False, **_axis(unit)},
        hovermode="x",
    )
    return fig


def to_json(fig: go.Figure) -> str:
    """The figure as JSON that cannot close the <script> element holding it."""
    text = pio.to_json(fig, validate=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
