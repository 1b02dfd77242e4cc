"""Product analyses at 1M and 10M generated events: Sextant on DuckDB, Sextant on chdb,
chdb's best hand-written form (windowFunnel, retention, uniqExact) and pandas as an analyst
would write it; warm medians, and every implementation must give the same answer.

Targets (benchmark, not test), at 10M events, warm, on DuckDB: funnel under 0.15 s,
retention matrix under 0.25 s, feature adoption under 0.05 s, session metrics under 0.3 s;
each no slower than chdb's best form and at least 3x faster than pandas.

The stores are bench/metrics' cached ones (`bench/.data/`, rebuilt when the schema or the
generator's settings change). Sextant's SQL is compiled once per engine (the compile time is
reported apart); a timed run executes the statements and shapes the rows. pandas reads the
events, the identity overrides and the stored sessions once (the load time is reported
apart), then each analysis starts from those frames: resolving persons is part of its work.
All analyses use the UTC calendar and ranges ending on the data's last day.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from bench.metrics import (
    QUICK,
    SCALES,
    TARGET_SCALE,
    Timing,
    chdb_store,
    duckdb_store,
    last_day,
    timed,
)
from sextant.analyses.run import compile_analysis, parse
from sextant.catalog import load_catalog
from sextant.catalog.definitions import Catalog
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine

TIMEZONE = "UTC"
FUNNEL = ("$pageview", "signed_up", "page_created", "page_shared")
WINDOW_DAYS = 14
RETENTION_WEEKS = 12
TARGETS = {
    "funnel": 0.15,
    "retention": 0.25,
    "adoption": 0.05,
    "sessions": 0.3,
    "sessions: 5 numbers": 0.3,
}
# "sessions" is the whole analysis (five statements: series, bins, top events and pages...);
# "sessions: 5 numbers" is its summary statement alone, the work the baselines do.
PANDAS_RATIO = 3.0
IMPLEMENTATIONS = ("duckdb", "chdb", "chdb best", "pandas")


@dataclass
class Frames:
    """What pandas starts from: events, the override map and the stored sessions."""

    events: pd.DataFrame  # person_id, event (category), timestamp (UTC)
    overrides: pd.Series  # old_person_id -> person_id
    sessions: pd.DataFrame  # started_at, duration_seconds, events, pageviews

    def who(self, person: pd.Series) -> pd.Series:
        return person.map(self.overrides).fillna(person).astype("int64")


def load_frames(duck: DuckDBEngine) -> Frames:
    events = duck.execute("SELECT person_id, event, timestamp FROM events").to_pandas()
    events["event"] = events["event"].astype("category")
    overrides = duck.execute("SELECT old_person_id, person_id FROM person_overrides").to_pandas()
    sessions = duck.execute(
        "SELECT started_at, duration_seconds, events, pageviews FROM sessions"
    ).to_pandas()
    return Frames(events, overrides.set_index("old_person_id")["person_id"], sessions)


# --- the analyses' questions -----------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """The question every implementation answers, from the data's last day."""

    last: date
    inactive: tuple[str, ...]
    features: tuple[str, ...]

    def days(self, n: int) -> tuple[date, date]:
        return self.last - timedelta(days=n - 1), self.last

    @property
    def retention_range(self) -> tuple[date, date]:
        """RETENTION_WEEKS whole Monday weeks ending with the week of the last day."""
        monday = self.last - timedelta(days=self.last.weekday())
        return monday - timedelta(weeks=RETENTION_WEEKS - 1), self.last


def ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


# --- pandas, as an analyst would write it -----------------------------------------------------


