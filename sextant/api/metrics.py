"""Metric routes: the catalog (every metric, one metric's definition and SQL) and metric queries.

Access: a viewer or higher (api/auth.py); the SQL of a metric or a result is for analysts
and above. Every query reads only the caller's tenants (access/scope.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from sextant.access.roles import Role
from sextant.api.auth import Caller, reader, without_sql
from sextant.catalog import Catalog
from sextant.catalog.batch import run_batch
from sextant.catalog.describe import CatalogSource, metric_detail, metric_summary, parse_query
from sextant.catalog.dialects import DIALECTS
from sextant.catalog.query import RangeQuery
from sextant.catalog.results import ResultCache, run_query
from sextant.catalog.values import MAX_VALUES, dimension_values
from sextant.config import Settings
from sextant.errors import InvalidInput

router = APIRouter(prefix="/api/v1", dependencies=reader("the metric API"))


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalogs.get()


@router.get("/metrics")
def list_metrics(request: Request) -> list[dict[str, Any]]:
    """Every metric in the catalog, by name."""
    return [metric_summary(m) for m in _catalog(request).metrics.values()]


@router.get("/metrics/{name}")
def show_metric(
    name: str,
    request: Request,
    principal: Caller,
    dialect: Annotated[
        list[str] | None,
        Query(description=f"add the SQL for these dialects: {', '.join(DIALECTS)}, or all"),
    ] = None,
) -> dict[str, Any]:
    """A metric's definition, origin, dependencies, dimensions and (on request, for analysts
    and above) its SQL."""
    state = request.app.state
    if dialect:
        principal.require(Role.ANALYST, "a metric's SQL")
    catalog = _catalog(request)
    catalog.metric(name)  # unknown names get 404 before any other work
    dialects = list(DIALECTS) if "all" in (dialect or ()) else list(dict.fromkeys(dialect or ()))
    dimensions = state.catalogs.dimensions_for(catalog, name)
    return metric_detail(catalog, name, state.settings, dialects=dialects, dimensions=dimensions)


@router.post("/query")
def query_metric(
    request: Request,
    principal: Caller,
    body: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {"metric": "dau", "range": "last_30_days", "grain": "day"},
                {"metrics": ["dau", "wau", "mau"], "range": "last_30_days"},
            ],
            description="metric (or metrics: a list), from/to or range, grain, timezone, "
            "week_start, breakdown, where, tenants, parameters",
        ),
    ],
) -> dict[str, Any]:
    """Run a metric query; a repeat on unchanged data is served from the result cache.

    With `metrics` (a list of names) instead of `metric`, every metric is computed over the
    same range and slices, those that can in one statement (a dashboard's numbers), and the
    answer is `{"results": [...]}` in the order asked."""
    state = request.app.state
    catalog = _catalog(request)
    names = body.get("metrics")
    if names is None:
        query = parse_query(body, state.settings)
        result = run_query(state.engine, catalog, query, cache=state.result_cache)
        return without_sql(result.as_dict(), principal)
    if not isinstance(names, list) or not names or "metric" in body:
        raise InvalidInput(
            "query_metrics_invalid",
            "metrics: expected a non-empty list of metric names (and no `metric`)",
            field="metrics",
        )
    rest = {k: v for k, v in body.items() if k != "metrics"}
    queries = [parse_query({**rest, "metric": name}, state.settings) for name in names]
    results = run_batch(state.engine, catalog, queries, cache=state.result_cache)
    return {"results": [without_sql(r.as_dict(), principal) for r in results]}


@router.get("/dimensions/{name}/values")
def list_dimension_values(
    name: str,
    request: Request,
    principal: Caller,
    date_range: Annotated[
        str | None, Query(alias="range", description="a preset such as last_30_days")
    ] = None,
    date_from: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD")] = None,
    timezone: str | None = None,
    where: Annotated[list[str] | None, Query(description="conditions, as in queries")] = None,
    tenants: Annotated[list[str] | None, Query(description="tenant ids to read")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_VALUES)] = 100,
) -> dict[str, Any]:
    """The values of a dimension among the sessions of a range, the most frequent first (what
    a dashboard filter offers). Default range: the last 30 complete days."""
    state = request.app.state
    body = {
        "range": date_range,
        "from": date_from,
        "to": date_to,
        "where": where or (),
        "tenants": tenants,
        "timezone": timezone or state.settings.timezone,
    }
    if date_range is None and date_from is None and date_to is None:
        body["range"] = "last_30_days"
    query = RangeQuery.parse({k: v for k, v in body.items() if v is not None})
    values = dimension_values(
        state.engine, _catalog(request), query, name, limit=limit, cache=state.result_cache
    )
    return without_sql(values, principal)


def install(state: Any, settings: Settings) -> None:
    """The per-app catalog and result cache these routes use."""
    state.catalogs = CatalogSource(settings.catalog_dir)
    state.result_cache = ResultCache()
