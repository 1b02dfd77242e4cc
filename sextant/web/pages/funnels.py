"""Funnels: a saved flow or one built from the known events (steps, window, order), for all
workspaces or broken down by tenant, plan, country, segment or channel; conversion and
drop-off per step, and the time it takes to convert. One `funnel` analysis, as `POST
/api/v1/analyses/funnel` answers it.
"""

from __future__ import annotations

from typing import Any

from sextant.analyses import get
from sextant.analyses.funnels import saved_funnels
from sextant.web import charts
from sextant.web.context import PageContext
from sextant.web.panels import Column, Page, Panel

OPTIONS = ("funnel", "step", "window", "order", "by")
DEFAULT = "activation"
BREAKDOWNS = {
    "": "All workspaces together",
    "tenant": "Workspace",
    "plan": "Plan",
    "country": "Country",
    "segment": "Segment",
    "channel": "Channel",
}
ORDERS = {
    "sequential": "In this order",
    "strict": "In this order, nothing between",
    "any": "In any order",
}
MAX_STEPS = 10
SHOWN_SLICES = 8  # bars per step in the chart; the table holds every slice
METRICS: tuple[str, ...] = ()


def build(ctx: PageContext) -> Page:
    state = ctx.state
    saved = saved_funnels(ctx.catalog)
    name = state.option("funnel", DEFAULT)
    by = state.option("by", "")
    steps = list(state.options.get("step", ()))[:MAX_STEPS]
    if name == "custom" and not steps:  # start the builder from the default flow
        steps = [s if isinstance(s, str) else s["event"] for s in saved[DEFAULT]["steps"]]
    page = ctx.start(
        Page(
            "funnels",
            "Funnels",
            "Of the people who did the first step in the range, how many went on to each later "
            "step within the window. Pick a saved flow or build one from your events.",
            controls="_funnel_controls.html",
        )
    )
    page.extra = {
        "flows": {key: f["label"] for key, f in saved.items()} | {"custom": "Build your own"},
        "name": name,
        "events": ctx.events(),
        "steps": steps,
        "window": state.option("window", "14"),
        "order": state.option("order", "sequential"),
        "by": by,
        "breakdowns": BREAKDOWNS,
        "orders": ORDERS,
        "max_steps": MAX_STEPS,
    }
    body: dict[str, Any] = {"breakdown": [by] if by else []}
    if name == "custom":
        body |= {
            "steps": steps,
            "window": {"value": _number(state.option("window", "14")), "unit": "day"},
            "order": state.option("order", "sequential"),
        }
    else:
        body["saved"] = name
    result = ctx.analysis("funnel", **body)
    if result.empty:
        page.message = result.message
        return page
    shaped = result.result
    labels = {s["step"]: s["label"] for s in shaped["steps"]}
    slices = [("All", shaped["total"])]
    if by:
        slices += [(str(s.get(by)), s) for s in shaped["breakdown"]]
    rows = [
        {
            **({by: label} if by else {}),
            "step": step["step"],
            "label": labels[step["step"]],
            "persons": step["persons"],
            "conversion": step["conversion"],
            "step_conversion": step["step_conversion"],
            "drop_off": None if step["step"] == 1 else 1 - step["step_conversion"],
            "median_seconds": (step["time_to_convert"] or {}).get("median"),
            "p95_seconds": (step["time_to_convert"] or {}).get("p95"),
        }
        for label, part in slices
        for step in part["steps"]
    ]
    shown = slices[: SHOWN_SLICES + 1]
    step_names = [f"{n}. {labels[n]}" for n in labels]
    definition = get("funnel").summary + (
        f" Saved funnel: {saved[name]['description']}" if name in saved else ""
    )
    page.panels = [
        Panel(
            id="conversion",
            title=f"Conversion by step: {saved[name]['label'] if name in saved else 'your funnel'}",
            definition=definition + " Conversion is from step 1; drop-off is the share lost "
            "since the step before.",
            columns=[
                *([Column(by, BREAKDOWNS.get(by, by))] if by else []),
                Column("step", "Step"),
                Column("label", "Event"),
                Column("persons", "People", "persons"),
                Column("conversion", "Conversion from step 1", "ratio"),
                Column("step_conversion", "From previous step", "ratio"),
                Column("drop_off", "Drop-off", "ratio"),
                Column("median_seconds", "Median time from step 1", "seconds"),
                Column("p95_seconds", "95th percentile time", "seconds"),
            ],
            rows=rows,
            figure=charts.bars(
                step_names,
                {label: [s["persons"] for s in part["steps"]] for label, part in shown},
                unit="persons",
                y_title="people",
                text={
                    label: [f"{s['conversion']:.1%}" for s in part["steps"]]
                    for label, part in shown
                },
            ),
            sql=result.sql,
            summary=f"People reaching each of {len(labels)} steps"
            + (f", for all and the {len(shown) - 1} largest {by} values." if by else "."),
            note=None
            if len(slices) <= SHOWN_SLICES + 1
            else f"The chart shows the {SHOWN_SLICES} largest of {len(slices) - 1} {by} "
            "values; the table and CSV hold them all.",
            wide=True,
        ),
        _time_panel(shaped, labels, result.sql),
    ]
    return page


def _time_panel(shaped: dict, labels: dict[int, str], sql: dict[str, str]) -> Panel:
    steps = [s for s in shaped["total"]["steps"] if s["step"] > 1]
    rows = [
        {
            "step": s["step"],
            "label": labels[s["step"]],
            **{
                f"{k}_seconds": (s["time_to_convert"] or {}).get(k)
                for k in ("mean", "median", "p95")
            },
        }
        for s in steps
    ]
    return Panel(
        id="time_to_convert",
        title="Time to convert",
        definition="For the people who reached a step: the time from their step-1 event to "
        "it (mean, median and 95th percentile), over all workspaces in the filters.",
        columns=[
            Column("step", "Step"),
            Column("label", "Event"),
            Column("mean_seconds", "Mean", "seconds"),
            Column("median_seconds", "Median", "seconds"),
            Column("p95_seconds", "95th percentile", "seconds"),
        ],
        rows=rows,
        figure=charts.bars(
            [f"{r['step']}. {r['label']}" for r in rows],
            {
                "Median": [r["median_seconds"] for r in rows],
                "95th percentile": [r["p95_seconds"] for r in rows],
            },
            unit="seconds",
            y_title="seconds from step 1",
        ),
        sql=sql,
        summary="Median and 95th percentile time from step 1 to each later step.",
    )


def _number(text: str | None) -> Any:
    """The window as typed: a number, or the text itself for the analysis to reject."""
    try:
        return float(text or "")
    except ValueError:
        return text