def pandas_funnel(f: Frames, ask: Ask) -> tuple[int, ...]:
    """Persons reaching each step: from each step-1 event in range, the earliest next step
    event at or after the previous one (merge_asof forward), within the window."""
    first, last = ask.days(90)
    lo, hi = ts(first), ts(last + timedelta(days=1))
    window = pd.Timedelta(days=WINDOW_DAYS)
    ev = f.events[f.events["event"].isin(FUNNEL) & (f.events["timestamp"] < hi + window)]
    ev = ev.assign(who=f.who(ev["person_id"])).sort_values("timestamp")
    steps = [ev[ev["event"] == name][["who", "timestamp"]] for name in FUNNEL]
    path = steps[0][(steps[0]["timestamp"] >= lo) & (steps[0]["timestamp"] < hi)]
    path = path.rename(columns={"timestamp": "t0"}).assign(at=lambda x: x["t0"])
    reached = [path["who"].nunique()]
    for k, step in enumerate(steps[1:], start=1):
        nxt = step.rename(columns={"timestamp": f"t{k}"})
        path = pd.merge_asof(
            path.sort_values("at"),
            nxt.assign(at=nxt[f"t{k}"]).sort_values("at"),
            on="at",
            by="who",
            direction="forward",
        )
        path = path[path[f"t{k}"].notna() & (path[f"t{k}"] - path["t0"] <= window)]
        path = path.assign(at=path[f"t{k}"])
        reached.append(path["who"].nunique())
    return tuple(reached)


def pandas_retention(f: Frames, ask: Ask) -> dict[tuple[date, int], int]:
    """Weekly first-time cohorts of signed_up in range; persons active in week N after."""
    first, last = ask.retention_range
    ev = f.events
    week = ev["timestamp"].dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    week = week - pd.to_timedelta(week.dt.weekday, unit="D")
    who = f.who(ev["person_id"])
    starts = (week >= pd.Timestamp(first)) & (ev["event"] == "signed_up")
    cohort = (
        pd.DataFrame({"who": who[starts], "ts": ev["timestamp"][starts], "week": week[starts]})
        .sort_values("ts")
        .drop_duplicates("who")
        .set_index("who")["week"]
    )
    cohort = cohort[cohort <= pd.Timestamp(last)]
    active = ~ev["event"].isin(ask.inactive) & (week >= pd.Timestamp(first))
    seen = pd.DataFrame({"who": who[active], "week": week[active]}).drop_duplicates()
    seen = seen[seen["who"].isin(cohort.index)]
    seen["cohort"] = seen["who"].map(cohort)
    seen["n"] = (seen["week"] - seen["cohort"]).dt.days // 7
    seen = seen[(seen["n"] >= 1) & (seen["n"] < RETENTION_WEEKS)]
    cells = seen.groupby(["cohort", "n"])["who"].nunique()
    out = {(c.date(), 0): int(v) for c, v in cohort.value_counts().items()}
    out.update({(c.date(), int(n)): int(v) for (c, n), v in cells.items()})
    return out


def pandas_adoption(f: Frames, ask: Ask) -> tuple[int, list[tuple[str, int]]]:
    """Active persons in the last 30 days and the top 10 features by distinct persons."""
    first, last = ask.days(30)
    ev = f.events
    inside = (ev["timestamp"] >= ts(first)) & (ev["timestamp"] < ts(last + timedelta(days=1)))
    ev = ev[inside & ~ev["event"].isin(ask.inactive)]
    ev = ev.assign(who=f.who(ev["person_id"]))
    features = ev[ev["event"].isin(ask.features)]
    users = features.groupby("event", observed=True)["who"].nunique()
    top = sorted(((str(k), int(v)) for k, v in users.items() if v), key=lambda x: (-x[1], x[0]))
    return int(ev["who"].nunique()), top[:10]


def pandas_sessions(f: Frames, ask: Ask) -> tuple:
    """Sessions starting in the last 30 days: count, mean/p50/p95 duration, bounces."""
    first, last = ask.days(30)
    s = f.sessions
    s = s[(s["started_at"] >= ts(first)) & (s["started_at"] < ts(last + timedelta(days=1)))]
    d = s["duration_seconds"]
    bounced = ((s["pageviews"] == 1) & (s["events"] == 1)) | (d < 10)
    return session_answer(len(s), d.mean(), d.quantile(0.5), d.quantile(0.95), bounced.sum())


def session_answer(n: int, mean: float, p50: float, p95: float, bounced: int) -> tuple:
    return (int(n), round(float(mean), 3), round(float(p50), 3), round(float(p95), 3), int(bounced))


