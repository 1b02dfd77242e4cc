"""Health, readiness and the local control API used by CLI commands while the server runs.

The control routes (store summary, sources, file import) need the token the server writes
to `server.json` in its data directory (readable by its owner only): only someone who can
read that folder on this machine can use them. Users, roles and API keys will replace it.
"""

from __future__ import annotations

import secrets
import statistics
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sextant.errors import Unauthorized
from sextant.ingest.files import import_file
from sextant.ingest.sources import add_source, list_sources, revoke_source
from sextant.store.summary import summarize

router = APIRouter()


def require_control_token(request: Request) -> None:
    sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not sent or not secrets.compare_digest(sent, request.app.state.control_token):
        raise Unauthorized(
            "invalid_control_token",
            "this route needs the server's local control token",
            field="authorization",
        )


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


@router.get("/api/v1/info", dependencies=[Depends(require_control_token)])
def info(request: Request, tz: str | None = None) -> dict:
    state = request.app.state
    settings = state.settings
    return summarize(state.engine, tz or settings.timezone, settings.database_path).as_dict()


class NewSource(BaseModel):
    name: str = Field(description="What sends the events, e.g. 'web app'.")


@router.get("/api/v1/sources", dependencies=[Depends(require_control_token)])
def sources(request: Request) -> list[dict]:
    return list_sources(request.app.state.engine)


@router.post("/api/v1/sources", dependencies=[Depends(require_control_token)], status_code=201)
def create_source(body: NewSource, request: Request) -> dict:
    key = add_source(request.app.state.engine, body.name)
    request.app.state.keyring.reload()
    return {"name": body.name.strip(), "write_key": key}


@router.delete("/api/v1/sources/{name}", dependencies=[Depends(require_control_token)])
def delete_source(name: str, request: Request) -> dict:
    revoke_source(request.app.state.engine, name)
    request.app.state.keyring.reload()
    return {"name": name, "revoked": True}


class ImportRequest(BaseModel):
    path: str = Field(description="A file on the server's machine.")
    table: str
    mapping: dict[str, str] = Field(default_factory=dict)
    file_format: str | None = None


@router.post("/api/v1/imports", dependencies=[Depends(require_control_token)])
def run_import(body: ImportRequest, request: Request) -> dict:
    report = import_file(
        request.app.state.engine,
        Path(body.path),
        body.table,
        body.mapping,
        file_format=body.file_format,
    )
    return report.as_dict()
