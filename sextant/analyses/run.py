"""Running an analysis of any kind: parse and validate the query, compile its statements for
the engine's dialect, run them (or take the shaped result from the cache), shape the rows.
The API route, the CLI command and pages all come through `run_analysis`.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from sextant.access.scope import limit_tenants
from sextant.analyses.base import AnalysisQuery, Facts, Statements, unknown_breakdowns
from sextant.analyses.registry import Analysis, get
from sextant.catalog import dialects as d
from sextant.catalog.compiler import explicit_precedence
from sextant.catalog.definitions import Catalog
from sextant.catalog.describe import DEFAULT_RANGE
from sextant.catalog.memo import COMPILED
from sextant.catalog.results import MAX_ROWS, QUERY_TIMEOUT_SECONDS, ResultCache
from sextant.catalog.rows import Context
from sextant.config import Settings
from sextant.errors import InvalidInput
from sextant.store.engine import Engine, is_truncated


@dataclass
class AnalysisResult:
    """An analysis answer: the shaped result, the SQL of each statement and how it ran."""

    kind: str
    query: dict[str, Any]
    result: dict[str, Any]
    sql: dict[str, str]
    dialect: str
    data_version: int
    elapsed_ms: float
    cached: bool = False
    truncated: bool = False
    empty: bool = False
    message: str | None = None  # "No sessions in range ...", for an empty result

    def as_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


def jsonable(value: Any) -> Any:
    """Plain JSON values: dates as ISO text, decimals as floats, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def parse(
    kind: str,
    body: dict[str, Any],
    catalog: Catalog,
    *,
    settings: Settings | None = None,
    today: date | None = None,
) -> tuple[Analysis, AnalysisQuery]:
    """The analysis and its query from an API body or a CLI file (time zone and week start
    default to the settings, dates to the last 30 complete days), with the catalog's names
    resolved (a saved funnel). Checks that need the store come in `validate`."""
    found = get(kind)
    if not isinstance(body, dict):
        raise InvalidInput("analysis_body_invalid", "the query must be a JSON object")
    body = dict(body)
    stated = body.pop("kind", kind)
    if stated != kind:
        raise InvalidInput(
            "analysis_kind_mismatch",
            f"the query says kind {stated!r} but was sent to the {kind} analysis",
            field="kind",
        )
    if settings is not None:
        body = {"timezone": settings.timezone, "week_start": settings.week_start} | body
    if not {"from", "to", "date_from", "date_to", "range"} & set(body):
        body["range"] = DEFAULT_RANGE
    body = {k: v for k, v in body.items() if v is not None}
    return found, found.resolve(found.query.parse(body, today=today), catalog)


def validate(analysis: Analysis, query: AnalysisQuery, facts: Facts) -> None:
    """Raise every problem `analysis` finds with `query` at once."""
    problems = unknown_breakdowns(query, facts) + analysis.validate(query, facts)
    if problems:
        raise InvalidInput.from_problems(problems)


def compile_analysis(
    analysis: Analysis, catalog: Catalog, query: AnalysisQuery, dialect: str
) -> tuple[Statements, dict[str, str]]:
    """The statements of `query` for `dialect` and their SQL, each headed by a comment."""
    d.check_dialect(dialect)
    statements = analysis.build(Context(catalog, query, dialect))
    tenants = "all tenants" if query.tenants is None else f"tenants {', '.join(query.tenants)}"
    sql = {}
    for name, statement in statements.items():
        explicit_precedence(statement)
        header = (
            f"analysis {analysis.kind}, {name}: {query.date_from}..{query.date_to} in "
            f"{query.timezone}, {tenants}"
        )
        header = header.replace("/*", "/ *").replace("*/", "* /")
        sql[name] = f"/* {header} */\n{d.render(statement, dialect)}"
    return statements, sql


def run_analysis(
    engine: Engine,
    catalog: Catalog,
    kind: str,
    body: dict[str, Any],
    *,
    settings: Settings | None = None,
    cache: ResultCache | None = None,
    today: date | None = None,
    timeout: float | None = QUERY_TIMEOUT_SECONDS,
) -> AnalysisResult:
    """Parse, validate, compile, run and shape one analysis."""
    analysis, query = parse(kind, body, catalog, settings=settings, today=today)
    today = today or datetime.now(query.zone).date()
    validate(analysis, query, Facts(catalog, known_events(engine)))
    statements, sql = COMPILED.get(
        catalog,
        ("analysis", kind, engine.dialect, query.model_dump_json()),
        lambda: compile_analysis(analysis, catalog, query, engine.dialect),
    )
    version = engine.data_version
    # The query too: shaping reads options the SQL does not (a readout's correction).
    key = (
        "analysis",
        kind,
        engine.dialect,
        query.model_dump_json(),
        tuple(sql.values()),
        version,
        today,
    )
    if cache is not None and (hit := cache.get(key)) is not None:
        return replace(hit, cached=True, elapsed_ms=0.0)
    started = time.perf_counter()
    rows, truncated = {}, False
    for name, statement in statements.items():
        table = engine.execute(statement, max_rows=MAX_ROWS, timeout=timeout)
        truncated = truncated or is_truncated(table)
        rows[name] = table.to_pylist()
    elapsed = time.perf_counter() - started
    shaped = analysis.shape(query, rows, today)
    empty = bool(shaped.get("empty"))
    result = AnalysisResult(
        kind=kind,
        query=query.model_dump(mode="json", by_alias=True),
        result=shaped,
        sql=sql,
        dialect=engine.dialect,
        data_version=version,
        elapsed_ms=round(elapsed * 1000, 3),
        truncated=truncated,
        empty=empty,
        message=_no_data(analysis, query) if empty else None,
    )
    if cache is not None and engine.data_version == version:
        cache.put(key, result)
    return result


def _no_data(analysis: Analysis, query: AnalysisQuery) -> str:
    return (
        f"No {analysis.noun} in range {query.date_from}..{query.date_to}: choose a wider "
        "range, or check the filters and tenants"
    )


_events_lock = threading.Lock()
_events: weakref.WeakKeyDictionary[
    Engine, dict[tuple[str, ...] | None, tuple[int, frozenset[str]]]
] = weakref.WeakKeyDictionary()  # engine -> tenants -> (data version, names)


def known_events(engine: Engine) -> frozenset[str]:
    """Names of the stored events the current user may know of (their tenants', see
    access/scope.py; every event outside a request), read again only when the data changes.
    A query naming an event seen only in tenants it did not ask for still runs (and finds
    nothing), as it did before tenant limits."""
    tenants = limit_tenants(None)
    version = engine.data_version
    with _events_lock:
        held = _events.get(engine, {}).get(tenants)
        if held is not None and held[0] == version:
            return held[1]
    select = exp.select(exp.column("event")).distinct().from_("events")
    if tenants is not None:
        select = select.where(
            exp.column("tenant_id").isin(*[exp.Literal.string(t) for t in tenants] or [exp.Null()])
        )
    names = frozenset(engine.execute(select).column(0).to_pylist())
    with _events_lock:
        _events.setdefault(engine, {})[tenants] = (version, names)
    return names