def pandas_stickiness(f: Frames, ask: Ask) -> dict[int, int]:
    """Persons by their number of distinct active days in the last 30 days."""
    first, last = ask.days(30)
    ev = f.events
    inside = (ev["timestamp"] >= ts(first)) & (ev["timestamp"] < ts(last + timedelta(days=1)))
    ev = ev[inside & ~ev["event"].isin(ask.inactive)]
    day = ev["timestamp"].dt.tz_convert(TIMEZONE).dt.date
    days = pd.DataFrame({"who": f.who(ev["person_id"]), "day": day}).groupby("who")["day"]
    return {int(k): int(v) for k, v in days.nunique().value_counts().items()}


def pandas_lifecycle(f: Frames, ask: Ask) -> dict[tuple[date, str], int]:
    """Weekly new / returning / resurrecting / dormant over the last 12 weeks, first
    activity taken from the whole history."""
    first, last = ask.days(84)
    ev = f.events[~f.events["event"].isin(ask.inactive)]
    ev = ev[ev["timestamp"] < ts(last + timedelta(days=1))]
    day = ev["timestamp"].dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    week = day - pd.to_timedelta(day.dt.weekday, unit="D")
    weeks = pd.DataFrame({"who": f.who(ev["person_id"]), "week": week}).drop_duplicates()
    born = weeks.groupby("who")["week"].min()
    start = pd.Timestamp(first - timedelta(days=first.weekday()))
    shown = pd.date_range(start, pd.Timestamp(last), freq="7D")
    active = set(zip(weeks["who"], weeks["week"], strict=True))
    recent = weeks[weeks["week"] >= start - pd.Timedelta(days=7)]
    out: dict[tuple[date, str], int] = {}
    for who, week in zip(recent["who"], recent["week"], strict=True):
        if week >= start:
            before = (who, week - pd.Timedelta(days=7)) in active
            status = "new" if born[who] == week else "returning" if before else "resurrecting"
            out[(week.date(), status)] = out.get((week.date(), status), 0) + 1
        after = week + pd.Timedelta(days=7)
        if after in shown and (who, after) not in active:
            out[(after.date(), "dormant")] = out.get((after.date(), "dormant"), 0) - 1
    return out


def pandas_paths(f: Frames, ask: Ask) -> dict[tuple[str, str], int]:
    """The three events after each person's first signed_up in the last 30 days, in the same
    visit (gaps up to 30 min), repeats collapsed; the top 5 per level, the rest "other"."""
    first, last = ask.days(30)
    ev = f.events
    ev = ev[(ev["timestamp"] >= ts(first)) & (ev["timestamp"] < ts(last + timedelta(days=1)))]
    ev = ev.assign(who=f.who(ev["person_id"]), event=ev["event"].astype(str))
    ev = ev.sort_values(["who", "timestamp"], kind="stable")
    gap = ev.groupby("who")["timestamp"].diff() > pd.Timedelta(minutes=30)
    ev = ev.assign(visit=gap.groupby(ev["who"]).cumsum())
    same = ev["event"].eq(ev.groupby(["who", "visit"])["event"].shift())
    ev = ev[~same]
    starts = ev[ev["event"] == "signed_up"].drop_duplicates("who")
    ev = ev.assign(n=ev.groupby(["who", "visit"]).cumcount())
    pos = ev.loc[starts.index, ["who", "visit", "n"]]
    after = ev.merge(pos, on=["who", "visit"], suffixes=("", "_start"))
    after = after[(after["n"] >= after["n_start"]) & (after["n"] <= after["n_start"] + 3)]
    level = (after["n"] - after["n_start"]).to_numpy()
    steps = pd.DataFrame({"who": after["who"].to_numpy(), "level": level,
                          "event": after["event"].to_numpy()})  # fmt: skip
    out: dict[tuple[str, str], int] = {}
    names: dict[tuple[int, str], str] = {}
    for lvl, group in steps.groupby("level"):
        top = group["event"].value_counts()
        top = sorted(top.items(), key=lambda x: (-x[1], x[0]))[:5] if lvl else top.items()
        kept = {name for name, _ in top}
        for name in group["event"].unique():
            names[(lvl, name)] = f"{lvl}:{name}" if name in kept else f"{lvl}:(other)"
    wide = steps.pivot(index="who", columns="level", values="event")
    for lvl in range(1, 4):
        if lvl not in wide:
            break
        pairs = wide[[lvl - 1, lvl]].dropna()
        for (a, b), n in pairs.value_counts().items():
            key = (names[(lvl - 1, a)], names[(lvl, b)])
            out[key] = out.get(key, 0) + int(n)
    return out


