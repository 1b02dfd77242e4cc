"""Running a compiled metric: rows from the engine, shaped for people, cached by SQL and data
version (a repeat is served from memory and can never be stale: every store write bumps the
version).

Shaping turns engine types into plain values (dates, naive local hours, ints, floats),
fills buckets without data (0 for counts and sums, no value otherwise), orders rows, and
flags cohorts whose period has not fully elapsed as incomplete.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sextant.catalog.compiler import Compiled, compile_query
from sextant.catalog.definitions import Catalog
from sextant.catalog.memo import COMPILED
from sextant.catalog.query import MetricQuery
from sextant.store.engine import Engine, is_truncated

MAX_ROWS = 100_000
QUERY_TIMEOUT_SECONDS = 60.0
WHOLE_UNITS = {"persons", "tenants", "sessions", "orders", "events", "count"}


@dataclass
class MetricResult:
    metric: str
    label: str
    description: str
    unit: str
    grain: str
    timezone: str
    date_from: date
    date_to: date
    keys: list[str]
    rows: list[dict[str, Any]]
    sql: str
    dialect: str
    data_version: int
    elapsed_ms: float
    cached: bool = False
    truncated: bool = False
    definition: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["date_from"], out["date_to"] = self.date_from.isoformat(), self.date_to.isoformat()
        out["rows"] = [{k: _jsonable(v) for k, v in row.items()} for row in self.rows]
        return out


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


class ResultCache:
    """Shaped results (metrics and analyses) by dialect, SQL and data version, least recently
    used first out."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple, result: Any) -> None:
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def remembered(
    cache: ResultCache | None, engine: Engine, key: tuple, compute: Callable[[], Any]
) -> tuple[Any, bool]:
    """`compute()`, or its answer for `key` on this data version from `cache`; an answer is
    not kept when the data changed while it was computed. Also says whether it was cached."""
    version = engine.data_version
    full = (*key, version)
    if cache is not None and (hit := cache.get(full)) is not None:
        return hit, True
    value = compute()
    if cache is not None and engine.data_version == version:
        cache.put(full, value)
    return value, False


def run_query(
    engine: Engine,
    catalog: Catalog,
    query: MetricQuery,
    *,
    cache: ResultCache | None = None,
    today: date | None = None,
    timeout: float | None = QUERY_TIMEOUT_SECONDS,
) -> MetricResult:
    """Compile `query` for the engine's dialect, run it (or take it from `cache`), shape it."""
    compiled = COMPILED.get(
        catalog,
        ("metric", engine.dialect, query.model_dump_json()),
        lambda: compile_query(catalog, query, engine.dialect),
    )
    today = today or datetime.now(query.zone).date()
    version = engine.data_version
    key = cache_key(compiled, version, today)
    if cache is not None and (hit := cache.get(key)) is not None:
        return replace(hit, cached=True, elapsed_ms=0.0)
    started = time.perf_counter()
    table = engine.execute(compiled.expression, max_rows=MAX_ROWS, timeout=timeout)
    elapsed = time.perf_counter() - started
    result = make_result(compiled, table.to_pylist(), version, elapsed, today)
    result.truncated = is_truncated(table)
    if cache is not None and engine.data_version == version:
        cache.put(key, result)
    return result


def cache_key(compiled: Compiled, version: int, today: date) -> tuple:
    return (compiled.dialect, compiled.sql, version, today)


def make_result(
    compiled: Compiled, rows: list[dict[str, Any]], version: int, seconds: float, today: date
) -> MetricResult:
    """The shaped result of `compiled` from its raw rows."""
    metric, query = compiled.metric, compiled.query
    return MetricResult(
        metric=metric.name,
        label=metric.label,
        description=metric.description,
        unit=metric.unit,
        grain=compiled.grain,
        timezone=query.timezone,
        date_from=query.date_from,
        date_to=query.date_to,
        keys=list(compiled.keys),
        rows=shape(compiled, rows, today),
        sql=compiled.sql,
        dialect=compiled.dialect,
        data_version=version,
        elapsed_ms=round(seconds * 1000, 3),
        definition=metric.model_dump(mode="json", by_alias=True, exclude_defaults=True),
    )


def shape(compiled: Compiled, rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    metric = compiled.metric
    whole = metric.unit in WHOLE_UNITS
    out = _filled(compiled, [{k: _plain(v, whole) for k, v in row.items()} for row in rows])
    if metric.type in ("retention", "conversion"):
        for row in out:
            row["incomplete"] = _incomplete(compiled, row["bucket"], today)
    if "feature" in compiled.keys:  # adoption: most used first, ties by name
        slices = [k for k in compiled.keys if k != "feature"]
        out.sort(key=lambda r: (*(_order(r[k]) for k in slices), -(r["value"] or 0), r["feature"]))
    else:
        out.sort(key=lambda r: tuple(_order(r[k]) for k in compiled.keys))
    return out


def _order(value: Any) -> tuple:
    return (value is None, str(value) if not isinstance(value, int | float) else value)


def _plain(value: Any, whole: bool) -> Any:
    if isinstance(value, Decimal):
        if whole and value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, float) and whole and value.is_integer():
        return int(value)
    return value


def buckets(compiled: Compiled) -> list[date | datetime]:
    """Every bucket of the range at the compiled grain, in order."""
    query, grain = compiled.query, compiled.grain
    if grain == "hour":
        start, end = query.bounds()
        seen: dict[datetime, None] = {}
        at = start
        while at < end:
            local = at.astimezone(query.zone).replace(tzinfo=None, minute=0, second=0)
            seen.setdefault(local)
            at += timedelta(hours=1)
        return list(seen)
    first = query.date_from
    if grain == "week":
        first -= timedelta(days=(first.weekday() - query.first_weekday) % 7)
    elif grain == "month":
        first = first.replace(day=1)
    out, at = [], first
    while at <= query.date_to:
        out.append(at)
        at = _next(at, grain)
    return out


def _next(day: date, grain: str) -> date:
    if grain == "day":
        return day + timedelta(days=1)
    if grain == "week":
        return day + timedelta(days=7)
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _filled(compiled: Compiled, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for buckets without data: for each slice seen (or the whole when unsliced)."""
    if compiled.metric.type in ("retention", "conversion"):
        return rows  # a period without a cohort has no value, not 0 %
    slices = {tuple(r[k] for k in compiled.keys[1:]) for r in rows}
    if not slices and len(compiled.keys) == 1:
        slices = {()}
    have = {tuple(r[k] for k in compiled.keys) for r in rows}
    empty = 0 if compiled.additive else None
    for bucket in buckets(compiled):
        for rest in slices:
            if (bucket, *rest) not in have:
                rows.append(
                    {**dict(zip(compiled.keys, (bucket, *rest), strict=True)), "value": empty}
                )
    return rows


def _incomplete(compiled: Compiled, bucket: date, today: date) -> bool:
    """Whether the cohort's measured period (retention period N, or the conversion window
    after the bucket) has not fully elapsed by the end of yesterday."""
    metric = compiled.metric
    if metric.type == "conversion":
        if isinstance(bucket, datetime):  # an hour bucket
            return bucket.date() + timedelta(days=metric.within_days) >= today
        last = _next(bucket, compiled.grain) - timedelta(days=1)
        return last + timedelta(days=metric.within_days) >= today
    end = bucket
    for _ in range(metric.period + 1):
        end = _next(end, metric.period_unit)
    return end > today


__all__ = ["MetricResult", "ResultCache", "buckets", "run_query", "shape"]
