"""The metric compiler: golden SQL for every built-in metric in every dialect, SQL that parses
back and runs, and its safety rules (tenant scope on every read, refused filters, escaped
literals, unknown names and parameters refused)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from sextant.catalog import load_catalog
from sextant.catalog.compiler import Compiled, compile_query
from sextant.catalog.dialects import DIALECTS
from sextant.catalog.query import MetricQuery
from sextant.catalog.results import run_query
from sextant.errors import InvalidInput, NotFound, Unsupported
from sextant.store.engines.clickhouse import ClickHouseEngine
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.schema import TABLES

CATALOG = load_catalog()
TODAY = date(2024, 4, 15)
MARCH = {"from": "2024-03-01", "to": "2024-03-31", "grain": "day", "timezone": "Europe/Paris"}
GOLDEN = Path(__file__).parents[1] / "golden"
RUNNABLE = ("duckdb", "clickhouse")  # the dialects of the engines in this repository


@dataclass(frozen=True)
class Case:
    """One golden query: `tests/golden/<metric>/<name>.<dialect>.sql`."""

    metric: str
    name: str
    options: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def id(self) -> str:
        return f"{self.metric}-{self.name}"

    def query(self, **changes: Any) -> MetricQuery:
        return MetricQuery.parse({"metric": self.metric, **self.options, **changes}, today=TODAY)

    def path(self, dialect: str) -> str:
        return f"{self.metric}/{self.name}.{dialect}.sql"

    @property
    def header(self) -> str:
        q = self.query()
        text = f"-- case: {self.metric} {self.name}: {q.date_from}..{q.date_to}, {q.grain}"
        text += f", {q.timezone}" + (f", weeks start {q.week_start}" if q.grain == "week" else "")
        if q.breakdown:
            text += f"; breakdown {', '.join(q.breakdown)}"
        if q.where:
            text += f"; where {' AND '.join(q.where)}"
        if q.tenants is not None:
            text += f"; tenants {', '.join(q.tenants)}"
        return text


SCOPE = {"tenants": ["t_acme", "t_globex"]}
CASES = [Case(name, "default", MARCH) for name in CATALOG.metrics] + [
    Case(
        "dau",
        "breakdown_where_tenants",
        MARCH | SCOPE | {"breakdown": ["plan"], "where": ["country IN ('FR', 'DE')"]},
    ),
    Case(
        "revenue",
        "breakdown_where_tenants",
        MARCH
        | SCOPE
        | {"breakdown": ["tenant"], "where": ["tenant.properties.industry = 'retail'"]},
    ),
    Case("wau", "week_sunday", MARCH | {"grain": "week", "week_start": "sunday"}),
    # Europe/Paris moves its clocks forward on 2024-03-31: a 23-hour day.
    Case("signups", "hour", MARCH | {"from": "2024-03-30", "grain": "hour"}),
]
BY_ID = {case.id: case for case in CASES}
# (metric, case, dialect) -> part of the `sql_unsupported` message: pairs a dialect cannot
# express, refused instead of rendered. None at present (BigQuery's exact quantiles use the
# analytic PERCENTILE_CONT); any new refusal fails test_compiled_sql_matches_golden_file.
UNSUPPORTED: dict[tuple[str, str, str], str] = {}
PAIRS = [
    pytest.param(case, dialect, id=f"{case.id}-{dialect}") for case in CASES for dialect in DIALECTS
]
RUNNABLE_PAIRS = [p for p in PAIRS if p.values[1] in RUNNABLE]


@functools.cache
def compiled(case_id: str, dialect: str) -> Compiled:
    return compile_query(CATALOG, BY_ID[case_id].query(), dialect)


def golden_text(case: Case, dialect: str) -> str:
    return f"{case.header}\n{compiled(case.id, dialect).sql}\n"


def statement(text: str) -> str:
    """The golden text without its two header comments. ClickHouseEngine.execute runs text
    that does not start with SELECT or WITH as a command, returning no columns."""
    case_line, metric_line, rest = text.split("\n", 2)
    assert case_line.startswith("-- case: ")
    assert metric_line.startswith("/* metric ") and metric_line.endswith(" */")
    return rest


def supported(case: Case, dialect: str) -> bool:
    return (case.metric, case.name, dialect) not in UNSUPPORTED


# --- golden SQL ----------------------------------------------------------------------------


def test_cases_cover_every_builtin_metric():
    assert {case.metric for case in CASES if case.name == "default"} == set(CATALOG.metrics)
    assert len(CATALOG.metrics) >= 20


@pytest.mark.parametrize(("case", "dialect"), PAIRS)
def test_compiled_sql_matches_golden_file(case, dialect, golden):
    if not supported(case, dialect):
        with pytest.raises(Unsupported) as info:
            compiled(case.id, dialect)
        assert (info.value.code, info.value.field) == ("sql_unsupported", "dialect")
        assert UNSUPPORTED[case.metric, case.name, dialect] in info.value.message
        return
    golden.check(case.path(dialect), golden_text(case, dialect))


def test_golden_files_all_belong_to_a_case(golden):
    expected = {case.path(d) for case in CASES for d in DIALECTS if supported(case, d)}
    found = {
        str(path.relative_to(GOLDEN))
        for metric in CATALOG.metrics
        for path in (GOLDEN / metric).glob("*.sql")
    }
    stale = sorted(found - expected)
    if golden.update:
        for name in stale:
            (GOLDEN / name).unlink()
        return
    assert not stale, "golden files without a case (pytest --update-golden removes them)"


@pytest.mark.parametrize(("case", "dialect"), PAIRS)
def test_golden_sql_parses_back_in_its_dialect(case, dialect):
    if not supported(case, dialect):
        pytest.skip("refused for this dialect")
    tree = sqlglot.parse_one(golden_text(case, dialect), read=dialect)
    assert isinstance(tree, exp.Select)
    ctes = [cte.alias for cte in tree.args["with_"].expressions]
    assert ctes == [cte.alias for cte in compiled(case.id, dialect).expression.ctes]
    assert [s.alias_or_name for s in tree.selects] == [*compiled(case.id, dialect).keys, "value"]


def test_every_step_carries_a_comment_naming_its_metric():
    for case in CASES:
        query = compiled(case.id, "duckdb")
        for cte in query.expression.ctes:
            assert cte.comments, f"{case.id}: CTE {cte.alias} has no comment"
            owner = cte.comments[0].strip().split(":")[0]
            assert owner == case.metric or owner in CATALOG.dependencies(case.metric), cte.alias
            assert f"{cte.alias} /* {owner}: " in query.sql


@pytest.fixture(scope="module")
def empty_duckdb(tmp_path_factory):
    with DuckDBEngine(tmp_path_factory.mktemp("empty") / "sextant.duckdb") as engine:
        yield engine


@pytest.fixture(scope="module")
def empty_clickhouse():
    with ClickHouseEngine.embedded() as engine:
        yield engine


@pytest.mark.parametrize(("case", "dialect"), RUNNABLE_PAIRS)
def test_golden_sql_runs_on_an_empty_store(case, dialect, request):
    engine = request.getfixturevalue(f"empty_{dialect}")
    result = engine.execute(statement(golden_text(case, dialect)), timeout=60)
    assert result.column_names == [*compiled(case.id, dialect).keys, "value"]
    assert set(result.column("value").to_pylist()) <= {0, None}


def test_result_keys_name_buckets_slices_currency_and_feature():
    keys = {case.id: compiled(case.id, "duckdb").keys for case in CASES}
    assert keys["dau-default"] == ("bucket",)
    assert keys["dau-breakdown_where_tenants"] == ("bucket", "plan")
    assert keys["revenue-default"] == keys["aov-default"] == ("bucket", "currency")
    assert keys["revenue-breakdown_where_tenants"] == ("bucket", "tenant", "currency")
    assert keys["feature_adoption-default"] == ("bucket", "feature")
    assert keys["retention_m1-default"] == ("bucket",)
    assert compiled("retention_m1-default", "duckdb").grain == "month"


# --- tenant scope ------------------------------------------------------------------------

SCOPED_TABLES = {"events", "orders", "refunds", "sessions"}  # rows of a tenant, read by metrics
LOOKUP_TABLES = {"persons", "person_overrides", "tenants"}  # joined to scoped rows only


def conjuncts(node: exp.Expression) -> list[exp.Expression]:
    node = node.unnest()
    if isinstance(node, exp.And):
        return [*conjuncts(node.left), *conjuncts(node.right)]
    return [node]


def scoped_by(select: exp.Select, tenants: tuple[str, ...]) -> bool:
    """Whether `select`'s WHERE requires tenant_id IN (tenants) (a conjunct, not an OR arm)."""
    where = select.args.get("where")
    return where is not None and any(
        isinstance(c, exp.In)
        and c.this.name == "tenant_id"
        and tuple(e.name for e in c.expressions) == tenants
        for c in conjuncts(where.this)
    )


