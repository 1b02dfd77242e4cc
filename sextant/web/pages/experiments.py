"""Experiments: the list (seen in exposure events or defined), and one experiment's readout:
the verdict in plain words, warnings (sample-ratio mismatch, persons in two variants),
persons per variant against the intended split, each metric's lift with its 95% interval,
the primary metric's cumulative lift by exposure day, and the power calculator. The same
functions as `GET /api/v1/experiments` and `.../{name}/readout`.

A readout covers the experiment's own dates (its definition's, else its first to last
exposure); custom dates cut it.
"""

from __future__ import annotations

from sextant.analyses import get
from sextant.errors import NotFound
from sextant.experiments.listing import list_experiments, readout_body
from sextant.experiments.readout import explain
from sextant.web import charts
from sextant.web.context import PageContext
from sextant.web.panels import Column, Page, Panel

OPTIONS = ("experiment", "correction", "effect")
METRICS: tuple[str, ...] = ()
CORRECTIONS = {"holm": "Holm-Bonferroni", "bh": "Benjamini-Hochberg", "none": "None"}


def build(ctx: PageContext) -> Page:
    state = ctx.state
    listed = list_experiments(
        ctx.engine,
        ctx.catalog,
        state.timezone,
        tenants=None if state.tenant is None else [state.tenant],
        cache=ctx.cache,
        today=state.today,
    )
    name = state.option("experiment") or (listed[0]["name"] if len(listed) == 1 else None)
    page = ctx.start(
        Page(
            "experiments",
            "Experiments",
            "What each variant of an experiment did to its metrics, counted from each "
            "person's first exposure, with the uncertainty stated plainly.",
            controls="_experiment_controls.html",
            extra={
                "experiments": listed,
                "name": name,
                "corrections": CORRECTIONS,
                "choices": {e["name"]: e["label"] for e in listed},
                "correction": state.option("correction", "holm"),
            },
        )
    )
    if name is None:
        if not listed:
            page.message = (
                "No experiments yet: send exposure events ($feature_flag_called, "
                "$experiment_exposure or Experiment Viewed) or define one in the catalog's "
                "experiments section."
            )
        return page
    body = {"correction": state.option("correction", "holm"), "effect": _effect(state)}
    if state.range == "custom":
        body |= {"from": str(state.date_from), "to": str(state.date_to)}
    try:
        body = readout_body(listed, name, body, state.today)
    except NotFound as exc:
        page.message = exc.message
        return page
    result = ctx.analysis("experiment", **body)
    readout = result.result
    page.extra |= {"readout": readout, "dates": (body["from"], body["to"])}
    if result.empty:
        page.message = readout["verdict"]["text"]
        return page
    page.panels = [_exposures(readout, result.sql), _lifts(readout, result.sql)]
    if readout["metrics"] and readout["metrics"][0].get("cumulative"):
        page.panels.append(_cumulative(readout, result.sql))
    page.panels.append(_power(readout, result.sql))
    return page


def _exposures(readout: dict, sql: dict[str, str]) -> Panel:
    srm = readout["srm"]
    rows = readout["variants"]
    return Panel(
        id="exposures",
        title="Persons per variant",
        definition="Persons exposed to each variant (their first exposure in the dates), "
        "against the intended split. A sample-ratio mismatch (chi-squared p < 0.001) means "
        "assignment or logging is broken."
        + ("" if srm is None else f" Here p = {srm['p_value']:.3g}."),
        columns=[
            Column("key", "Variant"),
            Column("persons", "Persons", "persons"),
            Column("share", "Share", "ratio"),
            Column("intended", "Intended", "ratio"),
        ],
        rows=rows,
        figure=charts.bars(
            [r["key"] for r in rows],
            {"Share": [r["share"] for r in rows], "Intended": [r["intended"] for r in rows]},
            unit="ratio",
            y_title="share of persons",
        ),
        sql={"exposures": sql["exposures"]},
        summary="Each variant's share of exposed persons beside its intended share.",
    )


