"""`sextant clickhouse load`: copy the DuckDB store into ClickHouse, so the same metric
definitions can be answered there (`SEXTANT_ENGINE=clickhouse`)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from sextant.cli.common import DataDir, console, progress_bar, settings_for
from sextant.store.engines import clickhouse_target, open_clickhouse, open_duckdb
from sextant.store.schema import TABLES

app = typer.Typer(help="The ClickHouse engine: load a copy of the store into it.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="clickhouse")


@app.command("load")
def load_command(
    data_dir: DataDir = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="chdb: (embedded, in the data folder), chdb:///path or "
            "clickhouse://user:password@host:8123/db [env: SEXTANT_CLICKHOUSE_URL]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Copy every table of the store into ClickHouse; rows already there are skipped."""
    settings = settings_for(data_dir, clickhouse_url=url)
    clickhouse_target(settings.clickhouse_url, settings.clickhouse_path)  # a bad URL first
    started = time.perf_counter()
    with open_duckdb(settings, read_only=True) as duck:
        target = open_clickhouse(settings)
        try:
            loaded = {}
            with progress_bar("Loading tables", len(TABLES)) as advance:
                for name in TABLES:
                    loaded[name] = target.load_table(duck, name)
                    advance(1)
        finally:
            target.close()
    console.print(
        f"Loaded {sum(loaded.values()):,} new rows ({loaded.get('events', 0):,} events) into "
        f"ClickHouse at {settings.clickhouse_url} in {time.perf_counter() - started:.1f} s. "
        "Query it with SEXTANT_ENGINE=clickhouse."
    )
