"""Plotly figures for the pages, built in Python as Plotly's figure JSON (data and layout):
lines, bars, a heatmap and the overview sparklines. One look everywhere (font, margins, a
colour-blind-safe palette with AA contrast on white), axes formatted by unit, and JSON that is
safe inside a page. Plain dicts rather than graph_objects: building a dozen figures through
graph_objects' validators took a quarter of a second per page; the tests validate every
page's figures with graph_objects instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

Figure = dict[str, Any]  # {"data": [traces], "layout": {...}}

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
    series: dict[str, Sequence[Any]], unit: str | None, y_title: str
) -> tuple[dict[str, Sequence[Any]], str | None, str]:
    """Durations in the unit that suits their largest value (a p95 of 300,000 s reads as
    83 hours); `y_title` names the unit where it said "seconds". Other units pass through.

    >>> _in_time_unit({"p95": [30, 3600]}, "seconds", "seconds from step 1")
    ({'p95': [0.5, 60.0]}, None, 'minutes from step 1')
    """
    if unit != "seconds":
        return series, unit, y_title
    top = max((v for values in series.values() for v in values if v is not None), default=0)
    divisor, name = next(((d, n) for limit, d, n in TIME_UNITS if top < limit), (86_400, "days"))
    scaled = {k: [None if v is None else v / divisor for v in vs] for k, vs in series.items()}
    return scaled, None, y_title.replace("seconds", name)


AXIS = {
    "showline": True,
    "linecolor": "#57606a",
    "ticks": "outside",
    "tickcolor": "#57606a",
    "automargin": True,
    "zeroline": False,
}


def _layout(*, unit: str | None, x_title: str = "", y_title: str = "", legend: bool = True):
    return {
        "font": {"family": FONT, "size": 13, "color": "#1f2328"},
        "colorway": list(PALETTE),
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "margin": {"l": 56, "r": 16, "t": 12, "b": 48},
        "height": 320,
        "hovermode": "x unified",
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.35 if x_title else -0.22, "x": 0},
        "xaxis": {**AXIS, "title": {"text": x_title}},
        "yaxis": {
            **AXIS,
            "title": {"text": y_title},
            "rangemode": "tozero",
            "showgrid": True,
            "gridcolor": "#eaeef2",
            **_axis(unit),
        },
    }


def line(
    x: Sequence[Any],
    series: dict[str, Sequence[Any]],
    *,
    unit: str | None,
    y_title: str = "",
    x_title: str = "",
) -> Figure:
    series, unit, y_title = _in_time_unit(series, unit, y_title)
    traces = [
        {
            "type": "scatter",
            "x": list(x),
            "y": list(y),
            "name": name,
            "mode": "lines+markers",
            "marker": {"size": 5},
        }
        for name, y in series.items()
    ]
    return {
        "data": traces,
        "layout": _layout(unit=unit, x_title=x_title, y_title=y_title, legend=len(series) > 1),
    }


def bars(
    categories: Sequence[Any],
    series: dict[str, Sequence[Any]],
    *,
    unit: str | None,
    y_title: str = "",
    x_title: str = "",
    horizontal: bool = False,
    text: dict[str, Sequence[str]] | None = None,
) -> Figure:
    series, unit, y_title = _in_time_unit(series, unit, y_title)
    traces = []
    for name, values in series.items():
        trace = {"type": "bar", "name": name, "orientation": "h" if horizontal else "v"}
        if horizontal:
            trace |= {"y": list(categories), "x": list(values)}
        else:
            trace |= {"x": list(categories), "y": list(values)}
        if text and name in text:
            trace |= {"text": list(text[name]), "textposition": "auto"}
        traces.append(trace)
    layout = _layout(
        unit=None if horizontal else unit, x_title=x_title, y_title=y_title, legend=len(series) > 1
    )
    layout |= {"barmode": "group", "hovermode": "closest"}
    if horizontal:
        layout["xaxis"] |= {
            **_axis(unit),
            "rangemode": "tozero",
            "showgrid": True,
            "gridcolor": "#eaeef2",
        }
        layout["yaxis"] = {**AXIS, "autorange": "reversed"}
        layout["height"] = max(240, 28 * len(categories) * max(1, len(series)) + 80)
    return {"data": traces, "layout": layout}


def heatmap(
    columns: Sequence[str],
    rows: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    x_title: str,
    y_title: str,
) -> Figure:
    """Rates from 0 to 1; None cells (not yet complete) stay blank."""
    text = [["" if v is None else f"{v:.0%}" for v in row] for row in values]
    trace = {
        "type": "heatmap",
        "x": list(columns),
        "y": list(rows),
        "z": [list(r) for r in values],
        "text": text,
        "texttemplate": "%{text}",
        "zmin": 0,
        "zmax": 1,
        "colorscale": [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
        "hovertemplate": f"{y_title} %{{y}}<br>{x_title} %{{x}}: %{{z:.1%}}<extra></extra>",
        "colorbar": {"tickformat": ".0%", "thickness": 12},
        "xgap": 1,
        "ygap": 1,
    }
    layout = _layout(unit="ratio", x_title=x_title, y_title=y_title, legend=False)
    layout |= {"hovermode": "closest", "height": max(280, 26 * len(rows) + 90)}
    layout["margin"] |= {"t": 40}
    layout["yaxis"] = {
        **AXIS,
        "title": {"text": y_title},
        "autorange": "reversed",
        "type": "category",
    }
    layout["xaxis"] = {**AXIS, "title": {"text": x_title}, "type": "category", "side": "top"}
    return {"data": [trace], "layout": layout}


def sparkline(x: Sequence[Any], y: Sequence[Any], *, unit: str | None) -> Figure:
    trace = {
        "type": "scatter",
        "x": list(x),
        "y": list(y),
        "mode": "lines",
        "line": {"width": 2, "color": PALETTE[0]},
    }
    layout = {
        "height": 48,
        "margin": {"l": 0, "r": 0, "t": 2, "b": 2},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "showlegend": False,
        "xaxis": {"visible": False},
        "yaxis": {"visible": False, **_axis(unit)},
        "hovermode": "x",
    }
    return {"data": [trace], "layout": layout}


def to_json(fig: Figure) -> str:
    """The figure as JSON that cannot close the <script> element holding it."""
    text = orjson.dumps(fig, option=orjson.OPT_NON_STR_KEYS).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def intervals(
    labels: Sequence[str],
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    *,
    unit: str | None,
    x_title: str = "",
) -> Figure:
    """Point estimates with their intervals, one row each (lift with its 95% CI), and the
    zero line to read them against."""
    plus = [None if v is None or h is None else h - v for v, h in zip(values, highs, strict=True)]
    minus = [
        None if v is None or lo is None else v - lo for v, lo in zip(values, lows, strict=True)
    ]
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": list(values),
        "y": list(labels),
        "marker": {"size": 10, "color": PALETTE[0]},
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": plus,
            "arrayminus": minus,
            "color": PALETTE[0],
            "thickness": 2,
            "width": 6,
        },
    }
    layout = _layout(unit=None, x_title=x_title, legend=False)
    layout |= {"hovermode": "closest", "height": max(200, 40 * len(labels) + 90)}
    layout["xaxis"] |= {
        **_axis(unit),
        "zeroline": True,
        "zerolinecolor": "#1f2328",
        "zerolinewidth": 2,
        "showgrid": True,
        "gridcolor": "#eaeef2",
    }
    layout["yaxis"] = {**AXIS, "autorange": "reversed", "type": "category"}
    return {"data": [trace], "layout": layout}


def band(
    x: Sequence[Any],
    series: dict[str, tuple[Sequence[Any], Sequence[Any], Sequence[Any]]],
    *,
    unit: str | None,
    y_title: str = "",
    x_title: str = "",
) -> Figure:
    """Each series' middle line with a shaded band between its low and high (cumulative lift
    with its interval)."""
    traces = []
    for i, (name, (mid, low, high)) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        traces += [
            {
                "type": "scatter",
                "x": list(x),
                "y": list(high),
                "mode": "lines",
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
                "name": f"{name} high",
            },
            {
                "type": "scatter",
                "x": list(x),
                "y": list(low),
                "mode": "lines",
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": "rgba(11,98,164,0.18)",
                "showlegend": False,
                "hoverinfo": "skip",
                "name": f"{name} low",
            },
            {
                "type": "scatter",
                "x": list(x),
                "y": list(mid),
                "mode": "lines",
                "name": name,
                "line": {"width": 2, "color": color},
            },
        ]
    layout = _layout(unit=unit, x_title=x_title, y_title=y_title, legend=len(series) > 1)
    layout["yaxis"] |= {"rangemode": "normal", "zeroline": True, "zerolinecolor": "#1f2328"}
    return {"data": traces, "layout": layout}