def joined_on_tenant(select: exp.Select, tenants: tuple[str, ...]) -> bool:
    """Whether `select` is a subquery joined on tenant_id to the rows of a scoped SELECT."""
    subquery, join = select.parent, select.parent and select.parent.parent
    if not (isinstance(subquery, exp.Subquery) and isinstance(join, exp.Join)):
        return False
    outer = join.parent
    rows = outer.args["from_"].this.alias_or_name
    on_tenant = {
        frozenset((eq.left.sql(), eq.right.sql()))
        for eq in conjuncts(join.args["on"])
        if isinstance(eq, exp.EQ)
    }
    pair = frozenset((f"{subquery.alias}.tenant_id", f"{rows}.tenant_id"))
    return pair in on_tenant and scoped_by(outer, tenants)


def unscoped_reads(expression: exp.Select, tenants: tuple[str, ...]) -> list[str]:
    problems = []
    for table in expression.find_all(exp.Table):
        if table.name in SCOPED_TABLES:
            select = table.find_ancestor(exp.Select)
            if not (scoped_by(select, tenants) or joined_on_tenant(select, tenants)):
                problems.append(f"{table.name} read without the scope: {select.sql()[:200]}")
        elif table.name in LOOKUP_TABLES:
            if not isinstance(table.parent, exp.Join):
                problems.append(f"{table.name} read other than as a join")
        elif table.name in TABLES:
            problems.append(f"{table.name}: a stored table this test does not know")
    return problems


