"""Playground routes: run one read-only query (`POST /api/v1/playground/query`), the tables
it may read, and saved queries. Analysts and above; every query is written to the audit log
with its text, rows and outcome."""

from __future__ import annotations

import base64
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from sextant.access.roles import Principal, Role
from sextant.api.auth import client_ip, require
from sextant.errors import SextantError
from sextant.playground.runner import PlaygroundResult
from sextant.playground.snapshot import Snapshot
from sextant.playground.tables import ALLOWED_TABLES
from sextant.store.schema import TABLES

analyst = require(Role.ANALYST, "the SQL playground")
Analyst = Annotated[Principal, Depends(analyst)]
router = APIRouter(prefix="/api/v1", dependencies=[Depends(analyst)])


def run_logged(
    request: Request, principal: Principal, sql: str, *, masked: bool = False
) -> tuple[PlaygroundResult, Snapshot]:
    """Run `sql` for `principal` and write the attempt, refused or not, to the audit log."""
    audit = request.app.state.access.audit
    ip = client_ip(request)
    try:
        result, snapshot = request.app.state.playground.run(principal, sql, masked=masked)
    except SextantError as exc:
        audit.record(
            principal,
            "playground_query",
            outcome=exc.code,
            ip=ip,
            sql=sql[:5000],
            message=exc.message,
        )
        raise
    audit.record(
        principal,
        "playground_query",
        ip=ip,
        sql=sql[:5000],
        rows=result.row_count,
        truncated=result.truncated,
        ms=result.elapsed_ms,
        export=masked,
    )
    return result, snapshot


def cell(value: Any) -> Any:
    """A result cell as JSON can hold it."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list | tuple):
        return [cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): cell(v) for k, v in value.items()}
    return value


def result_body(result: PlaygroundResult, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "sql": result.sql,
        "columns": result.columns,
        "types": result.types,
        "rows": [[cell(v) for v in row] for row in result.rows],
        "row_count": result.row_count,
        "truncated": result.truncated,
        "notice": result.notice,
        "elapsed_ms": result.elapsed_ms,
        "data_as_of": snapshot.built_at.isoformat(),
    }


class PlaygroundQuery(BaseModel):
    sql: str = Field(description="One SELECT (WITH allowed) over the playground's tables.")


@router.post("/playground/query")
def query(body: PlaygroundQuery, request: Request, principal: Analyst) -> dict[str, Any]:
    """At most 10,000 rows of one read-only query over the tables you may read."""
    return result_body(*run_logged(request, principal, body.sql))


def table_list() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "columns": [
                {"name": c.name, "type": c.type.value, "doc": c.doc} for c in TABLES[name].columns
            ],
        }
        for name in ALLOWED_TABLES
    ]


@router.get("/playground/tables")
def tables() -> list[dict[str, Any]]:
    """The tables and columns the playground may read."""
    return table_list()


class NewSavedQuery(BaseModel):
    name: str
    sql: str
    description: str = ""
    shared: bool = False
    pinned: bool = False


class SavedQueryChange(BaseModel):
    name: str | None = None
    sql: str | None = None
    description: str | None = None
    shared: bool | None = None
    pinned: bool | None = None


def _saved(request: Request):
    return request.app.state.playground.saved


def _audit_saved(request: Request, principal: Principal, change: str, saved) -> None:
    request.app.state.access.audit.record(
        principal,
        "saved_query",
        saved.name,
        ip=client_ip(request),
        change=change,
        id=saved.id,
        shared=saved.shared,
        pinned=saved.pinned,
    )


@router.get("/saved-queries")
def list_saved(request: Request, principal: Analyst) -> list[dict[str, Any]]:
    """Your saved queries and those shared with the team, pinned first."""
    return [q.as_dict() for q in _saved(request).visible(principal)]


@router.post("/saved-queries", status_code=201)
def create_saved(body: NewSavedQuery, request: Request, principal: Analyst) -> dict[str, Any]:
    saved = _saved(request).create(principal, **body.model_dump())
    _audit_saved(request, principal, "created", saved)
    return saved.as_dict()


@router.get("/saved-queries/{query_id}")
def show_saved(query_id: int, request: Request, principal: Analyst) -> dict[str, Any]:
    return _saved(request).get(query_id, principal).as_dict()


@router.patch("/saved-queries/{query_id}")
def change_saved(
    query_id: int,
    request: Request,
    principal: Analyst,
    body: Annotated[SavedQueryChange, Body()],
) -> dict[str, Any]:
    """Change your own saved query (a sys engineer may change anyone's)."""
    saved = _saved(request).update(query_id, principal, **body.model_dump(exclude_none=True))
    _audit_saved(request, principal, "changed", saved)
    return saved.as_dict()


@router.delete("/saved-queries/{query_id}")
def delete_saved(query_id: int, request: Request, principal: Analyst) -> dict[str, Any]:
    saved = _saved(request).delete(query_id, principal)
    _audit_saved(request, principal, "deleted", saved)
    return {"id": saved.id, "deleted": True}
