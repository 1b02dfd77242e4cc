"""`sextant generate`: write the deterministic synthetic data set into the store."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Annotated

import typer

from sextant.cli.common import DataDir, console, progress_bar, settings_for
from sextant.config import Settings
from sextant.errors import Conflict
from sextant.store.engine import scalar
from sextant.store.engines import open_duckdb
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig

DEFAULTS = SynthConfig()
FIRST_DAY = datetime(DEFAULTS.start.year, DEFAULTS.start.month, DEFAULTS.start.day)
LAST_DAY = datetime(DEFAULTS.end.year, DEFAULTS.end.month, DEFAULTS.end.day)
Day = Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)


def generate_command(
    data_dir: DataDir = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = (
        DEFAULTS.seed
    ),
    users: Annotated[int, typer.Option(min=1, help="Identified users.")] = DEFAULTS.users,
    events: Annotated[int, typer.Option(min=1, help="Product events (about).")] = DEFAULTS.events,
    start: Day = FIRST_DAY,
    end: Day = LAST_DAY,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a store that already holds data.")
    ] = False,
) -> None:
    """Generate synthetic users, events, orders, inventory, tickets and reviews."""
    cfg = SynthConfig(seed=seed, users=users, events=events, start=start.date(), end=end.date())
    settings = settings_for(data_dir)
    written, seconds = build_dataset(settings, cfg, replace=replace)
    total = sum(written.values())
    console.print(
        f"Generated {total:,} rows ({written.get('events', 0):,} events, "
        f"{written.get('persons', 0):,} persons) in {seconds:.1f} s "
        f"into {settings.database_path}"
    )


def build_dataset(
    settings: Settings, cfg: SynthConfig, *, replace: bool = False
) -> tuple[dict[str, int], float]:
    """Generate into a temporary file beside the store, then move it into place.

    A run that fails or is interrupted leaves the previous store untouched.
    """
    target = settings.database_path
    if not replace and store_has_events(settings):
        raise Conflict(
            "store_not_empty",
            f"the store {target} already holds data",
            field="data_dir",
            hint="add --replace to overwrite it, or choose another --data-dir",
        )
    partial = target.with_name(target.name + ".generating")
    for stale in (partial, partial.with_name(partial.name + ".wal")):
        stale.unlink(missing_ok=True)
    from sextant.synth.dataset import generate  # pandas and numpy: only when generating

    started = time.perf_counter()
    engine = DuckDBEngine(
        partial, threads=settings.duckdb_threads, memory_limit=settings.duckdb_memory_limit
    )
    try:
        with progress_bar("generating", total=cfg.events) as advance:
            written = generate(
                engine, cfg, lambda table, rows: advance(rows) if table == "events" else None
            )
        engine.checkpoint()
    except BaseException:
        engine.close()
        partial.unlink(missing_ok=True)
        raise
    engine.close()
    os.replace(partial, target)
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    return written, time.perf_counter() - started


def store_has_events(settings: Settings) -> bool:
    if not settings.database_path.exists():
        return False
    with open_duckdb(settings, read_only=True) as engine:  # the store, whatever answers queries
        return bool(scalar(engine, "SELECT EXISTS (SELECT 1 FROM events)"))
