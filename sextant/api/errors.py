"""Error answers: every failure is JSON `{"ok": false, "status", "errors": [...]}`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from sextant.errors import SextantError

log = logging.getLogger("sextant.api")


@dataclass(frozen=True)
class PageErrors:
    """How the web layer answers a browser: which requests are page loads, and the page."""

    wants: Callable[[Request], bool]
    render: Callable[[Request, SextantError], Response]


def error_body(status: int, errors: list[dict]) -> dict:
    return {"ok": False, "status": status, "errors": errors}


def install(app: FastAPI, pages: PageErrors | None = None) -> None:
    """JSON errors everywhere; with `pages`, a browser asking for a page gets a page."""

    @app.exception_handler(SextantError)
    async def sextant_error(request: Request, exc: SextantError) -> Response:
        if pages is not None and pages.wants(request):
            return pages.render(request, exc)
        headers = {}
        if getattr(exc, "retry_after", None):
            headers["Retry-After"] = str(exc.retry_after)
        body = exc.as_dict()
        if exc.hint:
            body["hint"] = exc.hint
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "code": "invalid_request",
                "message": e.get("msg", "invalid"),
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or None,
            }
            for e in exc.errors()
        ]
        return JSONResponse(error_body(422, errors), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = (
            f"no route {request.method} {request.url.path}"
            if exc.status_code in (404, 405)
            else str(exc.detail)
        )
        return JSONResponse(
            error_body(exc.status_code, [{"code": code, "message": message, "field": None}]),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.exception("internal error %s on %s %s", ref, request.method, request.url.path)
        return JSONResponse(
            error_body(
                500,
                [
                    {
                        "code": "internal_error",
                        "message": f"internal error, ref {ref}",
                        "field": None,
                    }
                ],
            ),
            status_code=500,
        )
