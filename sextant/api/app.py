"""The application factory: one process owns the store, the journal and the HTTP routes."""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sextant import __version__
from sextant.access.service import Access
from sextant.api import admin as admin_api
from sextant.api import analyses, capture, control, errors, experiments, metrics, playground
from sextant.config import Settings
from sextant.ingest.model import Limits
from sextant.ingest.pipeline import Ingestor
from sextant.ingest.sources import KeyRing
from sextant.playground.service import Playground
from sextant.store.engines import open_engine
from sextant.web import admin, assets, routes, signin
from sextant.web import playground as playground_page
from sextant.web.render import error_page, wants_page

log = logging.getLogger("sextant.api")

CORS_PREFIXES = (
    "/e",
    "/i/",
    "/batch",
    "/capture",
    "/track",
    "/engage",
    "/decide",
    "/flags",
    "/array/",
    "/v1/",
    "/api/v1/events",
)


def create_app(settings: Settings, *, url: str | None = None) -> FastAPI:
    """The app; `url` is where it is reachable, recorded for CLI commands run meanwhile."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(settings)
        ingestor = Ingestor(engine, settings.journal_dir, max_backlog=settings.max_backlog)
        ingestor.start()
        app.state.engine = engine
        app.state.ingestor = ingestor
        app.state.keyring = KeyRing(engine)
        app.state.control_token = secrets.token_urlsafe(32)
        app.state.playground = Playground(settings, engine, app.state.access.store)
        metrics.install(app.state, settings)
        if url:
            _write_server_file(settings, url, app.state.control_token)
        log.info("ready", extra={"fields": {"url": url, "replayed": ingestor.stats.replayed}})
        try:
            yield
        finally:
            settings.server_file.unlink(missing_ok=True)
            ingestor.stop()
            engine.close()
            log.info("stopped", extra={"fields": {"stored": ingestor.stats.stored}})

    app = FastAPI(
        title="Sextant",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.access = Access(settings)
    app.state.limits = Limits(
        max_event_bytes=settings.max_event_bytes, max_depth=settings.max_property_depth
    )
    errors.install(app, errors.PageErrors(wants_page, error_page))
    app.include_router(capture.router)
    app.include_router(control.router)
    app.include_router(metrics.router)
    app.include_router(analyses.router)
    app.include_router(experiments.router)
    app.include_router(playground.router)
    app.include_router(admin_api.router)
    app.include_router(assets.router)
    app.include_router(signin.router)
    app.include_router(routes.router)
    app.include_router(playground_page.router)
    app.include_router(admin.router)
    app.add_middleware(RequestLog)
    app.add_middleware(CaptureCors)
    return app


def _write_server_file(settings: Settings, url: str, token: str) -> None:
    path = settings.server_file
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds a secret
    with os.fdopen(fd, "w") as f:
        json.dump({"pid": os.getpid(), "url": url, "token": token}, f)
    os.replace(tmp, path)


class CaptureCors:
    """CORS for browser SDKs: echo the Origin with credentials allowed (posthog-js sends
    credentialed requests, so `*` would fail); answer preflights directly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CORS_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        cors = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS":
            asked = headers.get(b"access-control-request-headers", b"content-type, authorization")
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        *cors,
                        (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                        (b"access-control-allow-headers", asked),
                        (b"access-control-max-age", b"86400"),
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)


class RequestLog:
    """Structured request logs. Successful capture requests, which may come thousands a
    second, are summed into one line every `every` seconds (count, p50, p99); everything
    else is logged one line per request with method, path, status and milliseconds."""

    def __init__(self, app: ASGIApp, every: float = 10.0) -> None:
        self.app = app
        self.every = every
        self._durations: list[float] = []
        self._since = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            ms = round((time.perf_counter() - started) * 1000, 2)
            if status < 400 and scope["path"].startswith(CORS_PREFIXES):
                self._count(ms)
            else:
                fields = {"method": scope["method"], "path": scope["path"], "status": status}
                log.info("request", extra={"fields": {**fields, "ms": ms}})

    def _count(self, ms: float) -> None:
        self._durations.append(ms)
        now = time.monotonic()
        if now - self._since < self.every:
            return
        durations = sorted(self._durations)
        log.info(
            "capture",
            extra={
                "fields": {
                    "requests": len(durations),
                    "seconds": round(now - self._since, 1),
                    "p50_ms": durations[len(durations) // 2],
                    "p99_ms": durations[int(len(durations) * 0.99)],
                }
            },
        )
        self._durations, self._since = [], now
