"""Synthetic data throughput: the default data set and 10 million events, on this machine.

Targets (issue: foundation): default set in under 10 s, 10M events in under 2 minutes,
each measured end to end (generate and write into a DuckDB file).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from sextant.synth.dataset import chunks, generate

CASES = [
    ("default", SynthConfig(), 10.0),
    ("10M events", SynthConfig(users=660_000, events=10_000_000), 120.0),
]
QUICK = [("quick", SynthConfig(users=5_000, events=75_000), 10.0)]


def measure(cfg: SynthConfig) -> dict[str, float]:
    started = time.perf_counter()
    rows = events = 0
    for table, chunk in chunks(cfg):
        rows += chunk.num_rows
        events += chunk.num_rows if table == "events" else 0
    generate_only = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        engine = DuckDBEngine(path)
        generate(engine, cfg)
        engine.checkpoint()
        engine.close()
        end_to_end = time.perf_counter() - started
        size = path.stat().st_size
    return {
        "rows": rows,
        "events": events,
        "generate_s": generate_only,
        "total_s": end_to_end,
        "events_per_s": events / end_to_end,
        "mb": size / 1e6,
    }


def main(quick: bool = False) -> None:
    console = Console(width=120)
    table = Table(title=f"bench/generate ({os.cpu_count()} cores)", title_justify="left")
    for col in ("case", "events", "all rows", "generate s", "+ write s", "events/s", "file MB"):
        table.add_column(col, justify="right")
    table.add_column("target")
    for name, cfg, target in QUICK if quick else CASES:
        m = measure(cfg)
        verdict = "met" if m["total_s"] < target else "MISSED"
        table.add_row(
            name,
            f"{m['events']:,}",
            f"{m['rows']:,}",
            f"{m['generate_s']:.1f}",
            f"{m['total_s']:.1f}",
            f"{m['events_per_s']:,.0f}",
            f"{m['mb']:,.0f}",
            f"< {target:g} s: {verdict}",
        )
    console.print(table)
