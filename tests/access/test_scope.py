"""Tenant scoping holds by construction in the compiler: every metric of the catalog and
every analysis, compiled for a user limited to one tenant, reads each tenant-bearing table
only through a `tenant_id IN (...)` condition on that very table reference. And a query made
while a limited principal is current can neither drop nor widen the limit."""

from __future__ import annotations

import pytest
from sqlglot import exp

from sextant.access.roles import Principal, Role
from sextant.access.scope import acting_as
from sextant.analyses import kinds
from sextant.analyses.run import compile_analysis, parse
from sextant.catalog import load_catalog
from sextant.catalog.compiler import compile_query
from sextant.catalog.query import MetricQuery, RangeQuery
from sextant.errors import Forbidden
from sextant.store.schema import TABLES

CATALOG = load_catalog()
TENANT_TABLES = {t.name for t in TABLES.values() if any(c.name == "tenant_id" for c in t.columns)}
LIMIT = ("ws_000001",)
BODIES = {
    "funnel": {"steps": [{"event": "signed_up"}, {"event": "$pageview"}]},
    "retention": {"start_event": "signed_up", "return_event": "$pageview"},
    "paths": {"event": "signed_up"},
    "experiment": {"experiment": "onboarding-checklist"},
}


def unscoped_reads(statement: exp.Expression) -> list[str]:
    """Tenant-bearing tables read without `<their alias>.tenant_id IN ('ws_000001')` in the
    WHERE of the SELECT that reads them."""
    ctes = {cte.alias for cte in statement.find_all(exp.CTE)}
    bad = []
    for table in statement.find_all(exp.Table):
        if table.name not in TENANT_TABLES or table.name in ctes:
            continue
        select = table.find_ancestor(exp.Select)
        alias = table.alias_or_name
        where = select.args.get("where") if select else None
        guarded = where is not None and any(
            isinstance(cond.this, exp.Column)
            and cond.this.name == "tenant_id"
            and cond.this.table in (alias, "")
            and [e.name for e in cond.expressions] == list(LIMIT)
            for cond in where.find_all(exp.In)
        )
        join_guarded = any(
            isinstance(cond.this, exp.Column)
            and cond.this.name == "tenant_id"
            and cond.this.table == alias
            for join in (select.args.get("joins") or [] if select else [])
            for cond in (join.args.get("on") or exp.true()).find_all(exp.In)
        )
        if not (guarded or join_guarded):
            bad.append(f"{table.name} AS {alias}")
    return bad


@pytest.mark.parametrize("metric", sorted(CATALOG.metrics))
def test_every_metric_reads_tenant_tables_only_within_the_limit(metric):
    query = MetricQuery.parse(
        {"metric": metric, "from": "2025-01-01", "to": "2025-01-31", "tenants": list(LIMIT)}
    )
    compiled = compile_query(CATALOG, query)
    assert unscoped_reads(compiled.expression) == []


@pytest.mark.parametrize("kind", sorted(kinds()))
def test_every_analysis_reads_tenant_tables_only_within_the_limit(kind):
    body = {
        "from": "2025-01-01",
        "to": "2025-01-31",
        "tenants": list(LIMIT),
        **BODIES.get(kind, {}),
    }
    analysis, query = parse(kind, body, CATALOG)
    statements, _ = compile_analysis(analysis, CATALOG, query, "duckdb")
    for name, statement in statements.items():
        assert unscoped_reads(statement) == [], name


def test_a_query_made_for_a_limited_principal_cannot_drop_or_widen_the_limit():
    principal = Principal("pm@example.com", Role.VIEWER, LIMIT)
    body = {"from": "2025-01-01", "to": "2025-01-31"}
    with acting_as(principal):
        assert RangeQuery.parse(body).tenants == LIMIT
        assert RangeQuery.parse({**body, "tenants": list(LIMIT)}).tenants == LIMIT
        with pytest.raises(Forbidden, match="ws_000002"):
            RangeQuery.parse({**body, "tenants": ["ws_000002"]})
        with pytest.raises(Forbidden):
            RangeQuery.parse({**body, "tenants": [*LIMIT, "ws_000002"]})
    assert RangeQuery.parse(body).tenants is None  # no request: no limit (the CLI)
