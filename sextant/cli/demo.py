"""`sextant demo`: the first command a new user runs: data if missing, then what is there."""

from __future__ import annotations

from typing import Annotated

import typer

from sextant.cli.common import DataDir, console, engine_for, settings_for
from sextant.cli.generate import build_dataset, store_has_events
from sextant.cli.info import render
from sextant.store.summary import summarize
from sextant.synth.config import SynthConfig


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def demo_command(
    data_dir: DataDir = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo data set.")] = SynthConfig.seed,
) -> None:
    """Generate the demo data set (first run only) and show what it holds."""
    settings = settings_for(data_dir)
    if not store_has_events(settings):
        console.print(f"Generating the demo data set into {settings.database_path} ...")
        written, seconds = build_dataset(settings, SynthConfig(seed=seed), replace=True)
        console.print(f"Done: {sum(written.values()):,} rows in {seconds:.1f} s.")
    with engine_for(settings, read_only=True) as engine:
        summary = summarize(engine, settings.timezone, settings.database_path).as_dict()
    render(summary)
    last = summary["headline"]["last_day"]
    month = f" --from {last[:8]}01 --to {last}" if last else ""
    console.print(
        "\nNext: `.venv/bin/sextant metrics list` for every metric and its meaning, "
        f"`.venv/bin/sextant metrics query wau{month}` for a series, "
        "`.venv/bin/sextant analyze` for funnels, retention, sessions and more, "
        "`.venv/bin/sextant info --json` for machines, "
        "`.venv/bin/sextant import FILE --table events` to add your own data."
    )
