"""Features: the top 10 features by adoption (people who used a feature / active people in
the range), over time, and by workspace, plan or country. One `adoption` analysis (and one
more with the slice), as `POST /api/v1/analyses/adoption` answers it.
"""

from __future__ import annotations

from sextant.web import charts
from sextant.web.context import PageContext
from sextant.web.panels import Column, Page, Panel

OPTIONS = ("by",)
SLICES = {"": "No slice", "tenant": "Workspace", "plan": "Plan", "country": "Country"}
SHOWN_SLICES = 6
METRICS: tuple[str, ...] = ("feature_adoption",)


def build(ctx: PageContext) -> Page:
    by = ctx.state.option("by", "")
    page = ctx.start(
        Page(
            "features",
            "Features",
            "Which features people use: the share of the range's active people who used each "
            "feature at least once.",
            controls="_features_controls.html",
            extra={"by": by, "slices": SLICES},
        )
    )
    definition = ctx.describe("feature_adoption")
    whole = ctx.analysis("adoption")
    if whole.empty:
        page.message = whole.message
        return page
    top = whole.result["slices"][0]
    features = top["features"]
    page.panels = [
        Panel(
            id="top",
            title="Top 10 features by adoption",
            definition=definition,
            columns=[
                Column("rank", "Rank"),
                Column("feature", "Feature"),
                Column("users", "People", "persons"),
                Column("rate", "Adoption", "ratio"),
            ],
            rows=features,
            figure=charts.bars(
                [f["feature"] for f in features],
                {"Adoption": [f["rate"] for f in features]},
                unit="ratio",
                horizontal=True,
            ),
            sql=whole.sql,
            summary=f"Adoption of the top {len(features)} features among "
            f"{top['active']:,} active people, largest first.",
        ),
        _over_time(top, whole.sql, definition),
    ]
    if by:
        page.panels.append(_sliced(ctx, by, definition))
    return page


def _over_time(top: dict, sql: dict[str, str], definition: str) -> Panel:
    names = [f["feature"] for f in top["features"]]
    rows = [{"bucket": b["bucket"], "active": b["active"], **b["rates"]} for b in top["over_time"]]
    return Panel(
        id="over_time",
        title="Adoption over time",
        definition=f"Each day's adoption of the top features among that day's active people. "
        f"{definition}",
        columns=[
            Column("bucket", "Day"),
            Column("active", "Active people", "persons"),
            *(Column(n, n, "ratio") for n in names),
        ],
        rows=rows,
        figure=charts.line(
            [r["bucket"] for r in rows], {n: [r.get(n) for r in rows] for n in names}, unit="ratio"
        ),
        sql=sql,
        summary="Daily adoption rate of each top feature.",
        wide=True,
    )


def _sliced(ctx: PageContext, by: str, definition: str) -> Panel:
    result = ctx.analysis("adoption", breakdown=[by], over_time=False)
    slices = sorted(result.result["slices"], key=lambda s: -s["active"])
    rows = [{by: s.get(by), "active": s["active"], **f} for s in slices for f in s["features"]]
    shown = slices[:SHOWN_SLICES]
    names = list(dict.fromkeys(f["feature"] for s in shown for f in s["features"]))[:10]
    return Panel(
        id="by_slice",
        title=f"Adoption by {SLICES.get(by, by).lower()}",
        definition=f"{definition} In a slice, both the people who used a feature and the "
        "active people are those of the slice.",
        columns=[
            Column(by, SLICES.get(by, by)),
            Column("active", "Active people", "persons"),
            Column("rank", "Rank"),
            Column("feature", "Feature"),
            Column("users", "People", "persons"),
            Column("rate", "Adoption", "ratio"),
        ],
        rows=rows,
        figure=charts.bars(
            names,
            {
                str(s.get(by)): [
                    next((f["rate"] for f in s["features"] if f["feature"] == n), None)
                    for n in names
                ]
                for s in shown
            },
            unit="ratio",
            horizontal=True,
        ),
        sql=result.sql,
        summary=f"Adoption of the top features in the {len(shown)} largest {by} slices.",
        note=None
        if len(slices) <= SHOWN_SLICES
        else f"The chart shows the {SHOWN_SLICES} largest of {len(slices)} slices; the table "
        "and CSV hold them all.",
        wide=True,
    )