# --- chdb's best forms, written by hand --------------------------------------------------------


def _who() -> str:
    return "if(o.person_id IS NULL, e.person_id, o.person_id)"


def chdb_funnel(chdb: ClickHouseEngine, ask: Ask) -> tuple[int, ...]:
    first, last = ask.days(90)
    hi = last + timedelta(days=1)
    conds = ", ".join(
        [f"e.event = '{FUNNEL[0]}' AND e.timestamp >= '{first}' AND e.timestamp < '{hi}'"]
        + [f"e.event = '{name}'" for name in FUNNEL[1:]]
    )
    names = ", ".join(f"'{n}'" for n in FUNNEL)
    sql = f"""
        SELECT level, count() AS persons FROM (
          SELECT {_who()} AS who,
                 windowFunnel({WINDOW_DAYS * 86400})(toDateTime(e.timestamp), {conds}) AS level
          FROM events AS e LEFT JOIN person_overrides AS o ON o.old_person_id = e.person_id
          WHERE e.event IN ({names}) AND e.timestamp >= '{first}'
            AND e.timestamp < toDateTime64('{hi}', 6, 'UTC') + INTERVAL {WINDOW_DAYS} DAY
          GROUP BY who
        ) WHERE level > 0 GROUP BY level
    """
    levels = dict(_pairs(chdb.execute(sql), "level", "persons"))
    return tuple(sum(v for k, v in levels.items() if k >= step) for step in range(1, 5))


def chdb_retention(chdb: ClickHouseEngine, ask: Ask) -> dict[tuple[date, int], int]:
    first, last = ask.retention_range
    hi = last + timedelta(days=1)
    inactive = ", ".join(f"'{e}'" for e in ask.inactive)
    flags = ", ".join(f"has(weeks, cohort + {7 * n})" for n in range(1, RETENTION_WEEKS))
    sql = f"""
        WITH people AS (
          SELECT {_who()} AS who, e.event AS event, e.timestamp AS ts
          FROM events AS e LEFT JOIN person_overrides AS o ON o.old_person_id = e.person_id
          WHERE e.timestamp >= '{first}' AND e.timestamp < '{hi}'
        ),
        cohorts AS (
          SELECT who, toMonday(toDate(argMin(ts, ts), 'UTC')) AS cohort
          FROM people WHERE event = 'signed_up' GROUP BY who
        ),
        active AS (
          SELECT who, groupUniqArray(toMonday(toDate(ts, 'UTC'))) AS weeks
          FROM people WHERE event NOT IN ({inactive}) GROUP BY who
        )
        SELECT cohort, retention(1, {flags}) AS r
        FROM cohorts LEFT JOIN active USING (who)
        GROUP BY cohort, who
    """
    out: dict[tuple[date, int], int] = {}
    table = chdb.execute(f"SELECT cohort, sumForEach(r) AS cells FROM ({sql}) GROUP BY cohort")
    for cohort, cells in zip(
        *(table.column(c).to_pylist() for c in ("cohort", "cells")), strict=True
    ):
        for n, persons in enumerate(cells):
            if persons:
                out[(cohort, n)] = int(persons)
    return out


def chdb_adoption(chdb: ClickHouseEngine, ask: Ask) -> tuple[int, list[tuple[str, int]]]:
    first, last = ask.days(30)
    hi = last + timedelta(days=1)
    inactive = ", ".join(f"'{e}'" for e in ask.inactive)
    features = ", ".join(f"'{e}'" for e in ask.features)
    sql = f"""
        SELECT (SELECT uniqExact(who) FROM ({_people(first, hi, inactive)})) AS active,
               event, uniqExact(who) AS persons
        FROM ({_people(first, hi, inactive)}) WHERE event IN ({features})
        GROUP BY event ORDER BY persons DESC, event LIMIT 10
    """
    rows = chdb.execute(sql).to_pylist()
    active = int(rows[0]["active"]) if rows else 0
    return active, [(r["event"], int(r["persons"])) for r in rows]