SLICED = {"breakdown": ["tenant"], "where": ["tenant.properties.industry = 'retail'"]}


@pytest.mark.parametrize("metric", list(CATALOG.metrics))
@pytest.mark.parametrize("options", [{}, SLICED], ids=["plain", "sliced"])
def test_tenant_scope_guards_every_table_read_when_tenants_are_set(metric, options):
    tenants = ("t_acme", "t'globex")
    case = Case(metric, "scope", MARCH | options)
    expression = compile_query(CATALOG, case.query(tenants=list(tenants)), "duckdb").expression
    assert unscoped_reads(expression, tenants) == []
    everyone = compile_query(CATALOG, case.query(), "duckdb").expression
    assert unscoped_reads(everyone, tenants), "the check finds reads without the scope"


def test_tenant_scope_guards_person_joins_when_slicing_by_person():
    tenants = ("t_acme",)
    query = Case("dau", "scope", MARCH).query(tenants=list(tenants), breakdown=["segment", "role"])
    expression = compile_query(CATALOG, query, "duckdb").expression
    assert "persons" in {t.name for t in expression.find_all(exp.Table)}
    assert unscoped_reads(expression, tenants) == []


@pytest.mark.parametrize("metric", ["signups", "dau", "revenue", "sessions"])
def test_empty_tenant_list_reads_nothing(metric, stores):
    query = Case(metric, "scope", MARCH).query(tenants=[])
    assert "r.tenant_id IN (NULL)" in compile_query(CATALOG, query, "duckdb").sql
    assert {r["value"] for r in rows(stores["duckdb", "all"], query)} <= {0}


# --- two tenants' data -------------------------------------------------------------------

A, B, QUOTED = "t_a", "t_b", "a'b\\c"  # QUOTED: a quote and a backslash, to be escaped


def at(text: str) -> datetime:
    """`MM-DD HH:MM` in 2024, UTC."""
    return datetime.fromisoformat(f"2024-{text}").replace(tzinfo=UTC)


