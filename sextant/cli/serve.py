"""`sextant serve`: the capture endpoints and API on one address, until SIGTERM or Ctrl-C."""

from __future__ import annotations

from typing import Annotated

import typer

from sextant.access.service import Access
from sextant.cli.common import DataDir, engine_for, settings_for
from sextant.cli.remote import running_server
from sextant.config import LOOPBACK
from sextant.errors import Conflict, Forbidden


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


def serve_command(
    data_dir: DataDir = None,
    host: Annotated[
        str | None, typer.Option(help="Address to bind [env: SEXTANT_HOST; default 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to bind [env: SEXTANT_PORT; default 8000].")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve event capture (native, PostHog, Segment) and the API.

    On SIGTERM or Ctrl-C it stops accepting, stores every accepted event and exits.
    """
    settings = settings_for(data_dir, host=host, port=port)
    server = running_server(settings)
    if server:
        raise Conflict(
            "server_running",
            f"a Sextant server (pid {server['pid']}) already serves this store at {server['url']}",
            field="data_dir",
        )
    with engine_for(settings):  # a clear error now if the store cannot be opened
        pass
    if settings.host not in LOOPBACK and Access(settings).users.count(admins=True) == 0:
        raise Forbidden(
            "no_admin",
            f"refusing to serve on {settings.host}: no admin exists, and without users the "
            "dashboard is an open local demo",
            field="host",
            hint="add one with `sextant users add EMAIL --role admin`, or serve on 127.0.0.1",
        )
    # The web stack (FastAPI, pages, statistics) is imported only here: every other command
    # starts without it.
    from sextant.api import logs
    from sextant.api.server import serve

    logs.configure(log_level)
    serve(settings)