def _people(first: date, hi: date, inactive: str) -> str:
    return f"""
        SELECT {_who()} AS who, e.event AS event
        FROM events AS e LEFT JOIN person_overrides AS o ON o.old_person_id = e.person_id
        WHERE e.timestamp >= '{first}' AND e.timestamp < '{hi}' AND e.event NOT IN ({inactive})
    """


def chdb_sessions(chdb: ClickHouseEngine, ask: Ask) -> tuple:
    first, last = ask.days(30)
    hi = last + timedelta(days=1)
    sql = f"""
        SELECT count() AS n, avg(duration_seconds) AS mean,
               quantileExactInclusive(0.5)(duration_seconds) AS p50,
               quantileExactInclusive(0.95)(duration_seconds) AS p95,
               countIf((pageviews = 1 AND events = 1) OR duration_seconds < 10) AS bounced
        FROM sessions WHERE started_at >= '{first}' AND started_at < '{hi}'
    """
    (row,) = chdb.execute(sql).to_pylist()
    return session_answer(row["n"], row["mean"], row["p50"], row["p95"], row["bounced"])


def _pairs(table: Any, key: str, value: str) -> list[tuple[Any, int]]:
    values = map(int, table.column(value).to_pylist())
    return list(zip(table.column(key).to_pylist(), values, strict=True))


# --- Sextant ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    kind: str
    body: Callable[[Ask], dict[str, Any]]
    answer: Callable[[Any], Any]  # Sextant's shaped result (or rows) -> the common answer
    pandas: Callable[[Frames, Ask], Any] | None = None
    chdb_best: Callable[[ClickHouseEngine, Ask], Any] | None = None
    # Run only this statement and answer from its rows (the same work as the baselines).
    statement: str | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.kind


def _dates(first: date, last: date) -> dict[str, str]:
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": TIMEZONE}


def _funnel_body(ask: Ask) -> dict[str, Any]:
    return {**_dates(*ask.days(90)), "steps": list(FUNNEL), "window": WINDOW_DAYS * 86_400}


def _funnel_answer(result: dict[str, Any]) -> tuple[int, ...]:
    return tuple(step["persons"] for step in result["total"]["steps"])


def _retention_body(ask: Ask) -> dict[str, Any]:
    return {
        **_dates(*ask.retention_range),
        "period": "week",
        "start_event": "signed_up",
        "periods": RETENTION_WEEKS - 1,
        "day_n": [],
    }


def _retention_answer(result: dict[str, Any]) -> dict[tuple[date, int], int]:
    (whole,) = result["slices"]
    return {
        (cohort["cohort"], cell["period"]): cell["persons"]
        for cohort in whole["cohorts"]
        for cell in cohort["cells"]
        if cell["persons"]
    }


def _adoption_answer(result: dict[str, Any]) -> tuple[int, list[tuple[str, int]]]:
    (whole,) = result["slices"]
    return whole["active"], [(f["feature"], f["users"]) for f in whole["features"]]


def _sessions_answer(result: dict[str, Any]) -> tuple:
    (whole,) = result["slices"]
    d = whole["duration"]
    return session_answer(whole["sessions"], d["avg"], d["p50"], d["p95"], whole["bounced"])


def _session_summary_answer(rows: list[dict[str, Any]]) -> tuple:
    (row,) = rows
    return session_answer(
        row["sessions"], row["avg_duration"], row["p50_duration"], row["p95_duration"],
        row["bounced"],
    )  # fmt: skip


def _stickiness_answer(result: dict[str, Any]) -> dict[int, int]:
    (whole,) = result["slices"]
    return {bar["periods"]: bar["persons"] for bar in whole["bars"] if bar["persons"]}