# tenant, person, UTC time, event, session id. Person 3 was merged into person 1.
JOURNEYS = [
    (A, 1, "02-20 10:00", "$pageview", None),  # before the range: MAU lookback
    (A, 1, "03-04 09:00", "signed_up", "s1"),
    (A, 1, "03-04 09:01", "$pageview", "s1"),
    (A, 1, "03-04 09:05", "$pageleave", "s1"),
    (A, 1, "03-05 10:00", "page_created", None),
    (A, 1, "03-05 10:20", "page_edited", None),
    (A, 1, "03-06 18:00", "page_shared", None),
    (A, 2, "03-10 23:30", "signed_up", None),  # 00:30 on 03-11 in Paris
    (A, 2, "03-11 08:00", "comment_added", None),
    (A, 2, "03-11 08:20", "search_performed", None),
    (A, 3, "03-20 12:00", "$pageview", None),
    (A, 2, "04-02 09:00", "$pageview", None),  # the month after signing up
    (B, 101, "02-25 10:00", "$pageview", None),
    (B, 101, "03-04 09:30", "signed_up", "s9"),
    (B, 101, "03-04 09:31", "page_created", "s9"),
    (B, 101, "03-04 09:40", "page_shared", "s9"),
    (B, 102, "03-04 11:00", "signed_up", None),
    (B, 102, "03-05 11:00", "comment_added", None),
    (B, 102, "03-05 11:10", "page_edited", None),
    (B, 102, "03-05 11:50", "block_added", None),
    (B, 103, "03-20 12:00", "signed_up", None),
    (B, 103, "03-20 12:05", "$pageview", None),
    (B, 102, "04-03 09:00", "$pageview", None),
    (QUOTED, 201, "03-12 10:00", "signed_up", None),
]
SITES = {A: ("free", "FR", "/app"), B: ("business", "DE", "/home"), QUOTED: ("plus", "IT", "/")}
MERGES = [(A, 3, 1)]  # tenant, old person, surviving person
# tenant, order id, created, currency, total, test order; order ids repeat across tenants.
ORDERS = [
    (A, 1, "03-05 10:00", "EUR", "100.00", False),
    (A, 2, "03-06 10:00", "EUR", "50.00", True),
    (A, 3, "03-07 10:00", "USD", "20.00", False),
    (B, 1, "03-05 12:00", "EUR", "999.00", False),
    (B, 2, "03-07 12:00", "USD", "400.00", False),
]
REFUNDS = [(A, 1, 1, "03-09 10:00", "10.00"), (B, 1, 1, "03-08 10:00", "300.00")]


def rows_of(tenants: set[str]) -> dict[str, list[dict]]:
    persons = {(t, p) for t, p, *_ in JOURNEYS if t in tenants}
    events = [
        {
            "id": f"{t}-{i}",
            "event": name,
            "timestamp": at(when),
            "distinct_id": f"d{p}",
            "person_id": p,
            "session_id": session,
            "tenant_id": t,
            "plan": SITES[t][0],
            "country": SITES[t][1],
            "device": "desktop",
            "path": SITES[t][2],
            "properties": '{"$browser": "Firefox"}',
        }
        for i, (t, p, when, name, session) in enumerate(JOURNEYS)
        if t in tenants
    ]
    return {
        "tenants": [
            {"tenant_id": t, "name": t, "plan": SITES[t][0], "properties": '{"industry": "retail"}'}
            for t in sorted(tenants)
        ],
        "persons": [
            {"person_id": p, "tenant_id": t, "created_at": at("01-01 00:00"), "segment": "team"}
            for t, p in sorted(persons)
        ],
        "person_overrides": [
            {"old_person_id": old, "person_id": new, "merged_at": at("03-21 00:00")}
            for t, old, new in MERGES
            if t in tenants
        ],
        "events": events,
        "orders": [
            {
                "tenant_id": t,
                "order_id": o,
                "created_at": at(when),
                "currency": currency,
                "total_price": Decimal(total),
                "test": test,
            }
            for t, o, when, currency, total, test in ORDERS
            if t in tenants
        ],
        "refunds": [
            {
                "tenant_id": t,
                "refund_id": r,
                "order_id": o,
                "created_at": at(when),
                "amount": Decimal(amount),
                "currency": "EUR",
            }
            for t, r, o, when, amount in REFUNDS
            if t in tenants
        ],
    }


def load(engine, tenants: set[str]):
    for name, rows in rows_of(tenants).items():
        if rows:
            engine.append(name, pa.Table.from_pylist(rows), dedupe=False)
    return engine


@pytest.fixture(scope="module")
def stores():
    """(dialect, "all" | "alone") -> engine: every tenant's rows, or tenant A's alone."""
    engines = {
        ("duckdb", "all"): load(DuckDBEngine(":memory:"), {A, B, QUOTED}),
        ("duckdb", "alone"): load(DuckDBEngine(":memory:"), {A}),
        ("clickhouse", "all"): load(ClickHouseEngine.embedded(), {A, B, QUOTED}),
        ("clickhouse", "alone"): load(ClickHouseEngine.embedded(), {A}),
    }
    yield engines
    for engine in engines.values():
        engine.close()


def rows(engine, query: MetricQuery) -> list[dict]:
    return run_query(engine, CATALOG, query, today=TODAY, timeout=60).rows


