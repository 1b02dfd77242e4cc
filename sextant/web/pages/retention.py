"""Retention: weekly or monthly cohorts as a heatmap, the size-weighted retention curve and
day-N retention, optionally sliced by channel, plan or country. One `retention` analysis
(and one more with the slice), as `POST /api/v1/analyses/retention` answers it.
"""

from __future__ import annotations

from sextant.analyses import get
from sextant.web import charts
from sextant.web.context import PageContext
from sextant.web.panels import Column, Page, Panel

OPTIONS = ("period", "by")
PERIODS = {"week": "Weekly", "month": "Monthly"}
SLICES = {"": "No slice", "channel": "Source (channel)", "plan": "Plan", "country": "Country"}
PERIOD_COUNT = {"week": 8, "month": 6}
RULES = (
    "A cohort is the people whose first event in the range falls in the period; a cell is the "
    "share of them active again in exactly period N (calendar periods in the view's time "
    "zone). Blank cells have not ended yet and are left out of the averages."
)
METRICS: tuple[str, ...] = ()


def build(ctx: PageContext) -> Page:
    state = ctx.state
    period = state.option("period", "week")
    period = period if period in PERIODS else "week"
    by = state.option("by", "")
    page = ctx.start(
        Page(
            "retention",
            "Retention",
            f"Who comes back after their first visit. Cohorts start in the range; a longer range "
            f"shows more cohorts. {RULES}",
            controls="_retention_controls.html",
            extra={"period": period, "by": by, "periods": PERIODS, "slices": SLICES},
        )
    )
    options = {"period": period, "periods": PERIOD_COUNT[period]}
    whole = ctx.analysis("retention", **options)
    if whole.empty:
        page.message = whole.message
        return page
    everyone = whole.result["slices"][0]
    sliced = ctx.analysis("retention", **options, breakdown=[by]) if by else whole
    curves = [(str(s.get(by)) if by else "All", s) for s in sliced.result["slices"] if s["cohorts"]]
    definition = f"{get('retention').summary} {RULES}"
    cohorts = everyone["cohorts"]
    columns = sorted({c["period"] for cohort in cohorts for c in cohort["cells"]})
    page.panels = [
        Panel(
            id="cohorts",
            title=f"{PERIODS[period]} cohorts",
            definition=definition,
            columns=[
                Column("cohort", "Cohort"),
                Column("size", "People", "persons"),
                Column("period", f"{period.title()} N"),
                Column("persons", "Retained", "persons"),
                Column("rate", "Retention", "ratio"),
                Column("incomplete", "Incomplete"),
            ],
            rows=[
                {"cohort": c["cohort"], "size": c["size"], **cell}
                for c in cohorts
                for cell in c["cells"]
            ],
            figure=charts.heatmap(
                [str(p) for p in columns],
                [f"{c['cohort']} ({c['size']:,})" for c in cohorts],
                [
                    [None if cell["incomplete"] else cell["rate"] for cell in c["cells"]]
                    for c in cohorts
                ],
                x_title=f"{period} N",
                y_title="cohort",
            ),
            sql=whole.sql,
            note=None
            if len(cohorts) > 2
            else f"Only {len(cohorts)} {period}ly cohort{'s' if len(cohorts) != 1 else ''} "
            "start in this range: choose Last 90 days (or a longer custom range) to compare "
            "cohorts.",
            summary=f"Share of each {period}ly cohort active again in each later {period}.",
            wide=True,
        ),
        Panel(
            id="curve",
            title="Retention curve" + (f" by {SLICES.get(by, by).lower()}" if by else ""),
            definition="Each period's retention averaged over the cohorts that have reached "
            f"it, weighted by cohort size. {RULES}",
            columns=[
                *([Column(by, SLICES.get(by, by))] if by else []),
                Column("period", f"{period.title()} N"),
                Column("rate", "Retention", "ratio"),
                Column("persons", "Retained", "persons"),
                Column("size", "Of people", "persons"),
                Column("cohorts", "Cohorts"),
            ],
            rows=[
                {**({by: label} if by else {}), **p} for label, s in curves for p in s["average"]
            ],
            figure=charts.line(
                [p["period"] for p in curves[0][1]["average"]] if curves else [],
                {label: [p["rate"] for p in s["average"]] for label, s in curves},
                unit="ratio",
                y_title="retained",
                x_title=f"{period}s since the first",
            ),
            sql=sliced.sql,
            summary=f"Average retention by {period} since the first"
            + (f", one line per {by}." if by else "."),
        ),
        Panel(
            id="day_n",
            title="Day-N retention",
            definition="Of the people whose first day is at least N days ago, the share "
            "active on day N after it (D1, D7, D14, D30, D60, D90).",
            columns=[
                *([Column(by, SLICES.get(by, by))] if by else []),
                Column("day", "Day"),
                Column("rate", "Retention", "ratio"),
                Column("persons", "Retained", "persons"),
                Column("size", "Of people", "persons"),
                Column("cohorts", "Cohorts"),
            ],
            rows=[{**({by: label} if by else {}), **d} for label, s in curves for d in s["day_n"]],
            figure=charts.bars(
                [f"D{d['day']}" for d in curves[0][1]["day_n"]] if curves else [],
                {label: [d["rate"] for d in s["day_n"]] for label, s in curves},
                unit="ratio",
                y_title="retained",
            ),
            sql=sliced.sql,
            summary="Day-N retention for days 1, 7, 14, 30, 60 and 90.",
        ),
    ]
    return page
