"""The playground's costs: building a snapshot (every tenant for an admin; one tenant, masked,
for a limited analyst), a query's start-up (`SELECT 1`), and three queries run through the
sandbox (guard, separate process, read-only snapshot) against the same SQL on the store
directly with DuckDB, in the same run. Sandbox runs are a second apart, as a user's are, so
the worker started after each query is ready for the next; `SELECT 1` back to back shows
the cost of a worker's start.

Stores are generated once per scale under `bench/.data/` (delete it to rebuild). Each query
runs once to warm up, then `REPEATS` times; the table shows medians.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sextant.playground.runner import run_sql
from sextant.playground.snapshot import Snapshots
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from sextant.synth.dataset import generate

DATA = Path(__file__).resolve().parent / ".data"
SCALES = [("1M", SynthConfig(users=66_000, events=1_000_000))]
QUICK = [("100K", SynthConfig(users=6_600, events=100_000))]
REPEATS = 5
PAUSE = 1.0  # seconds between sandbox runs: time for the next worker to start
QUERIES = {
    "sessions per day": "SELECT CAST(started_at AS DATE) AS day, count(*) AS n FROM sessions "
    "GROUP BY 1 ORDER BY 1",
    "top tenants": "SELECT tenant_id, count(*) AS n FROM events GROUP BY 1 ORDER BY 2 DESC "
    "LIMIT 10",
    "events x persons": "SELECT p.plan, count(*) AS n FROM events e JOIN persons p "
    "USING (person_id) GROUP BY 1 ORDER BY 2 DESC",
}


def store(key: str, cfg: SynthConfig) -> Path:
    path = DATA / f"playground-{key}.duckdb"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        engine = DuckDBEngine(path)
        generate(engine, cfg)
        engine.close()
    return path


def median_s(run, pause: float = 0.0) -> float:
    """Median of `REPEATS` timed runs after one untimed; `pause` seconds (untimed) before
    each, as someone reads a result before the next query."""
    run()
    times = []
    for _ in range(REPEATS):
        time.sleep(pause)
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(console: Console, key: str, engine: DuckDBEngine) -> None:
    tenant = (
        engine.execute(
            "SELECT tenant_id FROM events WHERE tenant_id IS NOT NULL GROUP BY 1 "
            "ORDER BY count(*) DESC LIMIT 1"
        )
        .column(0)[0]
        .as_py()
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        everything = Snapshots(Path(folder), engine).path(None, True)
        whole_s = time.perf_counter() - started
        started = time.perf_counter()
        Snapshots(Path(folder), engine).path((tenant,), False)
        one_s = time.perf_counter() - started
        size_mb = everything.path.stat().st_size / 1e6

        def one() -> None:
            run_sql("SELECT 1", everything.path, tenants=None)

        start_s, cold_s = median_s(one, PAUSE), median_s(one)
        table = Table(title=f"Playground at {key} events: sandbox vs DuckDB on the store")
        for column in ("query", "sandbox s", "direct s", "overhead s"):
            table.add_column(column, justify="left" if column == "query" else "right")
        for name, sql in QUERIES.items():
            sandbox = median_s(lambda sql=sql: run_sql(sql, everything.path, tenants=None), PAUSE)
            direct = median_s(lambda sql=sql: engine.execute(sql))
            table.add_row(name, f"{sandbox:.3f}", f"{direct:.3f}", f"{sandbox - direct:.3f}")
        console.print(table)
        console.print(
            f"snapshot, every tenant with PII: {whole_s:.2f} s ({size_mb:.0f} MB); one tenant, "
            f"masked: {one_s:.2f} s; SELECT 1: {start_s:.3f} s with a worker waiting, "
            f"{cold_s:.3f} s back to back (each waits for its worker's start)"
        )


def main(quick: bool = False) -> None:
    console = Console()
    for key, cfg in QUICK if quick else SCALES:
        engine = DuckDBEngine(store(key, cfg), read_only=True)
        try:
            measure(console, key, engine)
        finally:
            engine.close()