@pytest.mark.parametrize(("case", "dialect"), RUNNABLE_PAIRS)
def test_other_tenants_rows_never_count_when_scoped(case, dialect, stores):
    scoped = rows(stores[dialect, "all"], case.query(tenants=[A]))
    alone = rows(stores[dialect, "alone"], case.query(tenants=None))
    assert scoped == alone


def test_other_tenants_rows_move_unscoped_numbers(stores):
    """The check above is not vacuous: the other tenants' rows change these numbers."""
    for metric in ("dau", "mau", "signups", "sessions", "north_star", "revenue", "refunds"):
        query = BY_ID[f"{metric}-default"].query()
        assert rows(stores["duckdb", "all"], query) != rows(stores["duckdb", "alone"], query)


def test_scoped_numbers_equal_hand_counts_for_one_tenant(stores):
    """Tenant A alone, from JOURNEYS and ORDERS; tenant B's order 1 has the same id as A's
    and a refund of 300.00 that must not lower A's revenue."""
    for dialect in RUNNABLE:
        store = stores[dialect, "all"]

        def nonzero(metric: str, _store=store) -> list[tuple]:
            found = rows(_store, Case(metric, "hand", MARCH).query(tenants=[A]))
            return [tuple(r.values()) for r in found if r["value"]]

        assert nonzero("signups") == [(date(2024, 3, 4), 1), (date(2024, 3, 11), 1)]
        assert nonzero("orders") == [(date(2024, 3, 5), 1), (date(2024, 3, 7), 1)]
        assert nonzero("revenue") == [
            (date(2024, 3, 5), "EUR", 90.0),
            (date(2024, 3, 7), "USD", 20.0),
        ]
        assert nonzero("refunds") == [(date(2024, 3, 9), "EUR", 10.0)]


@pytest.mark.parametrize("dialect", RUNNABLE)
def test_quoted_tenant_id_reads_its_own_rows(dialect, stores):
    query = Case("signups", "quoted", MARCH).query(tenants=[QUOTED])
    found = [r for r in rows(stores[dialect, "all"], query) if r["value"]]
    assert found == [{"bucket": date(2024, 3, 12), "value": 1}]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_duckdb_and_clickhouse_give_identical_answers(case, stores):
    duck = rows(stores["duckdb", "all"], case.query())
    house = rows(stores["clickhouse", "all"], case.query())
    got, want = [r.pop("value") for r in house], [r.pop("value") for r in duck]
    assert house == duck
    assert got == [v if v is None else pytest.approx(v, rel=1e-9) for v in want]


# --- literals and refusals ---------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_string_literals_are_escaped_when_tenants_and_filters_hold_quotes(dialect):
    tenants = ("a'b", "c\\d", 'e"f')
    query = Case("signups", "quoted", MARCH).query(
        tenants=list(tenants), where=["path = 'it''s \\ /*'"]
    )
    tree = sqlglot.parse_one(compile_query(CATALOG, query, dialect).sql, read=dialect)
    scope = next(n for n in tree.find_all(exp.In) if n.this.name == "tenant_id")
    assert tuple(e.name for e in scope.expressions) == tenants
    path = next(n for n in tree.find_all(exp.EQ) if n.this.name == "path")
    assert path.expression.name == "it's \\ /*"


def test_header_comment_stays_a_comment_when_a_tenant_id_holds_comment_end():
    query = Case("signups", "header", MARCH).query(tenants=["x */ DROP TABLE events; /* y"])
    sql = compile_query(CATALOG, query, "duckdb").sql
    assert [type(s) for s in sqlglot.parse(sql, read="duckdb")] == [exp.Select]


@pytest.mark.parametrize(
    ("where", "code", "says"),
    [
        ("plan = (SELECT max(plan) FROM events)", "catalog_filter_subquery", "holds a subquery"),
        ("EXISTS (SELECT 1 FROM orders)", "catalog_filter_subquery", "holds a subquery"),
        ("plan", "catalog_filter_not_predicate", "is a bare column (plan), not a condition"),
        ("lower(plan)", "catalog_filter_not_predicate", "is a function returning a value"),
        ("DROP TABLE events", "catalog_filter_not_predicate", "is a DROP statement"),
        ("plan = 'a' UNION SELECT 1", "catalog_filter_not_predicate", "is a query"),
        ("1 = 1; DROP TABLE events", "catalog_sql_several_statements", "holds 2 statements"),
        ("plan = 'a' OR 1 = 1) --", "catalog_sql_syntax", "cannot parse where condition"),
        ("count(*) > 1", "catalog_filter_aggregate", "uses COUNT(*)"),
    ],
)
def test_where_is_refused_when_not_a_row_predicate(where, code, says):
    query = Case("dau", "where", MARCH).query(where=[where])
    with pytest.raises(InvalidInput) as info:
        compile_query(CATALOG, query, "duckdb")
    error = info.value
    assert (error.status, error.code, error.field) == (400, code, "where")
    assert says in error.message


