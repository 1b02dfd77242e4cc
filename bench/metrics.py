"""Active-user series (dau, wau, mau over 180 days): DuckDB, chdb and pandas, warm.

Targets (benchmark, not test): at 10M events the three series together take under 0.5 s
warm on DuckDB, DuckDB is no slower than chdb, and at least 4x faster than pandas.

Per scale the generated store is built once and cached under `bench/.data/` (DuckDB file
plus a chdb directory holding one database per scale; `metrics-<scale>.json` records how
long building and loading took). Delete `bench/.data/` to rebuild everything.

- DuckDB and chdb run the catalog's compiled query (`compile_query(...)` for each dialect;
  the SQL is rendered once, outside the timing, as `engine.execute(expression)` would),
  each metric apart and the three as one statement (`catalog/batch.py`, as a dashboard
  asks for them), which scans the active person-days once.
- pandas reads the events of the 209 days the three series need, and the overrides, once
  (reported as the load time); each series then filters active events, resolves merged
  persons with `Series.map` and takes local days. Two ways to count, both timed:
  "pandas": distinct (person, day) pairs, each spread over the N days whose window holds
  it, then distinct persons per day (groupby nunique); "pandas dense": a person x day
  boolean matrix, a running count along each row, and per day the persons whose count
  grew within the window. Neither is the compiler's interval form.

Each case runs once to warm up, then `repeats` times; the table shows the median (and the
minimum in the detail line). All implementations must give identical series.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from sextant.catalog import load_catalog
from sextant.catalog.batch import compile_batch
from sextant.catalog.compiler import Compiled, compile_query
from sextant.catalog.definitions import Catalog
from sextant.catalog.query import MetricQuery
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.schema import LATEST_VERSION, TABLES
from sextant.synth.config import SynthConfig
from sextant.synth.dataset import generate

DATA = Path(__file__).resolve().parent / ".data"
CHDB_DIR = DATA / "metrics-chdb"
METRICS = {"dau": 1, "wau": 7, "mau": 30}  # metric -> window in days
DAYS = 180
TIMEZONE = "UTC"
TARGET_TOTAL_S = 0.5  # DuckDB, three series, at the largest scale
TARGET_PANDAS_RATIO = 4.0

SCALES = [
    ("1M", SynthConfig(users=66_000, events=1_000_000)),
    ("10M", SynthConfig(users=660_000, events=10_000_000)),
]
QUICK = [("100K", SynthConfig(users=6_600, events=100_000))]
TARGET_SCALE = "10M"
ENGINES = ("duckdb", "clickhouse", "pandas", "pandas dense")

Series = list[tuple[date, int]]


@dataclass
class Build:
    """What building a scale's stores took (kept in its manifest, so cached runs report it)."""

    key: str
    events: int = 0
    generate_s: float = 0.0
    chdb_load_s: float = 0.0
    chdb_optimize_s: float = 0.0
    chdb_rows: dict[str, int] = field(default_factory=dict)


# --- the stores ------------------------------------------------------------------------------


def cache_key(cfg: SynthConfig) -> str:
    return f"{cfg!r} schema {LATEST_VERSION}"