def _lifts(readout: dict, sql: dict[str, str]) -> Panel:
    rows = []
    for metric in readout["metrics"]:
        control = metric["variants"][0] if metric["variants"] else {}
        for v in metric["variants"][1:]:
            rows.append(
                {
                    "metric": metric["label"],
                    "variant": v["key"],
                    "control_value": control.get("value"),
                    "value": v.get("value"),
                    "lift": v.get("lift"),
                    "ci_low": v.get("ci_low"),
                    "ci_high": v.get("ci_high"),
                    "p_value": v.get("p_value"),
                    "p_adjusted": v.get("p_adjusted"),
                    "chance_to_win": v.get("chance_to_win"),
                    "persons": v.get("persons"),
                    "warnings": explain(v.get("warnings", [])),
                }
            )
    labels = [f"{r['metric']} · {r['variant']}" for r in rows]
    return Panel(
        id="lifts",
        title="Lift against control, with 95% intervals",
        definition=f"{get('experiment').summary} Relative lift = (treatment mean - control "
        "mean) / control mean; its interval and p-value are Welch's t-test with the delta "
        "method; chance to win is Bayesian (Gaussian, flat prior). An empty value has a "
        "warning instead (no variance, a zero control mean, too few persons).",
        columns=[
            Column("metric", "Metric"),
            Column("variant", "Variant"),
            Column("control_value", "Control"),
            Column("value", "Variant value"),
            Column("lift", "Lift", "ratio"),
            Column("ci_low", "95% CI low", "ratio"),
            Column("ci_high", "95% CI high", "ratio"),
            Column("p_value", "p-value"),
            Column("p_adjusted", "p (corrected)"),
            Column("chance_to_win", "Chance to win", "ratio"),
            Column("persons", "Persons", "persons"),
            Column("warnings", "Warnings"),
        ],
        rows=rows,
        figure=charts.intervals(
            labels,
            [r["lift"] for r in rows],
            [r["ci_low"] for r in rows],
            [r["ci_high"] for r in rows],
            unit="ratio",
            x_title="relative lift against control",
        ),
        sql={k: v for k, v in sql.items() if k != "exposures"},
        summary="Each metric's relative lift for each variant, with its 95% interval; an "
        "interval that crosses zero is not a clear difference.",
        wide=True,
    )


def _cumulative(readout: dict, sql: dict[str, str]) -> Panel:
    primary = readout["metrics"][0]
    rows = primary["cumulative"]
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    days = sorted({r["day"] for r in rows})
    series = {}
    for key in variants:
        mine = {r["day"]: r for r in rows if r["variant"] == key}
        series[key] = tuple(
            [mine.get(d, {}).get(field) for d in days] for field in ("lift", "ci_low", "ci_high")
        )
    return Panel(
        id="cumulative",
        title=f"Cumulative lift: {primary['label']}",
        definition="The lift and its 95% interval counting the persons first exposed up to "
        "each day. Early days swing widely; the interval narrows as persons accumulate.",
        columns=[
            Column("day", "Exposed up to"),
            Column("variant", "Variant"),
            Column("persons", "Persons", "persons"),
            Column("lift", "Lift", "ratio"),
            Column("ci_low", "95% CI low", "ratio"),
            Column("ci_high", "95% CI high", "ratio"),
        ],
        rows=rows,
        figure=charts.band(days, series, unit="ratio", y_title="lift", x_title="first exposure"),
        sql={"metric_0": sql["metric_0"]},
        summary="The primary metric's lift by day of first exposure, with its interval.",
        wide=True,
    )


def _power(readout: dict, sql: dict[str, str]) -> Panel:
    rows = [
        {"metric": m["label"], **{k: v for k, v in (m["power"] or {}).items() if k != "warnings"}}
        for m in readout["metrics"]
    ]
    return Panel(
        id="power",
        title="Power: what this sample can detect",
        definition="The smallest relative lift this many persons per variant would find 80% "
        "of the time at a 5% significance level (two-sided), and the persons per variant "
        "needed to find the chosen effect.",
        columns=[
            Column("metric", "Metric"),
            Column("persons_per_variant", "Persons per variant (control)", "persons"),
            Column("mde", "Detectable lift", "ratio"),
            Column("effect", "Chosen effect", "ratio"),
            Column("needed_per_variant", "Persons needed per variant", "persons"),
        ],
        rows=rows,
        figure=charts.bars(
            [r["metric"] for r in rows],
            {"Detectable lift": [r.get("mde") for r in rows]},
            unit="ratio",
            horizontal=True,
        ),
        sql={},
        summary="The minimum detectable lift of each metric with the current sample.",
    )


def _effect(state) -> float | str:
    """The power calculator's effect, typed in percent (the analysis refuses a bad one)."""
    text = state.option("effect", "5")
    try:
        return float(text) / 100
    except ValueError:
        return text
