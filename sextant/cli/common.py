"""What every command shares: the --data-dir option, settings, the console, the error boundary."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sextant.config import Settings, load_settings
from sextant.errors import SextantError
from sextant.store.engine import Engine
from sextant.store.engines import open_engine

console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the store [env: SEXTANT_DATA_DIR; default: ./sextant-data].",
        show_default=False,
    ),
]

EXIT_ERROR = 1
EXIT_INTERNAL = 3


def settings_for(data_dir: Path | None, **overrides: object) -> Settings:
    """Settings from the environment with command-line values (those not None) on top."""
    try:
        return load_settings(data_dir=data_dir, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "SEXTANT_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SextantError("bad_setting", f"{name}: {first['msg']}", field=name) from None


@contextmanager
def engine_for(settings: Settings, *, read_only: bool = False) -> Iterator[Engine]:
    engine = open_engine(settings, read_only=read_only)
    try:
        yield engine
    finally:
        engine.close()


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields `advance(n)`. Quiet when stderr is not a terminal."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def run(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run the CLI: errors become `error: ...` plus a hint; tracebacks only with --debug.

    Typer itself answers usage errors (exit 2) and --help; everything else a command
    raises is translated here.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    try:
        app(args=args, prog_name="sextant")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    except SextantError as exc:
        if debug:
            raise
        err_console.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"hint: {escape(exc.hint)}", highlight=False)
        return EXIT_ERROR
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:  # the boundary: a bug must not print a raw traceback
        if debug:
            raise
        ref = uuid.uuid4().hex[:8]
        err_console.print(f"[red]error:[/red] internal error ({type(exc).__name__}), ref {ref}")
        err_console.print("hint: run again with --debug to see the traceback, and report it")
        return EXIT_INTERNAL
    return 0
