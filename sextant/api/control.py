"""Health, readiness and the local control API used by CLI commands while the server runs.

The store summary needs an analyst who may read every tenant (it counts all rows); sources
and file imports (connectors) need a sys engineer. CLI commands on this machine use the
token the server writes to `server.json` (readable by its owner only), which acts as admin.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sextant.access.roles import Principal, Role
from sextant.api.auth import require
from sextant.errors import Forbidden
from sextant.ingest.files import import_file
from sextant.ingest.sources import add_source, list_sources, revoke_source
from sextant.store.summary import summarize

router = APIRouter()


connectors = require(Role.SYS_ENGINEER, "sources and imports")
Summariser = Annotated[Principal, Depends(require(Role.ANALYST, "the store summary"))]


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    ingestor = request.app.state.ingestor
    stats = ingestor.stats
    fresh = sorted(stats.freshness)
    body = {
        "ready": ingestor.ready,
        "backlog": ingestor.backlog,
        "accepted": stats.accepted,
        "stored": stats.stored,
        "duplicates": stats.duplicates,
        "replayed": stats.replayed,
        "last_error": stats.last_error,
        "freshness_p95_seconds": fresh[int(0.95 * (len(fresh) - 1))] if fresh else None,
        "freshness_median_seconds": statistics.median(fresh) if fresh else None,
    }
    return JSONResponse(body, status_code=200 if ingestor.ready else 503)


@router.get("/api/v1/info")
def info(
    request: Request,
    principal: Summariser,
    tz: str | None = None,
) -> dict:
    if principal.tenants is not None:
        raise Forbidden(
            "summary_all_tenants",
            "the store summary counts every tenant's rows; your access is limited to "
            f"{', '.join(principal.tenants) or 'no tenant'}",
            field="tenants",
        )
    state = request.app.state
    settings = state.settings
    return summarize(state.engine, tz or settings.timezone, settings.database_path).as_dict()


class NewSource(BaseModel):
    name: str = Field(description="What sends the events, e.g. 'web app'.")


@router.get("/api/v1/sources", dependencies=[Depends(connectors)])
def sources(request: Request) -> list[dict]:
    return list_sources(request.app.state.engine)


@router.post("/api/v1/sources", dependencies=[Depends(connectors)], status_code=201)
def create_source(body: NewSource, request: Request) -> dict:
    key = add_source(request.app.state.engine, body.name)
    request.app.state.keyring.reload()
    return {"name": body.name.strip(), "write_key": key}


@router.delete("/api/v1/sources/{name}", dependencies=[Depends(connectors)])
def delete_source(name: str, request: Request) -> dict:
    revoke_source(request.app.state.engine, name)
    request.app.state.keyring.reload()
    return {"name": name, "revoked": True}


class ImportRequest(BaseModel):
    path: str = Field(description="A file on the server's machine.")
    table: str
    mapping: dict[str, str] = Field(default_factory=dict)
    file_format: str | None = None


@router.post("/api/v1/imports", dependencies=[Depends(connectors)])
def run_import(body: ImportRequest, request: Request) -> dict:
    report = import_file(
        request.app.state.engine,
        Path(body.path),
        body.table,
        body.mapping,
        file_format=body.file_format,
    )
    return report.as_dict()
