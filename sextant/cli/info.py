"""`sextant info`: what the store holds, for people (tables) or machines (--json)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from sextant.cli.common import DataDir, console, settings_for
from sextant.cli.remote import call, local_or_remote
from sextant.store.summary import summarize


def register(app: typer.Typer) -> None:
    app.command("info")(info_command)


def info_command(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone for days [env: SEXTANT_TIMEZONE].")
    ] = None,
) -> None:
    """Row counts, date ranges, file size, schema version and headline numbers."""
    settings = settings_for(data_dir, timezone=tz)
    summary = local_or_remote(
        settings,
        lambda engine: summarize(engine, settings.timezone, settings.database_path).as_dict(),
        lambda server: call(server, "GET", "/api/v1/info", params={"tz": settings.timezone}),
        read_only=True,
    )
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        render(summary)


def render(summary: dict) -> None:
    """Print a store summary (the JSON form of `StoreSummary`) for people."""
    h = summary["headline"]
    size = f"{summary['file_bytes'] / 1e6:,.1f} MB" if summary["file_bytes"] else "-"
    console.print(
        f"[bold]Store[/bold] {summary['path']}  ({size}, schema v{summary['schema_version']}, "
        f"data v{summary['data_version']}, days in {summary['timezone']})"
    )
    tables = Table(title="Tables", title_justify="left")
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    tables.add_column("from")
    tables.add_column("to")
    for t in summary["tables"]:
        tables.add_row(t["name"], f"{t['rows']:,}", _day(t["first"]), _day(t["last"]))
    console.print(tables)
    if not h["last_day"]:
        console.print(
            "No events yet: run `sextant generate` or `sextant import FILE --table events`."
        )
        return
    numbers = Table(
        title=f"Headline numbers (last day with data: {h['last_day']})", title_justify="left"
    )
    numbers.add_column("metric")
    numbers.add_column("value", justify="right")
    numbers.add_column("definition")
    rows = [
        ("DAU", _int(h["dau"]), "distinct active persons on the last day"),
        ("WAU", _int(h["wau"]), "distinct active persons in the 7 days ending then"),
        ("MAU", _int(h["mau"]), "distinct active persons in the 30 days ending then"),
        ("DAU/MAU", _pct(h["stickiness"]), "stickiness"),
        ("persons", _int(h["identified_persons"]), "identified persons (after merges)"),
        ("tenants", _int(h["tenants"]), "workspaces, organisations, shops"),
        ("signups", _int(h["signups"]), "persons with a signed_up event"),
        ("paid conversion", _pct(h["paid_conversion"]), "signed-up persons who started paying"),
        ("events per person", _num(h["events_per_person"]), "all events / persons with events"),
        ("orders", _int(h["orders"]), "non-test, non-cancelled orders"),
    ]
    rows += [
        (f"revenue {cur}", f"{v:,.2f}", "order totals net of refunds")
        for cur, v in h["revenue"].items()
    ]
    for row in rows:
        numbers.add_row(*row)
    console.print(numbers)


def _day(value: str | None) -> str:
    return value[:10] if value else "-"


def _int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"
