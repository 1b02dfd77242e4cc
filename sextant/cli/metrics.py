"""`sextant metrics list|show|sql|query`: the metric catalog, its SQL for any dialect, and
its numbers as a table, JSON or CSV (through the server when one holds the store)."""

from __future__ import annotations

import csv
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from sextant.catalog import Catalog, load_catalog
from sextant.catalog.compiler import compile_query
from sextant.catalog.describe import DEFAULT_RANGE, metric_detail, metric_summary, parse_query
from sextant.catalog.dialects import DIALECTS
from sextant.catalog.query import PRESETS
from sextant.catalog.results import run_query
from sextant.cli.common import DataDir, console, settings_for
from sextant.cli.remote import call, local_or_remote
from sextant.config import Settings
from sextant.errors import InvalidInput, SextantError

metrics = typer.Typer(
    help="The metric catalog: definitions, SQL and numbers.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(metrics, name="metrics")


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


Name = Annotated[str, typer.Argument(metavar="NAME", help="A metric name, such as dau.")]
CatalogDir = Annotated[
    Path | None,
    typer.Option(
        "--catalog-dir",
        metavar="DIR",
        help="Folder of your metric YAML, added to the built-ins [env: SEXTANT_CATALOG_DIR].",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
From = Annotated[
    str | None,
    typer.Option(
        "--from", help="First local date, YYYY-MM-DD.", metavar="DATE", show_default=False
    ),
]
To = Annotated[
    str | None,
    typer.Option(
        "--to", help="Last local date (inclusive), YYYY-MM-DD.", metavar="DATE", show_default=False
    ),
]
Range = Annotated[
    str | None,
    typer.Option(
        "--range",
        help=f"A preset instead of --from/--to: {', '.join(PRESETS)} [default: {DEFAULT_RANGE}].",
        metavar="PRESET",
        show_default=False,
    ),
]
Grain = Annotated[str, typer.Option("--grain", help="hour, day, week or month.", metavar="GRAIN")]
By = Annotated[
    list[str] | None,
    typer.Option(
        "--by", help="Slice by a dimension or property path (repeatable, at most 3).", metavar="DIM"
    ),
]
Where = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        help="A condition over dimensions, such as \"plan = 'free'\" (repeatable; all must hold).",
        metavar="CONDITION",
    ),
]
Tz = Annotated[
    str | None,
    typer.Option(
        "--tz",
        help="IANA time zone for days [env: SEXTANT_TIMEZONE].",
        metavar="ZONE",
        show_default=False,
    ),
]
WeekStart = Annotated[
    str | None,
    typer.Option(
        "--week-start",
        help="First day of weeks, monday to sunday [env: SEXTANT_WEEK_START].",
        metavar="DAY",
        show_default=False,
    ),
]
Tenant = Annotated[
    list[str] | None,
    typer.Option("--tenant", help="Only this tenant (repeatable).", metavar="TENANT"),
]
Param = Annotated[
    list[str] | None,
    typer.Option(
        "--param", help="A metric parameter, such as min_days=10 (repeatable).", metavar="KEY=VALUE"
    ),
]


def catalog_for(settings: Settings) -> Catalog:
    return load_catalog(settings.catalog_dir)


@metrics.command("list")
def list_command(catalog_dir: CatalogDir = None, as_json: AsJson = False) -> None:
    """Every metric: name, type, unit and label; and the dimensions to slice by."""
    catalog = catalog_for(settings_for(None, catalog_dir=catalog_dir))
    summaries = [metric_summary(m) for m in catalog.metrics.values()]
    if as_json:
        typer.echo(json.dumps(summaries, indent=2, ensure_ascii=False))
        return
    table = Table("name", "type", "unit", "label", title="Metrics", title_justify="left")
    for m in summaries:
        table.add_row(m["name"], m["type"], m["unit"], escape(m["label"]))
    console.print(table)
    dims = Table(
        "name", "label", "source", title="Dimensions (--by, --where)", title_justify="left"
    )
    for d in catalog.dimensions.values():
        aliases = f" (also {', '.join(d.aliases)})" if d.aliases else ""
        dims.add_row(d.name + aliases, escape(d.label), escape(d.source))
    console.print(dims)
    console.print("`sextant metrics show NAME` explains one metric.", highlight=False)


@metrics.command("show")
def show_command(name: Name, catalog_dir: CatalogDir = None, as_json: AsJson = False) -> None:
    """A metric's definition and tooltip, where it is defined, and what it depends on."""
    settings = settings_for(None, catalog_dir=catalog_dir)
    detail = metric_detail(catalog_for(settings), name, settings)
    if as_json:
        typer.echo(json.dumps(detail, indent=2, ensure_ascii=False))
        return
    origin = detail["origin"]
    where = f"{origin['file']} line {origin['line']}" if origin else "-"
    out = [
        f"[bold]{escape(detail['label'])}[/bold] ({detail['name']})",
        f"type {detail['type']}, unit {detail['unit']}, owner {escape(detail['owner'])}",
        f"defined in {escape(where)}",
        f"depends on {', '.join(detail['dependencies']) or 'no other metric'}",
        f"parameters {', '.join(detail['parameters']) or 'none'}",
        f"slice by {', '.join(detail['dimensions']) or 'time only'}",
        "",
        escape(detail["description"]),
        "",
        "[bold]Definition[/bold]",
    ]
    definition = {k: v for k, v in detail["definition"].items() if k != "description"}
    console.print("\n".join(out), highlight=False)
    console.print(escape(yaml.safe_dump(definition, sort_keys=False).rstrip()), highlight=False)


@metrics.command("sql")
def sql_command(
    name: Name,
    dialect: Annotated[
        str, typer.Option("--dialect", help=f"SQL dialect: {', '.join(DIALECTS)}.", metavar="D")
    ] = "duckdb",
    date_from: From = None,
    date_to: To = None,
    date_range: Range = None,
    grain: Grain = "day",
    by: By = None,
    where: Where = None,
    tz: Tz = None,
    week_start: WeekStart = None,
    tenant: Tenant = None,
    param: Param = None,
    catalog_dir: CatalogDir = None,
) -> None:
    """Print the SQL that computes a metric (default: the last 30 complete days, by day)."""
    settings = settings_for(None, catalog_dir=catalog_dir)
    body = query_body(
        settings,
        name,
        dates=(date_from, date_to, date_range),
        grain=grain,
        by=by,
        where=where,
        zone=(tz, week_start),
        tenants=tenant,
        params=param,
    )
    query = parse_query(body, settings)
    typer.echo(compile_query(catalog_for(settings), query, dialect).sql)


@metrics.command("query")
def query_command(
    name: Name,
    date_from: From = None,
    date_to: To = None,
    date_range: Range = None,
    grain: Grain = "day",
    by: By = None,
    where: Where = None,
    tz: Tz = None,
    week_start: WeekStart = None,
    tenant: Tenant = None,
    param: Param = None,
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
    data_dir: DataDir = None,
    catalog_dir: CatalogDir = None,
) -> None:
    """Compute a metric on the store (default range: the last 30 complete days)."""
    settings = settings_for(data_dir, catalog_dir=catalog_dir)
    body = query_body(
        settings,
        name,
        dates=(date_from, date_to, date_range),
        grain=grain,
        by=by,
        where=where,
        zone=(tz, week_start),
        tenants=tenant,
        params=param,
    )
    query = parse_query(body, settings)  # a bad query is refused before the store is opened
    result = local_or_remote(
        settings,
        lambda engine: run_query(engine, catalog_for(settings), query).as_dict(),
        lambda server: _remote(server, body, settings),
        read_only=True,
    )
    if output is Format.json:
        typer.echo(json.dumps(result["rows"], indent=2, ensure_ascii=False))
    elif output is Format.csv:
        write_csv(result, sys.stdout)
    else:
        render(result)


def query_body(
    settings: Settings,
    name: str,
    *,
    dates: tuple[str | None, str | None, str | None],
    grain: str,
    by: list[str] | None,
    where: list[str] | None,
    zone: tuple[str | None, str | None],
    tenants: list[str] | None,
    params: list[str] | None,
) -> dict[str, Any]:
    """The API body (MetricQuery.parse input) the command-line options stand for: `dates`
    is (--from, --to, --range), `zone` is (--tz, --week-start). Options not given are left
    out, the range defaults to the last 30 days, zone and week start to the settings."""
    date_from, date_to, date_range = dates
    tz, week_start = zone
    body: dict[str, Any] = {"metric": name}
    if (date_from is None) != (date_to is None) and date_range is None:
        missing = "--to" if date_to is None else "--from"
        raise InvalidInput(
            "dates_incomplete",
            f"{missing} is missing: give both --from and --to, or a --range",
            field=missing.lstrip("-"),
        )
    options = {
        "from": date_from,
        "to": date_to,
        "range": date_range or (None if date_from or date_to else DEFAULT_RANGE),
        "grain": grain,
        "breakdown": by or None,
        "where": where or None,
        "timezone": tz or settings.timezone,
        "week_start": week_start or settings.week_start,
        "tenants": tenants or None,
        "parameters": parse_params(params or []) or None,
    }
    return body | {k: v for k, v in options.items() if v is not None}


def parse_params(items: list[str]) -> dict[str, str]:
    """`--param key=value` options as a dict; values stay text and are checked against the
    metric's field (min_days=10 becomes the number 10)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise InvalidInput(
                "param_invalid",
                f"--param {item!r}: expected KEY=VALUE, such as min_days=10",
                field="parameters",
            )
        if key in out:
            raise InvalidInput(
                "param_repeated", f"--param {key} is given twice", field=f"parameters.{key}"
            )
        out[key] = value.strip()
    return out


def _remote(server: dict, body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The query through the server. It answers from its own catalog (its
    SEXTANT_CATALOG_DIR), which can differ from this command's."""
    try:
        return call(server, "POST", "/api/v1/query", json=body)
    except SextantError as exc:
        if exc.code == "unknown_metric" and settings.catalog_dir is not None:
            try:
                known_here = body["metric"] in catalog_for(settings).metrics
            except SextantError:
                known_here = False
            if known_here:
                exc.hint = (
                    f"the running server reads its own catalog; restart it with "
                    f"SEXTANT_CATALOG_DIR={settings.catalog_dir} to use {body['metric']!r}"
                )
        raise


# Cells a spreadsheet would run as a formula (OWASP CSV injection), unless a plain number.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> str:
    """A CSV cell that spreadsheets show as text, never run as a formula.

    >>> safe_cell("=1+2"), safe_cell("@SUM(A1)"), safe_cell("-3.5"), safe_cell(None)
    ("'=1+2", "'@SUM(A1)", '-3.5', '')
    >>> safe_cell(True), safe_cell(-2), safe_cell("+33 6 12")
    ('true', '-2', "'+33 6 12")
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def columns_of(result: dict[str, Any]) -> list[str]:
    """Key columns, value, and `incomplete` when the metric flags cohorts."""
    flags = ["incomplete"] if any("incomplete" in row for row in result["rows"]) else []
    return [*result["keys"], "value", *flags]


def write_csv(result: dict[str, Any], out: Any) -> None:
    writer = csv.writer(out, lineterminator="\n")
    columns = columns_of(result)
    writer.writerow(columns)
    for row in result["rows"]:
        writer.writerow([safe_cell(row.get(c)) for c in columns])


def render(result: dict[str, Any]) -> None:
    """The result as a table for people: label, range, one line per bucket and slice."""
    grain = result["grain"]
    console.print(
        f"[bold]{escape(result['label'])}[/bold] ({result['metric']}, {result['unit']}): "
        f"{result['date_from']} to {result['date_to']} by {grain}, {result['timezone']}",
        highlight=False,
    )
    table = Table()
    keys = result["keys"]
    for key in keys:
        table.add_column(grain if key == "bucket" else key)
    table.add_column("value", justify="right")
    flagged = any(row.get("incomplete") for row in result["rows"])
    if flagged:
        table.add_column("")
    for row in result["rows"]:
        cells = [escape(_key(row[k], k)) for k in keys] + [number(row["value"], result["unit"])]
        if flagged:
            cells.append("(incomplete)" if row.get("incomplete") else "")
        table.add_row(*cells)
    console.print(table)
    served = "from the cache" if result["cached"] else f"in {result['elapsed_ms']:.0f} ms"
    console.print(f"data version {result['data_version']}, computed {served}", highlight=False)
    if not result["rows"]:
        console.print("No rows: nothing matched in this range.", highlight=False)
    if result["truncated"]:
        console.print("[yellow]The result was cut at the row limit.[/yellow]")
    if flagged:
        console.print(
            "(incomplete): the cohort's period has not fully elapsed yet.", highlight=False
        )


def _key(value: Any, key: str) -> str:
    if value is None:
        return "(none)"
    return str(value).replace("T", " ") if key == "bucket" else str(value)  # hours: no "T"


def number(value: Any, unit: str) -> str:
    """A value as people read it.

    >>> number(1234, "persons"), number(0.1234, "ratio"), number(12.345, "currency")
    ('1,234', '12.3%', '12.35')
    >>> number(None, "persons"), number(61.26, "seconds")
    ('-', '61.3 s')
    """
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "seconds":
        return f"{value:,.1f} s"
    if unit == "currency":
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
