"""`sextant sources add|list|revoke`: the write keys that event senders use."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer
from rich.table import Table

from sextant.cli.common import DataDir, console, settings_for
from sextant.cli.remote import call, local_or_remote
from sextant.ingest.sources import add_source, list_sources, revoke_source

sources = typer.Typer(help="Event sources and their write keys.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(metavar="NAME", help="e.g. 'web app' or 'backend'.")]


def register(app: typer.Typer) -> None:
    app.add_typer(sources, name="sources")


@sources.command("add")
def add_command(name: Name, data_dir: DataDir = None) -> None:
    """Create a source and print its write key (shown only this once)."""
    settings = settings_for(data_dir)
    key = local_or_remote(
        settings,
        lambda engine: add_source(engine, name),
        lambda server: call(server, "POST", "/api/v1/sources", json={"name": name})["write_key"],
    )
    console.print(f"Source {name!r} created. Its write key (shown only now):")
    typer.echo(key)
    console.print(
        "Use it as the PostHog project API key, the Segment write key, or "
        "`Authorization: Bearer KEY` on /api/v1/events."
    )


@sources.command("list")
def list_command(data_dir: DataDir = None) -> None:
    """List sources with the start of their keys."""
    settings = settings_for(data_dir)
    rows = local_or_remote(
        settings, list_sources, lambda server: call(server, "GET", "/api/v1/sources")
    )
    if not rows:
        console.print("No sources yet: create one with `sextant sources add NAME`.")
        return
    table = Table("name", "key starts with", "created", "revoked")
    for r in rows:
        table.add_row(
            r["name"],
            r["key_prefix"] + "…",
            str(r["created_at"])[:19],
            str(r["revoked_at"] or "")[:19],
        )
    console.print(table)


@sources.command("revoke")
def revoke_command(name: Name, data_dir: DataDir = None) -> None:
    """Revoke a source's key: its events are refused from now on (401)."""
    settings = settings_for(data_dir)
    local_or_remote(
        settings,
        lambda engine: revoke_source(engine, name),
        lambda server: call(server, "DELETE", f"/api/v1/sources/{quote(name, safe='')}"),
    )
    console.print(f"Source {name!r} revoked.")
