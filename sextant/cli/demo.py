"""`sextant demo`: the first command a new user runs: data if missing, what it holds, then the
dashboard on this computer (127.0.0.1:8000) until Ctrl-C."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from sextant.access.service import Access
from sextant.cli.common import DataDir, console, engine_for, settings_for
from sextant.cli.generate import build_dataset, store_has_events
from sextant.cli.info import render
from sextant.cli.serve import serve_command
from sextant.store.summary import summarize
from sextant.synth.config import SynthConfig

YEARS = 3  # of demo history, as the generator's default


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def demo_command(
    data_dir: DataDir = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo data set.")] = SynthConfig.seed,
    port: Annotated[
        int | None, typer.Option(help="Port of the dashboard [env: SEXTANT_PORT; default 8000].")
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard after the summary.")
    ] = True,
) -> None:
    """Generate the demo data set (first run only), show what it holds and serve the dashboard.

    The generated history ends yesterday, so "Last 7 days" shows last week. The dashboard
    answers on 127.0.0.1 only; until a user is added (`sextant users add`) it needs no
    sign-in and whoever uses it is admin.
    """
    settings = settings_for(data_dir, host="127.0.0.1", port=port)
    if not store_has_events(settings):
        console.print(f"Generating the demo data set into {settings.database_path} ...")
        written, seconds = build_dataset(settings, demo_config(seed, date.today()), replace=True)
        console.print(f"Done: {sum(written.values()):,} rows in {seconds:.1f} s.")
    with engine_for(settings, read_only=True) as engine:
        summary = summarize(engine, settings.timezone, settings.database_path).as_dict()
    render(summary)
    url = f"http://{settings.host}:{settings.port}/"
    console.print(
        "\nIn a terminal: `.venv/bin/sextant metrics list` for every metric and its meaning, "
        "`.venv/bin/sextant analyze` for funnels, retention and sessions, "
        "`.venv/bin/sextant import FILE --table events` to add your own data."
    )
    if not serve:
        return
    console.print(f"\n[bold]Dashboard: {url}[/bold]  (open it in a browser; Ctrl-C stops it)")
    if Access(settings).users.count():
        console.print("Users exist: sign in with yours.")
    else:
        console.print(
            "No users yet: a local demo without sign-in. Add people with "
            "`.venv/bin/sextant users add EMAIL --role admin`."
        )
    serve_command(data_dir=settings.data_dir, host=settings.host, port=settings.port)


def demo_config(seed: int, today: date) -> SynthConfig:
    """Three years of history ending yesterday.

    >>> cfg = demo_config(42, date(2026, 11, 23))
    >>> cfg.start, cfg.end
    (datetime.date(2023, 11, 23), datetime.date(2026, 11, 22))
    """
    end = today - timedelta(days=1)
    return SynthConfig(seed=seed, start=end - timedelta(days=365 * YEARS), end=end)