def _lifecycle_answer(result: dict[str, Any]) -> dict[tuple[date, str], int]:
    (whole,) = result["slices"]
    return {
        (p["period"], status): p[status]
        for p in whole["periods"]
        for status in ("new", "returning", "resurrecting", "dormant")
        if p[status]
    }


def _paths_answer(result: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(link["source"], link["target"]): link["persons"] for link in result["links"]}


CASES: list[Case] = [
    Case("funnel", _funnel_body, _funnel_answer, pandas_funnel, chdb_funnel),
    Case("retention", _retention_body, _retention_answer, pandas_retention, chdb_retention),
    Case(
        "adoption",
        lambda ask: {**_dates(*ask.days(30)), "top": 10, "over_time": False},
        _adoption_answer,
        pandas_adoption,
        chdb_adoption,
    ),
    Case(
        "sessions",
        lambda ask: {**_dates(*ask.days(30)), "top": 10},
        _sessions_answer,
        pandas_sessions,
        chdb_sessions,
    ),
    Case(
        "sessions",
        lambda ask: {**_dates(*ask.days(30)), "top": 10},
        _session_summary_answer,
        pandas_sessions,
        chdb_sessions,
        statement="summary",
        label="sessions: 5 numbers",
    ),
    Case("stickiness", lambda ask: _dates(*ask.days(30)), _stickiness_answer, pandas_stickiness),
    Case(
        "lifecycle",
        lambda ask: {**_dates(*ask.days(84)), "grain": "week"},
        _lifecycle_answer,
        pandas_lifecycle,
    ),
    Case(
        "paths",
        lambda ask: {**_dates(*ask.days(30)), "event": "signed_up", "depth": 3, "top": 5},
        _paths_answer,
        pandas_paths,
    ),
]


@dataclass
class Prepared:
    """An analysis compiled for one engine: its statements rendered once."""

    analysis: Any
    query: Any
    sql: dict[str, str]
    statement: str | None = None

    def run(self, engine: DuckDBEngine | ClickHouseEngine, today: date) -> Any:
        if self.statement:
            return engine.execute(self.sql[self.statement]).to_pylist()
        rows = {name: engine.execute(text).to_pylist() for name, text in self.sql.items()}
        return self.analysis.shape(self.query, rows, today)


def prepare(case: Case, catalog: Catalog, ask: Ask, dialect: str) -> Prepared:
    analysis, query = parse(case.kind, case.body(ask), catalog, today=ask.last + timedelta(days=1))
    statements, _ = compile_analysis(analysis, catalog, query, dialect)
    sql = {n: s.sql(dialect=dialect) for n, s in statements.items()}
    return Prepared(analysis, query, sql, case.statement)


# --- timing and the report ----------------------------------------------------------------------


@dataclass
class Result:
    scale: str
    events: int
    load_s: float
    compile_ms: dict[str, float] = field(default_factory=dict)
    timings: dict[str, dict[str, Timing]] = field(default_factory=dict)  # kind -> impl -> t
    problems: list[str] = field(default_factory=list)


def run_scale(name: str, cfg: Any, catalog: Catalog, repeats: int, say) -> Result:
    path, build = duckdb_store(name, cfg, say)
    duck = DuckDBEngine(path, read_only=True)
    chdb = chdb_store(name, duck, build, say)
    try:
        last = last_day(duck)
        flags = catalog.event_flags
        ask = Ask(last, flags.flagged("inactive"), flags.flagged("feature"))
        started = time.perf_counter()
        frames = load_frames(duck)
        result = Result(name, len(frames.events), time.perf_counter() - started)
        for case in CASES:
            say(f"{name}: timing {case.name} ...")
            time_case(case, result, catalog, ask, (duck, chdb), frames, repeats)
        return result
    finally:
        chdb.close()
        duck.close()


