"""`sextant analyze KIND --json FILE`: run an analysis (funnel, retention, sessions, ...) from a
JSON query and print its result, SQL and timing as JSON (through the server when one holds
the store). Without KIND, lists the analyses and their options."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from sextant.cli.common import DataDir, console, settings_for
from sextant.cli.remote import call, local_or_remote
from sextant.errors import InvalidInput


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)


def analyze(
    kind: Annotated[
        str | None,
        typer.Argument(metavar="KIND", help="funnel, retention, sessions, ...; omit to list."),
    ] = None,
    query_file: Annotated[
        str | None,
        typer.Option(
            "--json",
            metavar="FILE",
            help="The query as a JSON object (a file, or - for standard input).",
            show_default=False,
        ),
    ] = None,
    sql_only: Annotated[
        bool, typer.Option("--sql", help="Print the SQL the analysis runs, without running it.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Run an analysis from a JSON query; print the result, its SQL and timing as JSON."""
    # Analyses and the catalog are imported when a command runs, not on every `sextant` start.
    from sextant.analyses.run import compile_analysis, parse, run_analysis
    from sextant.catalog import load_catalog

    if kind is None:
        _list()
        return
    settings = settings_for(data_dir)
    body = _read(query_file)
    catalog = load_catalog(settings.catalog_dir)
    analysis, query = parse(kind, body, catalog, settings=settings)  # before the store opens
    if sql_only:
        _, sql = compile_analysis(analysis, catalog, query, "duckdb")
        typer.echo("\n\n".join(f"{text};" for text in sql.values()))
        return
    result = local_or_remote(
        settings,
        lambda engine: run_analysis(engine, catalog, kind, body, settings=settings).as_dict(),
        lambda server: call(server, "POST", f"/api/v1/analyses/{kind}", json=body),
        read_only=True,
    )
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


def _read(path: str | None) -> dict[str, Any]:
    if path is None:
        raise InvalidInput(
            "analysis_query_missing",
            "--json FILE is missing: give the query as a JSON file (or - for standard input)",
            field="--json",
        )
    where = "standard input" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "analysis_query_unreadable", f"cannot read {where}: {exc}", field="--json"
        ) from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "analysis_query_not_json",
            f"{where}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            field="--json",
        ) from None
    if not isinstance(body, dict):
        raise InvalidInput(
            "analysis_body_invalid", f"{where}: the query must be a JSON object", field="--json"
        )
    return body


def _list() -> None:
    from sextant.analyses import kinds

    table = Table("kind", "label", "what it answers", title="Analyses", title_justify="left")
    for found in kinds().values():
        table.add_row(found.kind, escape(found.label), escape(found.summary))
    console.print(table)
    console.print(
        "Run one: sextant analyze KIND --json query.json   (options: GET /api/v1/analyses/KIND)",
        highlight=False,
    )