def read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def duckdb_store(name: str, cfg: SynthConfig, say: Callable[[str], None]) -> tuple[Path, Build]:
    """The scale's DuckDB file, generated unless a cached one matches `cfg`."""
    path = DATA / f"metrics-{name}.duckdb"
    manifest = DATA / f"metrics-{name}.json"
    known = read_manifest(manifest)
    if path.exists() and known.get("key") == cache_key(cfg):
        return path, Build(**known)
    for stale in (path, path.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    DATA.mkdir(parents=True, exist_ok=True)
    say(f"{name}: generating {cfg.events:,} events into {path.name} ...")
    started = time.perf_counter()
    engine = DuckDBEngine(path)
    written = generate(engine, cfg)
    engine.checkpoint()
    engine.close()
    build = Build(cache_key(cfg), written["events"], time.perf_counter() - started)
    manifest.write_text(json.dumps(asdict(build), indent=2))
    return path, build


def chdb_store(
    name: str, duck: DuckDBEngine, build: Build, say: Callable[[str], None]
) -> ClickHouseEngine:
    """The scale's chdb database, loaded from DuckDB unless it already holds the same rows."""
    engine = ClickHouseEngine.embedded(CHDB_DIR, database=f"metrics_{name.lower()}")
    expected = {t: count(duck, t) for t in TABLES}
    if build.chdb_rows == expected and {t: count(engine, t) for t in TABLES} == expected:
        return engine
    say(f"{name}: loading {sum(expected.values()):,} rows into chdb (load_from) ...")
    for t in TABLES:
        engine.execute(f"TRUNCATE TABLE IF EXISTS `{t}`")
    started = time.perf_counter()
    engine.load_from(duck)
    build.chdb_load_s = time.perf_counter() - started
    # Parts from 250K-row chunks x monthly partitions: merge them as a server would in time.
    started = time.perf_counter()
    for t in ("events", "person_overrides"):
        engine.execute(f"OPTIMIZE TABLE `{t}` FINAL")
    build.chdb_optimize_s = time.perf_counter() - started
    build.chdb_rows = {t: count(engine, t) for t in TABLES}
    if build.chdb_rows != expected:
        raise RuntimeError(f"chdb holds {build.chdb_rows}, DuckDB {expected}")
    (DATA / f"metrics-{name}.json").write_text(json.dumps(asdict(build), indent=2))
    return engine


def count(engine: DuckDBEngine | ClickHouseEngine, table: str) -> int:
    return int(engine.execute(f"SELECT count(*) AS n FROM {table}").column(0)[0].as_py())


def last_day(duck: DuckDBEngine) -> date:
    sql = f"SELECT CAST(timezone('{TIMEZONE}', max(timestamp)) AS DATE) FROM events"
    return duck.execute(sql).column(0)[0].as_py()


# --- the three implementations -------------------------------------------------------------


def query(metric: str, first: date, last: date) -> MetricQuery:
    return MetricQuery.parse(
        {
            "metric": metric,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "grain": "day",
            "timezone": TIMEZONE,
        }
    )


def stacked(table: pa.Table) -> list[tuple[int, date, int]]:
    """(metric position, bucket, value) rows of a batch statement, in order."""
    columns = (table.column(c).to_pylist() for c in ("metric", "bucket", "value"))
    return sorted((int(m), b, int(v)) for m, b, v in zip(*columns, strict=True))


def rows(table: pa.Table) -> Series:
    """(bucket, value) rows in bucket order, values as plain ints."""
    pairs = zip(table.column("bucket").to_pylist(), table.column("value").to_pylist(), strict=True)
    return sorted((b, int(v)) for b, v in pairs)


@dataclass
class Frames:
    events: pd.DataFrame  # person_id, event (category), timestamp (UTC)
    overrides: pd.Series  # old_person_id -> person_id


def load_pandas(duck: DuckDBEngine, first: date, last: date) -> Frames:
    """Events of the days the longest window needs (a day of margin for time zones)."""
    lookback = max(METRICS.values()) - 1
    low = first - timedelta(days=lookback + 1)
    high = last + timedelta(days=2)
    events = duck.execute(
        "SELECT person_id, event, timestamp FROM events "
        f"WHERE timestamp >= TIMESTAMPTZ '{low} 00:00:00+00' "
        f"AND timestamp < TIMESTAMPTZ '{high} 00:00:00+00'"
    ).to_pandas()
    events["event"] = events["event"].astype("category")
    overrides = duck.execute("SELECT old_person_id, person_id FROM person_overrides").to_pandas()
    return Frames(events, overrides.set_index("old_person_id")["person_id"])


def _active(frames: Frames, inactive: tuple[str, ...], window: int, first: date, last: date):
    """(resolved person, local day) of each active event the series needs (not distinct)."""
    events = frames.events
    lo = pd.Timestamp(first - timedelta(days=window - 1))
    day = events["timestamp"].dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    keep = ~events["event"].isin(inactive) & (day >= lo) & (day <= pd.Timestamp(last))
    person = events["person_id"][keep]
    who = person.map(frames.overrides).fillna(person).astype("int64")
    return who, day[keep], lo


def pandas_series(
    frames: Frames, inactive: tuple[str, ...], window: int, first: date, last: date
) -> Series:
    """Distinct persons active in the `window` days ending on each day of first..last:
    distinct (person, day) pairs, each spread over the days whose window holds it."""
    who, day, _ = _active(frames, inactive, window, first, last)
    pairs = pd.DataFrame({"who": who, "day": day}).drop_duplicates()
    if window > 1:  # a person active on day a counts on days a .. a + window - 1
        offsets = np.tile(np.arange(window).astype("timedelta64[D]"), len(pairs))
        spread = pd.DataFrame(
            {
                "who": np.repeat(pairs["who"].to_numpy(), window),
                "day": np.repeat(pairs["day"].to_numpy(), window) + offsets,
            }
        )
        pairs = spread[
            (spread["day"] >= pd.Timestamp(first)) & (spread["day"] <= pd.Timestamp(last))
        ]
    counts = pairs.groupby("day")["who"].nunique()
    counts = counts.reindex(pd.date_range(first, last, freq="D"), fill_value=0)
    return [(d.date(), int(v)) for d, v in counts.items()]


def pandas_dense_series(
    frames: Frames, inactive: tuple[str, ...], window: int, first: date, last: date
) -> Series:
    """The same by a person x day matrix: a running count of active days along each row;
    a person counts on day d when the count grew in the window ending on d."""
    who, day, lo = _active(frames, inactive, window, first, last)
    row, persons = pd.factorize(who)
    col = (day - lo).dt.days.to_numpy() + 1  # column 0: the day before lo, never active
    active = np.zeros((len(persons), (pd.Timestamp(last) - lo).days + 2), dtype=bool)
    active[row, col] = True
    seen = np.cumsum(active, axis=1, dtype=np.int16)
    counts = (seen[:, window:] - seen[:, :-window] > 0).sum(axis=0)
    return [(d.date(), int(v)) for d, v in zip(pd.date_range(first, last), counts, strict=True)]


# --- timing ------------------------------------------------------------------------------


@dataclass
class Timing:
    median: float
    best: float
    series: Any  # what the run returned (a Series, rows, or an analysis's answer)


def timed(run: Callable[[], list], repeats: int) -> Timing:
    series = run()  # warm-up, and the answer
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        again = run()
        seconds.append(time.perf_counter() - started)
        if again != series:
            raise AssertionError("a repeated run gave a different series")
    return Timing(statistics.median(seconds), min(seconds), series)


def mismatch(name: str, metric: str, expected: Series, got: Series) -> str | None:
    if got == expected:
        return None
    if len(got) != len(expected):
        return f"{metric}: {name} has {len(got)} days, duckdb {len(expected)}"
    diffs = [(a[0], a[1], b[1]) for a, b in zip(expected, got, strict=True) if a != b]
    shown = ", ".join(f"{d}: duckdb {x} vs {name} {y}" for d, x, y in diffs[:5])
    return f"{metric}: {name} differs on {len(diffs)} of {len(expected)} days ({shown})"


@dataclass
class Result:
    scale: str
    events: int
    build: Build
    pandas_load_s: float
    pandas_rows: int
    compile_s: float
    timings: dict[str, dict[str, Timing]]  # metric -> engine -> timing
    problems: list[str]
    profiles: dict[str, Profile] = field(default_factory=dict)  # metric -> compiled SQL's
    batch: dict[str, Timing] = field(default_factory=dict)  # engine -> the 3 in one statement

    def total(self, engine: str) -> float:
        return sum(per[engine].median for per in self.timings.values())

    def together(self, engine: str) -> float:
        """The three series: one batch statement on an engine, else the sum of the three."""
        return self.batch[engine].median if engine in self.batch else self.total(engine)


def run_scale(
    name: str,
    cfg: SynthConfig,
    catalog: Catalog,
    repeats: int,
    say: Callable[[str], None],
    investigate: bool,
) -> Result:
    path, build = duckdb_store(name, cfg, say)
    duck = DuckDBEngine(path, read_only=True)
    chdb = chdb_store(name, duck, build, say)
    try:
        last = last_day(duck)
        first = last - timedelta(days=DAYS - 1)
        started = time.perf_counter()
        compiled: dict[str, dict[str, Compiled]] = {
            m: {
                e.name: compile_query(catalog, query(m, first, last), e.dialect)
                for e in (duck, chdb)
            }
            for m in METRICS
        }
        compile_s = (time.perf_counter() - started) / len(METRICS)
        started = time.perf_counter()
        frames = load_pandas(duck, first, last)
        pandas_load_s = time.perf_counter() - started
        inactive = catalog.event_flags.flagged("inactive")
        timings: dict[str, dict[str, Timing]] = {}
        problems = []
        for metric, window in METRICS.items():
            say(f"{name}: timing {metric} ...")
            per: dict[str, Timing] = {}
            for engine in (duck, chdb):
                # Rendered once, as engine.execute(expression) would render it on every call.
                sql = compiled[metric][engine.name].expression.sql(dialect=engine.dialect)
                per[engine.name] = timed(lambda e=engine, s=sql: rows(e.execute(s)), repeats)
            for label, series in (("pandas", pandas_series), ("pandas dense", pandas_dense_series)):
                per[label] = timed(
                    lambda f=series, w=window: f(frames, inactive, w, first, last), repeats
                )
            expected = per["duckdb"].series
            if len(expected) != DAYS:
                problems.append(f"{metric}: duckdb gave {len(expected)} days, not {DAYS}")
            for other in ENGINES[1:]:
                problem = mismatch(other, metric, expected, per[other].series)
                if problem:
                    problems.append(problem)
            timings[metric] = per
        result = Result(
            name,
            build.events or count(duck, "events"),
            build,
            pandas_load_s,
            len(frames.events),
            compile_s,
            timings,
            problems,
        )
        batch = [query(m, first, last) for m in METRICS]
        for engine in (duck, chdb):
            say(f"{name}: timing the three as one statement on {engine.name} ...")
            sql = compile_batch(catalog, batch, engine.dialect)[1].sql(dialect=engine.dialect)
            timing = timed(lambda e=engine, s=sql: stacked(e.execute(s)), repeats)
            result.batch[engine.name] = timing
            for i, (metric, per) in enumerate(timings.items()):
                got = [(b, v) for m, b, v in timing.series if m == i]
                problem = mismatch(f"{engine.name} batch", metric, per["duckdb"].series, got)
                if problem:
                    problems.append(problem)
        if investigate or result.together("duckdb") >= TARGET_TOTAL_S:
            say(f"{name}: profiling the compiled DuckDB SQL ...")
            for metric in METRICS:
                sql = compiled[metric]["duckdb"].expression.sql(dialect="duckdb")
                result.profiles[metric] = profile(duck, sql)
        return result
    finally:
        chdb.close()
        duck.close()


# --- where DuckDB's time goes, and equivalent SQL written by hand ----------------------------


@dataclass
class Profile:
    wall: float  # the profiler's total time (s)
    cpu: float  # operator time summed over threads (s)
    operators: list[tuple[float, str]]  # (seconds, operator), largest first


def profile(duck: DuckDBEngine, sql: str, runs: int = 3) -> Profile:
    """Median per-operator times from `EXPLAIN (ANALYZE, FORMAT JSON)`, warm."""
    duck.execute(sql)
    walls, cpus, per_op = [], [], {}
    for _ in range(runs):
        plan = json.loads(
            duck.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").column(1)[0].as_py()
        )
        walls.append(plan["query"]["total_time"])
        cpus.append(plan["query"]["cpu_time"])
        seen: dict[str, float] = {}
        stack = list(plan["operator"])
        while stack:
            node = stack.pop()
            info = node.get("extra_info", {})
            detail = next((info[k] for k in OPERATOR_DETAIL if info.get(k)), "")
            detail = ", ".join(detail) if isinstance(detail, list) else str(detail)
            key = f"{node['type']} {detail}".strip()
            seen[key] = seen.get(key, 0.0) + node.get("timing", 0.0)
            stack.extend(node.get("children", []))
        for key, seconds in seen.items():
            per_op.setdefault(key, []).append(seconds)
    operators = sorted(((statistics.median(v), k) for k, v in per_op.items()), reverse=True)
    return Profile(statistics.median(walls), statistics.median(cpus), operators)


OPERATOR_DETAIL = ("Projections", "Groups", "Conditions", "Table", "Expression")


def _cells(seconds: list[float], bold: bool = False) -> list[str]:
    d = seconds[0]
    times = [f"[b]{t:.3f}[/b]" if bold else f"{t:.3f}" for t in seconds]
    return [*times, *(ratio(t, d) for t in seconds[1:])]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "-"


def report(console: Console, results: list[Result], repeats: int, target_scale: str) -> bool:
    table = Table(
        title=f"bench/metrics: {DAYS}-day series ending on the data's last day, {TIMEZONE}, "
        f"warm median of {repeats} ({os.cpu_count()} cores)",
        title_justify="left",
    )
    columns = ("scale", "metric", "duckdb s", "chdb s", "pandas s", "dense s")
    for col in (*columns, "chdb/duckdb", "pandas/duckdb", "dense/duckdb"):
        table.add_column(col, justify="left" if col in ("scale", "metric") else "right")
    for r in results:
        for metric, per in r.timings.items():
            cells = [per[e].median for e in ENGINES]
            table.add_row(r.scale, metric, *_cells(cells))
        totals = [r.total(e) for e in ENGINES]
        table.add_row(r.scale, "3 apart", *_cells(totals))
        together = [r.together(e) for e in ENGINES]
        table.add_row(r.scale, "[b]3 together[/b]", *_cells(together, bold=True),
                      end_section=True)  # fmt: skip
    console.print(table)
    for r in results:
        b = r.build
        console.print(
            f"{r.scale}: {r.events:,} events; generated into DuckDB in {b.generate_s:.1f} s; "
            f"chdb load_from {b.chdb_load_s:.1f} s + OPTIMIZE FINAL {b.chdb_optimize_s:.1f} s "
            f"({sum(b.chdb_rows.values()):,} rows in all tables); pandas load "
            f"{r.pandas_load_s:.2f} s ({r.pandas_rows:,} event rows); compile "
            f"{1000 * r.compile_s:.0f} ms per metric (both dialects, not timed above)",
            highlight=False,
        )
        best = ", ".join(
            f"{m} " + "/".join(f"{per[e].best:.3f}" for e in ENGINES)
            for m, per in r.timings.items()
        )
        console.print(f"{r.scale}: min s (duckdb/chdb/pandas/dense): {best}", highlight=False)
        for problem in r.problems:
            console.print(f"[red]MISMATCH {r.scale} {problem}[/red]")
        if not r.problems:
            console.print(
                f"{r.scale}: duckdb, chdb, pandas and pandas dense series identical",
                highlight=False,
            )
    console.print(
        "3 apart: the three compiled queries one after the other; 3 together: one statement "
        "(catalog/batch.py) for the SQL engines, the three series for pandas",
        highlight=False,
    )
    for r in results:
        if r.profiles:
            report_investigation(console, r)
    ok = all(not r.problems for r in results)
    target = next((r for r in results if r.scale == target_scale), None)
    if target is None:
        console.print(f"targets apply at {TARGET_SCALE} events; not measured (--quick)")
        return ok
    d, c, p, dense = (target.together(e) for e in ENGINES)
    faster = f"duckdb >= {TARGET_PANDAS_RATIO:g}x faster than pandas"
    checks = [
        (f"duckdb total < {TARGET_TOTAL_S} s", d < TARGET_TOTAL_S, f"{d:.3f} s"),
        ("duckdb no slower than chdb", d <= c, f"{d:.3f} vs {c:.3f} s"),
        (f"{faster} (pairs spread)", p >= TARGET_PANDAS_RATIO * d, ratio(p, d)),
        (f"{faster} (dense matrix)", dense >= TARGET_PANDAS_RATIO * d, ratio(dense, d)),
    ]
    for what, met, value in checks:
        verdict = "[green]met[/green]" if met else "[red]MISSED[/red]"
        console.print(f"target at {target.scale}: {what}: {value}: {verdict}")
    return ok


def report_investigation(console: Console, r: Result) -> None:
    console.print(
        f"\n{r.scale}: where the compiled DuckDB SQL spends its time "
        "(EXPLAIN (ANALYZE, FORMAT JSON), warm, median of 3; operator time summed over threads)",
        highlight=False,
    )
    for metric, p in r.profiles.items():
        console.print(
            f"  {metric}: {p.wall:.3f} s wall, {p.cpu:.3f} s operator time", highlight=False
        )
        for seconds, op in p.operators[:6]:
            share = seconds / p.cpu if p.cpu else 0.0
            console.print(f"    {seconds:6.3f} s {share:4.0%}  {op[:95]}", highlight=False)


def main(quick: bool = False) -> None:
    console = Console(width=120)

    def say(text: str) -> None:
        console.print(f"[dim]{text}[/dim]", highlight=False)

    catalog = load_catalog()
    repeats = 3 if quick else 5
    results = [
        run_scale(name, cfg, catalog, repeats, say, investigate=quick)
        for name, cfg in (QUICK if quick else SCALES)
    ]
    if not report(console, results, repeats, TARGET_SCALE):
        raise SystemExit("bench/metrics: the three implementations disagree")


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv[1:])