def time_case(case: Case, result: Result, catalog: Catalog, ask: Ask, engines, frames, repeats):
    """Time one analysis in every implementation; record any answer unlike DuckDB's."""
    today = ask.last + timedelta(days=1)
    started = time.perf_counter()
    prepared = {e.name: prepare(case, catalog, ask, e.dialect) for e in engines}
    result.compile_ms[case.name] = 1000 * (time.perf_counter() - started) / len(engines)
    per = {
        label: timed(lambda e=engine: case.answer(prepared[e.name].run(e, today)), repeats)
        for label, engine in zip(("duckdb", "chdb"), engines, strict=True)
    }
    if case.chdb_best:
        per["chdb best"] = timed(lambda: case.chdb_best(engines[1], ask), repeats)
    if case.pandas:
        per["pandas"] = timed(lambda: case.pandas(frames, ask), repeats)
    for label, timing in per.items():
        if timing.series != per["duckdb"].series:
            result.problems.append(
                f"{case.name}: {label} differs from duckdb: "
                f"{_brief(timing.series)} vs {_brief(per['duckdb'].series)}"
            )
    result.timings[case.name] = per


def _brief(answer: Any) -> str:
    text = repr(sorted(answer.items())[:6] if isinstance(answer, dict) else answer)
    return text[:300]


def report(console: Console, results: list[Result], repeats: int) -> bool:
    table = Table(
        title=f"bench/analyses: warm median of {repeats} ({os.cpu_count()} cores), UTC; "
        "ratios are the other implementation's time over DuckDB's",
        title_justify="left",
    )
    for col in ("scale", "analysis", *(f"{i} s" for i in IMPLEMENTATIONS)):
        table.add_column(col, justify="left" if col in ("scale", "analysis") else "right")
    for col in ("chdb", "chdb best", "pandas"):
        table.add_column(f"{col}/duckdb", justify="right")
    for r in results:
        for kind, per in r.timings.items():
            d = per["duckdb"].median
            times = [f"{per[i].median:.3f}" if i in per else "-" for i in IMPLEMENTATIONS]
            ratios = [f"{per[i].median / d:.1f}x" if i in per else "-" for i in IMPLEMENTATIONS[1:]]
            table.add_row(r.scale, kind, *times, *ratios)
        table.rows[-1].end_section = True
    console.print(table)
    ok = True
    for r in results:
        compile_ms = ", ".join(f"{k} {v:.0f}" for k, v in r.compile_ms.items())
        console.print(
            f"{r.scale}: {r.events:,} events; pandas load {r.load_s:.2f} s (events, overrides, "
            f"sessions; not timed above); compile ms per engine: {compile_ms}",
            highlight=False,
        )
        for problem in r.problems:
            console.print(f"[red]MISMATCH {r.scale} {problem}[/red]", highlight=False)
        ok = ok and not r.problems
        if not r.problems:
            console.print(f"{r.scale}: every implementation gave the same answers", highlight=False)
    target = next((r for r in results if r.scale == TARGET_SCALE), None)
    if target is None:
        console.print(f"targets apply at {TARGET_SCALE} events; not measured (--quick)")
        return ok
    for kind, limit in TARGETS.items():
        per = target.timings[kind]
        d = per["duckdb"].median
        checks = [(f"under {limit} s", d < limit, f"{d:.3f} s")]
        if "chdb best" in per:
            best = min(per["chdb best"].median, per["chdb"].median)
            checks.append(("no slower than chdb's best", d <= best, f"{d:.3f} vs {best:.3f} s"))
        if "pandas" in per:
            p = per["pandas"].median
            checks.append((f">= {PANDAS_RATIO:g}x faster than pandas", p >= PANDAS_RATIO * d,
                           f"{p / d:.1f}x"))  # fmt: skip
        for what, met, value in checks:
            verdict = "[green]met[/green]" if met else "[red]MISSED[/red]"
            console.print(f"target at {target.scale}: {kind} {what}: {value}: {verdict}")
    return ok


def main(quick: bool = False) -> None:
    console = Console(width=140)

    def say(text: str) -> None:
        console.print(f"[dim]{text}[/dim]", highlight=False)

    catalog = load_catalog()
    repeats = 3 if quick else 5
    results = [run_scale(n, cfg, catalog, repeats, say) for n, cfg in (QUICK if quick else SCALES)]
    if not report(console, results, repeats):
        raise SystemExit("bench/analyses: the implementations disagree")


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv[1:])
