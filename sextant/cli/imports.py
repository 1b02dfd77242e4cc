"""`sextant import FILE --table T`: load a CSV, TSV, Parquet or NDJSON file, with row verdicts."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sextant.cli.common import DataDir, console, progress_bar, settings_for
from sextant.cli.remote import call, local_or_remote
from sextant.errors import InvalidInput, Problem
from sextant.ingest.files import ImportReport, import_file, importable_table
from sextant.ingest.readers import FORMATS, inspect
from sextant.store.engine import Engine

SHOWN_PROBLEMS = 20


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)


def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="The file: .csv, .tsv, .parquet, .ndjson/.jsonl (.gz too)."
        ),
    ],
    table: Annotated[
        str, typer.Option("--table", "-t", metavar="TABLE", help="The table to load into.")
    ],
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="SRC=DST",
            help="Rename a file column to a table column: FILE_COLUMN=TABLE_COLUMN. Repeatable.",
        ),
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help=f"Read as {'|'.join(FORMATS)} whatever the extension says.",
        ),
    ] = None,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import a file into a table. Bad rows are reported and skipped; good rows are kept.

    Re-importing a file stores nothing new. Columns not in the table go into `properties`
    for events and persons and are ignored for other tables.
    """
    mapping = parse_maps(maps or [])
    importable_table(table)
    _, total = inspect(file, file_format)  # file errors before the store is opened or created
    settings = settings_for(data_dir)

    def local(engine: Engine) -> ImportReport:
        with progress_bar(f"Importing {file.name}", total) as advance:
            return import_file(
                engine, file, table, mapping, file_format=file_format, progress=advance
            )

    def remote(server: dict) -> ImportReport:
        request = {
            "path": str(file.resolve()),
            "table": table,
            "mapping": mapping,
            "file_format": file_format,
        }
        answer = call(server, "POST", "/api/v1/imports", json=request)
        return ImportReport(**{f.name: answer[f.name] for f in fields(ImportReport)})

    report = local_or_remote(settings, local, remote)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        render(report)


def parse_maps(values: list[str]) -> dict[str, str]:
    """`["src=dst", ...]` as a dict; every malformed value reported at once.

    >>> parse_maps(["Order ID=order_id", "ts=created_at"])
    {'Order ID': 'order_id', 'ts': 'created_at'}
    """
    mapping, problems = {}, []
    for value in values:
        src, sep, dst = value.partition("=")
        src, dst = src.strip(), dst.strip()
        if not sep or not src or not dst:
            problems.append(
                Problem(
                    "bad_map",
                    f"--map {value!r} must look like FILE_COLUMN=TABLE_COLUMN",
                    field="map",
                )
            )
        elif src in mapping:
            problems.append(Problem("bad_map", f"--map names {src!r} twice", field="map"))
        else:
            mapping[src] = dst
    if problems:
        raise InvalidInput.from_problems(problems)
    return mapping


def render(report: ImportReport) -> None:
    console.print(report.summary(), highlight=False)
    for warning in report.warnings:
        console.print(f"warning: {warning}", highlight=False)
    if report.folded_columns:
        console.print(
            f"Columns kept in properties: {', '.join(report.folded_columns)}", highlight=False
        )
    if not report.problems:
        return
    problems = Table(title="Problems", title_justify="left")
    problems.add_column(report.row_word, justify="right")
    problems.add_column("column")
    problems.add_column("reason", overflow="fold")
    for p in report.problems[:SHOWN_PROBLEMS]:
        problems.add_row(f"{p['row']:,}", p["column"] or "-", p["reason"])
    console.print(problems)
    more = report.problems_total - min(len(report.problems), SHOWN_PROBLEMS)
    if more:
        console.print(f"... and {more:,} more (see --json for the first 1,000)", highlight=False)
