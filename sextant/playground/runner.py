"""Run one playground query: check it, hand it to a fresh worker process on a snapshot, stop
the process at the time limit, and turn what comes back into rows or a plain error.

Each worker serves one query and exits. The next one is started as soon as a query ends and
waits, imports done, for its request: a query then skips the ~0.25 s of starting Python and
DuckDB. At most one waits per server; it exits on its own when the server does (its stdin
closes)."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from sextant.errors import InvalidInput, RequestTimeout, SextantError, StoreError, Unprocessable
from sextant.playground import guard, worker

MAX_ROWS = 10_000
WORKER = (sys.executable, "-m", "sextant.playground.worker")
logger = logging.getLogger(__name__)

_PATH = re.compile(r"(?<![\w'\"])/(?:[\w.\-]+/)+[\w.\-*]*")


@dataclass(frozen=True)
class PlaygroundResult:
    sql: str  # as run: rendered from the parsed query, tables scoped to the user's tenants
    columns: list[str]
    types: list[str]  # DuckDB type names, such as BIGINT or TIMESTAMP WITH TIME ZONE
    rows: list[tuple]
    row_count: int  # rows returned: at most max_rows
    truncated: bool  # the query had more rows than max_rows
    notice: str | None  # shown above the rows when truncated
    elapsed_ms: float  # from handing the query over to rows (a cold worker adds ~0.25 s)


def run_sql(
    sql: str,
    snapshot: Path | str,
    *,
    tenants: tuple[str, ...] | None,
    timeout_seconds: float = 10,
    memory_mb: int = 1024,
    max_rows: int = MAX_ROWS,
    threads: int = 2,
) -> PlaygroundResult:
    """The first `max_rows` rows of `sql` on `snapshot` (see snapshot.Snapshots), read as a
    user limited to `tenants`. Raises InvalidInput for a refused or failing query,
    RequestTimeout past `timeout_seconds` and Unprocessable past `memory_mb`."""
    checked = guard.check(sql, tenants)
    snapshot = Path(snapshot)
    if not snapshot.is_file():
        raise StoreError("playground_snapshot_missing", f"no playground snapshot {snapshot.name}")
    request = {
        "snapshot": str(snapshot.resolve()),
        "sql": checked,
        "max_rows": max_rows,
        "memory_mb": memory_mb,
        "threads": threads,
        # CPU time adds up over threads; the wall-clock limit below is the one users meet.
        "cpu_seconds": math.ceil(timeout_seconds * threads) + 2,
    }
    started = time.monotonic()
    process = _SPARE.take(snapshot.parent)
    try:
        out, err = process.communicate(json.dumps(request).encode(), timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise _timeout(timeout_seconds) from None
    except BaseException:
        _kill(process)
        raise
    finally:
        _SPARE.prepare(snapshot.parent)
    elapsed_ms = (time.monotonic() - started) * 1000
    if process.returncode != 0:
        raise _failure(process.returncode, out, err, snapshot, timeout_seconds, memory_mb)
    return _result(checked, out, max_rows, elapsed_ms)


# What a worker needs from the server's environment to start Python and find Sextant; the
# rest (SEXTANT_OIDC_CLIENT_SECRET, cloud credentials, ...) stays out of its reach.
WORKER_ENV = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
    "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SYSTEMROOT",
)  # fmt: skip


def worker_env() -> dict[str, str]:
    kept = {name: os.environ[name] for name in WORKER_ENV if name in os.environ}
    return kept | {"MALLOC_ARENA_MAX": "2"}


def _start_worker(cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        WORKER,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=worker_env(),
        start_new_session=True,  # its own process group, so the kill reaches everything
    )


class _Spare:
    """The one worker started ahead, for snapshots in one directory (its working directory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: tuple[Path, subprocess.Popen] | None = None

    def take(self, cwd: Path) -> subprocess.Popen:
        """The waiting worker if it suits and lives, else a new one."""
        with self._lock:
            waiting, self._waiting = self._waiting, None
        if waiting is not None:
            where, process = waiting
            if where == cwd and process.poll() is None:
                return process
            _kill(process)
        return _start_worker(cwd)

    def prepare(self, cwd: Path) -> None:
        """Start the next worker unless one waits already."""
        with self._lock:
            if self._waiting is not None:
                return
            self._waiting = (cwd, _start_worker(cwd))


_SPARE = _Spare()


def _kill(process: subprocess.Popen) -> None:
    if process.returncode is None:  # not reaped yet, so its id still names its group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _result(sql: str, out: bytes, max_rows: int, elapsed_ms: float) -> PlaygroundResult:
    table = pa.ipc.open_stream(out).read_all()
    metadata = table.schema.metadata or {}
    truncated = metadata.get(worker.TRUNCATED_KEY) == b"true"
    columns = [c.to_pylist() for c in table.columns]
    return PlaygroundResult(
        sql=sql,
        columns=list(table.column_names),
        types=json.loads(metadata.get(worker.TYPES_KEY, b"[]")),
        rows=list(zip(*columns, strict=True)) if columns else [()] * table.num_rows,
        row_count=table.num_rows,
        truncated=truncated,
        notice=(
            f"Showing the first {max_rows:,} rows; the query returned more." if truncated else None
        ),
        elapsed_ms=round(elapsed_ms, 1),
    )


def _failure(
    code: int, out: bytes, err: bytes, snapshot: Path, timeout: float, memory_mb: int
) -> SextantError:
    try:
        problem = json.loads(out)
    except ValueError:
        problem = None
    if code == worker.EXIT_QUERY and isinstance(problem, dict):
        return InvalidInput("sql_error", _clean(str(problem["message"]), snapshot), field="sql")
    if code in (worker.EXIT_MEMORY, -signal.SIGABRT):
        # Past the OS limit an allocation DuckDB does not handle aborts the process.
        return _memory(memory_mb)
    if code == -signal.SIGXCPU:
        return _timeout(timeout)
    if code == -signal.SIGKILL:  # not ours: the kernel's out-of-memory killer
        return _memory(memory_mb)
    logger.error("playground worker failed (exit %s): %s %s", code, out[:2000], err[-2000:])
    return SextantError(
        "playground_failed",
        "the query process failed unexpectedly; the error is logged",
        field="sql",
    )


def _timeout(seconds: float) -> RequestTimeout:
    return RequestTimeout(
        "playground_timeout",
        f"the query ran longer than {seconds:g} s and was stopped",
        field="sql",
        hint="add filters or a LIMIT, or aggregate before joining",
    )


def _memory(memory_mb: int) -> Unprocessable:
    return Unprocessable(
        "playground_memory",
        f"the query needed more than the {memory_mb:,} MB of memory it may use and was stopped",
        field="sql",
        hint="add filters or a LIMIT, aggregate before joining, or avoid large cross joins",
    )


def _clean(message: str, snapshot: Path) -> str:
    """DuckDB's message without the server's file paths.

    >>> _clean('IO Error: cannot open "/srv/data/x.duckdb"', Path("/srv/data/x.duckdb"))
    'IO Error: cannot open "the snapshot"'
    >>> _clean("Cannot access directory /root/.duckdb/ext", Path("/tmp/s.duckdb"))
    'Cannot access directory <path>'
    """
    for text in (str(snapshot.resolve()), str(snapshot)):
        message = message.replace(text, "the snapshot")
    return _PATH.sub("<path>", message)
