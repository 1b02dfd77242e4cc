"""The dashboard's HTTP routes: each page (server-rendered, with its charts' Plotly figures
embedded), each chart's CSV, and the metric catalog. A view's state is its URL; a bad value
is answered on the page beside its control (status 400), never with a traceback.

Access: every route needs a viewer or higher (api/auth.py); each view of data and each
download is written to the audit log; a metric's SQL is shown to analysts and above.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from sextant.access.roles import Principal, Role
from sextant.api.auth import client_ip, require
from sextant.catalog.describe import metric_detail
from sextant.catalog.dialects import DIALECTS
from sextant.errors import InvalidInput, NotFound, Problem
from sextant.exports import MAX_EXPORT_ROWS, filename, limit_message, write_csv
from sextant.web.assets import ASSETS
from sextant.web.context import PageContext
from sextant.web.options import filter_values, zones
from sextant.web.pages import PAGES, PageSpec, shown_on
from sextant.web.panels import Page
from sextant.web.render import render
from sextant.web.state import FILTERS, RANGES, ViewState, read_state

TABLE_LIMIT = 500  # rows of a data table on the page; the CSV holds all
EXPORT_LIMIT = MAX_EXPORT_ROWS  # rows of a CSV
DIALECT_NAMES = {"duckdb": "DuckDB", "clickhouse": "ClickHouse"}

viewer = require(Role.VIEWER, "the dashboard")
Viewer = Annotated[Principal, Depends(viewer)]
router = APIRouter(include_in_schema=False, dependencies=[Depends(viewer)])


def audit(request: Request, principal: Principal, action: str, **detail: Any) -> None:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    request.app.state.access.audit.record(
        principal, action, target, ip=client_ip(request), **detail
    )


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def _context(request: Request, state: ViewState) -> PageContext:
    app = request.app.state
    return PageContext(app.engine, app.catalogs.get(), app.settings, app.result_cache, state)


def _state(request: Request, spec: PageSpec | None) -> ViewState:
    return read_state(
        _params(request),
        default_timezone=request.app.state.settings.timezone,
        page_options=spec.options if spec else (),
    )


def _page_route(spec: PageSpec):
    def page(request: Request, principal: Viewer) -> Response:
        state = _state(request, spec)
        ctx = _context(request, state)
        built, problems = Page(spec.slug, spec.title, ""), []
        if not state.errors:
            try:
                built = spec.build(ctx)
            except InvalidInput as exc:
                problems = [p.message for p in exc.problems]
                built = ctx.page or built
                built.panels, built.kpis, built.message = [], [], None
        if state.errors or problems:
            built.intro = built.intro or "Fix the highlighted value to see this page."
        audit(request, principal, "page_view", outcome="refused" if problems else "ok")
        return render(
            request,
            "page.html",
            status=400 if state.errors or problems else 200,
            title=spec.title,
            page=built,
            state=state,
            problems=problems,
            ranges=RANGES,
            filters={name: label for name, (label, _) in FILTERS.items()},
            filter_values=filter_values(ctx)
            if not state.errors
            else {"tenant": [], **{n: [] for n in FILTERS}},
            zones=zones(state.timezone, request.app.state.settings.timezone),
            clear_filters={name: None for name in FILTERS},
            plotly_src=ASSETS.url("plotly.min.js"),
            table_limit=TABLE_LIMIT,
            export_limit=EXPORT_LIMIT,
            export_message=limit_message(EXPORT_LIMIT),
        )

    page.__name__ = f"page_{spec.slug}"
    return page


for _spec in PAGES.values():
    router.add_api_route(
        _spec.path, _page_route(_spec), methods=["GET"], response_class=HTMLResponse
    )


@router.get("/export/{slug}/{panel_id}.csv")
def export_csv(slug: str, panel_id: str, request: Request, principal: Viewer) -> Response:
    """One chart's data as CSV: the rows its table shows, without PII, formulas
    neutralised, at most 100,000 rows (the header `X-Sextant-Notice` says when cut)."""
    spec = PAGES.get(slug)
    if spec is None:
        raise NotFound("page_not_found", f"no page {slug!r}", field="slug")
    state = _state(request, spec)
    if state.errors:
        raise InvalidInput.from_problems(
            [Problem("view_invalid", e.message, e.field) for e in state.errors]
        )
    built = spec.build(_context(request, state))
    panel = built.panel(panel_id)
    if panel is None:
        raise NotFound(
            "chart_not_found", f"no chart {panel_id!r} on the {slug} page", field="chart"
        )
    export = write_csv([c.key for c in panel.columns], panel.rows, limit=EXPORT_LIMIT)
    name = filename(slug, panel_id, state.date_from.isoformat(), state.date_to.isoformat())
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if export.message:
        headers["X-Sextant-Notice"] = export.message
    audit(request, principal, "export", rows=export.rows, dropped=list(export.dropped))
    return Response(export.text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(request: Request) -> Response:
    catalog = request.app.state.catalogs.get()
    metrics = [
        {
            "name": m.name,
            "label": m.label,
            "description": m.description,
            "unit": m.unit,
            "owner": m.owner,
            "used_on": shown_on(m.name),
        }
        for m in sorted(catalog.metrics.values(), key=lambda m: m.label.lower())
    ]
    catalog_dir = request.app.state.settings.catalog_dir
    return render(
        request,
        "metrics.html",
        title="Metrics",
        metrics=metrics,
        state=None,
        catalog_dir=catalog_dir,
    )


@router.get("/metrics/{name}", response_class=HTMLResponse)
def metric_page(name: str, request: Request, principal: Viewer) -> Response:
    app = request.app.state
    catalog = app.catalogs.get()
    if name not in catalog.metrics:
        return render(
            request,
            "missing.html",
            status=404,
            title="Not found",
            state=None,
            message=f"No metric named {name!r} in the catalog.",
        )
    detail = metric_detail(
        catalog,
        name,
        app.settings,
        dialects=[d for d in DIALECT_NAMES if d in DIALECTS] if principal.may(Role.ANALYST) else [],
        dimensions=app.catalogs.dimensions_for(catalog, name),
    )
    used_by = [m for m in catalog.metrics if name in catalog.dependencies(m) and m != name]
    return render(
        request,
        "metric.html",
        title=detail["label"],
        m=detail,
        state=None,
        used_on=shown_on(name),
        used_by=used_by,
        definition=orjson.dumps(detail["definition"], option=orjson.OPT_INDENT_2).decode(),
        dialects=DIALECT_NAMES,
    )