@pytest.mark.parametrize(
    ("options", "name", "close"),
    [
        ({"breakdown": ["countyr"]}, "countyr", "did you mean 'country'?"),
        ({"where": ["plna = 'free'"]}, "plna", "did you mean 'plan', 'path'?"),
    ],
)
def test_unknown_dimension_is_not_found_with_suggestions(options, name, close):
    with pytest.raises(NotFound) as info:
        compile_query(CATALOG, Case("dau", "dims", MARCH).query(**options), "duckdb")
    error = info.value
    assert (error.status, error.code, error.field) == (404, "unknown_dimension", "dimension")
    assert error.message.startswith(f"unknown dimension {name!r}; {close}; known dimensions: ")
    assert error.hint == close


def test_dimension_is_refused_when_the_metric_table_lacks_its_column():
    query = Case("revenue", "dims", MARCH).query(breakdown=["plan"])
    with pytest.raises(InvalidInput) as info:
        compile_query(CATALOG, query, "duckdb")
    error = info.value
    assert (error.code, error.field) == ("dimension_not_on_table", "breakdown")
    assert error.message == "table orders has no column 'plan' to slice by"


def test_person_dimension_is_refused_when_the_metric_table_has_no_persons():
    query = Case("orders", "dims", MARCH).query(breakdown=["segment"])
    with pytest.raises(InvalidInput) as info:
        compile_query(CATALOG, query, "duckdb")
    assert (info.value.code, info.value.field) == ("dimension_needs_persons", "breakdown")


@pytest.mark.parametrize(
    ("metric", "parameters", "code", "says"),
    [
        ("dau", {"window_days": 3}, "metric_parameter_unknown", "takes no parameter"),
        ("stickiness", {"min_days": 3}, "metric_parameter_unknown", "it takes none"),
        ("power_users", {"window_days": 7}, "metric_parameter_unknown", "it takes min_days"),
        ("power_users", {"min_days": 40}, "metric_parameter_invalid", "may not exceed"),
    ],
)
def test_parameter_is_refused_when_not_declared_or_out_of_range(metric, parameters, code, says):
    query = Case(metric, "params", MARCH).query(parameters=parameters)
    with pytest.raises(InvalidInput) as info:
        compile_query(CATALOG, query, "duckdb")
    error = info.value
    assert (error.status, error.code, error.field) == (400, code, next(iter(parameters)))
    assert says in error.message


def test_declared_parameter_changes_the_sql():
    query = Case("power_users", "params", MARCH).query(parameters={"min_days": 20})
    sql = compile_query(CATALOG, query, "duckdb").sql
    assert "LAG(day, 19)" in sql
    assert "LAG(day, 15)" in compiled("power_users-default", "duckdb").sql


def test_unknown_dialect_is_unsupported():
    with pytest.raises(Unsupported) as info:
        compile_query(CATALOG, BY_ID["dau-default"].query(), "mysql")
    error = info.value
    assert (error.status, error.code, error.field) == (400, "dialect_unknown", "dialect")
    assert error.message == (
        "unknown SQL dialect 'mysql'; expected one of duckdb, clickhouse, postgres, snowflake, "
        "bigquery"
    )


def test_hour_grain_is_refused_when_the_metric_counts_whole_days():
    query = Case("dau", "hour", MARCH).query(grain="hour")
    with pytest.raises(InvalidInput) as info:
        compile_query(CATALOG, query, "duckdb")
    assert (info.value.code, info.value.field) == ("metric_grain_unsupported", "grain")


def test_unknown_metric_is_not_found_with_suggestions():
    with pytest.raises(NotFound) as info:
        compile_query(CATALOG, Case("revenu", "x", MARCH).query(), "duckdb")
    assert (info.value.code, info.value.field) == ("unknown_metric", "metric")
    assert "did you mean 'revenue'" in info.value.message
