"""The `sextant` command: one module per command group, registered here."""

from __future__ import annotations

import sys

import typer

from sextant.cli import (
    analyze,
    clickhouse,
    demo,
    generate,
    imports,
    info,
    metrics,
    serve,
    sources,
    users,
)
from sextant.cli.common import run

app = typer.Typer(
    name="sextant",
    help="Sextant: self-hosted product analytics. Add --debug to any command for tracebacks.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
for module in (demo, generate, imports, info, metrics, analyze, serve, sources, users, clickhouse):
    module.register(app)


def main() -> None:
    sys.exit(run(app))
