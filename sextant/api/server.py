"""Running the app under uvicorn, with the connection limits a public endpoint needs."""

from __future__ import annotations

import asyncio
from types import FrameType

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sextant.api.app import create_app
from sextant.config import Settings


class CaptureProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, but a connection that sends nothing is closed after the
    keep-alive timeout too (uvicorn only times out connections after a response), so
    idle sockets cannot pile up."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )


class DrainingServer(uvicorn.Server):
    """A SIGTERM or SIGINT is a request to drain and stop; once drained the process exits
    0 (uvicorn would re-raise the signal and die by it, which reads as a crash)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then drain: uvicorn stops accepting and finishes
    requests, and the app's shutdown stores every accepted event."""
    url = f"http://{settings.host}:{settings.port}"
    config = uvicorn.Config(
        create_app(settings, url=url),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=CaptureProtocol,
        log_config=None,
        access_log=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        h11_max_incomplete_event_size=64 * 1024,
    )
    DrainingServer(config).run()
