"""The SQL playground page (analysts and above): an editor, the tables it may read, the
result as a table, a quick chart and a CSV, and saved queries (own, shared, pinned).

Forms post back here (with their CSRF token); a refused query is answered beside the editor
with status 400 and the SQL kept. The CSV is computed from the PII-masked copy whatever the
role, then PII-named columns are dropped and formulas neutralised, so no file leaves with
PII.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from sextant.access.roles import Principal, Role
from sextant.api.auth import require
from sextant.api.playground import run_logged, table_list
from sextant.errors import InvalidInput, SextantError
from sextant.exports import filename, write_csv
from sextant.playground.runner import MAX_ROWS, PlaygroundResult
from sextant.playground.saved import SavedQuery
from sextant.web import charts
from sextant.web.assets import ASSETS
from sextant.web.render import render

TABLE_ROWS = 1000  # rows shown on the page; the CSV holds all (at most 10,000)
EXAMPLE = """-- Sessions per day over the last 30 days
SELECT CAST(started_at AS DATE) AS day, count(*) AS sessions
FROM sessions
WHERE started_at >= current_date - INTERVAL 30 DAY
GROUP BY day
ORDER BY day"""
NUMERIC = re.compile(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|REAL|DECIMAL|NUMERIC)\b")
TEMPORAL = ("DATE", "TIMESTAMP")
DONE = {
    "create": "Saved",
    "pin": "Pinned",
    "unpin": "Unpinned",
    "share": "Shared with the team",
    "unshare": "Made private",
    "delete": "Deleted",
}

analyst = require(Role.ANALYST, "the SQL playground")
Analyst = Annotated[Principal, Depends(analyst)]
router = APIRouter(include_in_schema=False, dependencies=[Depends(analyst)])


def quick_chart(result: PlaygroundResult) -> dict[str, Any] | None:
    """A line (first column a date) or bar chart of the first numeric column against the
    first column; None when the result has no such shape."""
    if len(result.columns) < 2 or not result.rows:
        return None
    y = next(
        (i for i in range(1, len(result.columns)) if NUMERIC.match(result.types[i].upper())),
        None,
    )
    if y is None:
        return None
    x = [row[0] for row in result.rows[:TABLE_ROWS]]
    series = {result.columns[y]: [row[y] for row in result.rows[:TABLE_ROWS]]}
    if result.types[0].upper().startswith(TEMPORAL):
        fig = charts.line(x, series, unit=None, x_title=result.columns[0])
    else:
        fig = charts.bars([_text(v) for v in x], series, unit=None, x_title=result.columns[0])
    return {
        "json": charts.to_json(fig),
        "label": f"{result.columns[y]} by {result.columns[0]}, "
        f"{min(len(result.rows), TABLE_ROWS)} rows; the table below lists every value.",
    }


def _page(
    request: Request,
    principal: Principal,
    *,
    sql: str,
    status: int = 200,
    result: PlaygroundResult | None = None,
    data_as_of: str | None = None,
    problem: SextantError | None = None,
    loaded: SavedQuery | None = None,
    done: str | None = None,
) -> Response:
    saved = request.app.state.playground.saved.visible(principal)
    return render(
        request,
        "playground.html",
        status=status,
        title="Playground",
        state=None,
        sql=sql,
        result=result,
        cells=[[_text(v) for v in row] for row in result.rows[:TABLE_ROWS]] if result else [],
        table_rows=TABLE_ROWS,
        max_rows=MAX_ROWS,
        chart=quick_chart(result) if result else None,
        data_as_of=data_as_of,
        problem=problem,
        saved=saved,
        loaded=loaded,
        done=done,
        may_manage=lambda q: q.owner == principal.email or principal.may(Role.SYS_ENGINEER),
        tables=table_list(),
        settings_timeout=f"{request.app.state.settings.playground_timeout_seconds:g}",
        plotly_src=ASSETS.url("plotly.min.js"),
    )


def _text(value: Any) -> str:
    if value is None:
        return "∅"
    return str(value)


@router.get("/playground", response_class=HTMLResponse)
def playground(request: Request, principal: Analyst) -> Response:
    loaded, problem = None, None
    if (chosen := request.query_params.get("q")) is not None:
        try:
            loaded = request.app.state.playground.saved.get(_id(chosen), principal)
        except SextantError as exc:
            problem = exc
    return _page(
        request,
        principal,
        sql=loaded.sql if loaded else EXAMPLE,
        loaded=loaded,
        problem=problem,
        status=problem.status if problem else 200,
        done=request.query_params.get("done"),
    )


def _id(text: str) -> int:
    if not text.isdigit():
        raise InvalidInput("saved_query_id_invalid", f"not a saved query id: {text!r}", field="q")
    return int(text)


@router.post("/playground", response_class=HTMLResponse)
async def run(request: Request, principal: Analyst) -> Response:
    sql = str((await request.form()).get("sql", ""))
    try:
        result, snapshot = run_logged(request, principal, sql)
    except SextantError as exc:
        return _page(request, principal, sql=sql, status=exc.status, problem=exc)
    as_of = snapshot.built_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return _page(request, principal, sql=sql, result=result, data_as_of=as_of)


@router.post("/playground/export.csv")
async def export(request: Request, principal: Analyst) -> Response:
    sql = str((await request.form()).get("sql", ""))
    result, snapshot = run_logged(request, principal, sql, masked=True)
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    export = write_csv(result.columns, rows, limit=MAX_ROWS)
    request.app.state.access.audit.record(
        principal,
        "export",
        "/playground/export.csv",
        rows=export.rows,
        dropped=list(export.dropped),
        sql=sql[:5000],
    )
    day = snapshot.built_at.date().isoformat()
    name = filename("playground", "query", day, day)
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    if result.notice:
        headers["X-Sextant-Notice"] = result.notice
    return Response(export.text, media_type="text/csv; charset=utf-8", headers=headers)


@router.post("/playground/saved")
async def save(request: Request, principal: Analyst) -> Response:
    form = await request.form()
    saved = request.app.state.playground.saved
    action = str(form.get("action", "create"))
    try:
        if action == "create":
            query = saved.create(
                principal,
                str(form.get("name", "")),
                str(form.get("sql", "")),
                description=str(form.get("description", "")),
                shared=form.get("shared") == "on",
                pinned=form.get("pinned") == "on",
            )
        elif action in ("pin", "unpin", "share", "unshare"):
            change = {
                "pin": ("pinned", True),
                "unpin": ("pinned", False),
                "share": ("shared", True),
                "unshare": ("shared", False),
            }[action]
            query = saved.update(_id(str(form.get("id", ""))), principal, **dict([change]))
        elif action == "delete":
            query = saved.delete(_id(str(form.get("id", ""))), principal)
        else:
            raise InvalidInput("saved_action_unknown", f"unknown action {action!r}", field="action")
    except SextantError as exc:
        return _page(
            request,
            principal,
            sql=str(form.get("sql", "")) or EXAMPLE,
            status=exc.status,
            problem=exc,
        )
    request.app.state.access.audit.record(
        principal, "saved_query", query.name, change=action, id=query.id
    )
    target = {"done": f"{DONE[action]}: {query.name}"}
    if action != "delete":
        target["q"] = str(query.id)
    return RedirectResponse(f"/playground?{urlencode(target)}", status_code=303)
