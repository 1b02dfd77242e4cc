"""Commands run while `sextant serve` holds the store go through the server's control API."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from sextant.cli.common import engine_for
from sextant.config import Settings
from sextant.errors import SextantError, StoreError
from sextant.store.engine import Engine

T = TypeVar("T")


def running_server(settings: Settings) -> dict | None:
    """The running server's {pid, url, token} from its data directory, if it is alive."""
    try:
        info = json.loads(settings.server_file.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


def call(server: dict, method: str, path: str, **kwargs: Any) -> Any:
    """One control request; an error answer becomes the same SextantError a local run gives."""
    try:
        response = httpx.request(
            method,
            server["url"] + path,
            headers={"Authorization": f"Bearer {server['token']}"},
            timeout=600,
            **kwargs,
        )
    except httpx.HTTPError as exc:
        raise StoreError(
            "server_unreachable",
            f"the server at {server['url']} holds the store but does not answer ({exc})",
            hint="wait for it to start, or stop it and run the command again",
        ) from None
    body = response.json()
    if response.is_error:
        first = body.get("errors", [{}])[0]
        error = SextantError(
            first.get("code", "server_error"),
            first.get("message", response.text),
            field=first.get("field"),
            hint=body.get("hint"),
        )
        error.status = response.status_code
        raise error
    return body


def local_or_remote(
    settings: Settings,
    local: Callable[[Engine], T],
    remote: Callable[[dict], T],
    *,
    read_only: bool = False,
) -> T:
    """Run `local` on the store, or `remote` through the server when one holds the store.

    With SEXTANT_ENGINE=clickhouse, reads go to ClickHouse, which the server does not lock."""
    server = running_server(settings) if settings.engine == "duckdb" else None
    if server:
        return remote(server)
    with engine_for(settings, read_only=read_only) as engine:
        return local(engine)
