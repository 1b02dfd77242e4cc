"""The compiler: a catalog query -> one sqlglot SELECT -> SQL text in any dialect.

Every metric compiles to rows of `bucket` (the local day, week or month start, or the local
hour), one column per breakdown, `currency` where money is summed, `feature` for adoption
without a chosen feature, and `value`. Each step is a named CTE carrying a comment that says
which metric and part it computes, so the SQL reads like the definition.

Ratio and derived metrics compile their parts as CTEs and combine them per bucket and slice;
the active-user, cohort and adoption types live in `activity.py` and `cohorts.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.definitions import Catalog
from sextant.catalog.expressions import parse_formula
from sextant.catalog.models import (
    AverageMetric,
    CountDistinctMetric,
    CountMetric,
    DerivedMetric,
    EventMetric,
    EventSelector,
    Metric,
    PercentileMetric,
    RatioMetric,
    SumMetric,
)
from sextant.catalog.query import MetricQuery
from sextant.catalog.rows import Context, measured, select_rows, time_column
from sextant.catalog.tables import table_columns
from sextant.errors import InvalidInput

ADDITIVE_KINDS = {"count", "count_distinct", "sum", "active_users"}


@dataclass
class Plan:
    """The CTEs of one compiled query, in dependency order, each with its comment."""

    ctes: list[tuple[str, exp.Select, str]] = field(default_factory=list)
    _by_sql: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, select: exp.Select, comment: str) -> str:
        """Add a CTE and return its name; a step already planned (the same SQL, as when
        DAU and MAU read the same active days) is computed once, under its first name."""
        key = select.sql(comments=False)
        if key in self._by_sql:
            return self._by_sql[key]
        taken = {n for n, _, _ in self.ctes}
        unique, i = name, 2
        while unique in taken:
            unique, i = f"{name}_{i}", i + 1
        self.ctes.append((unique, select, comment))
        self._by_sql[key] = unique
        return unique

    def build(self, final: exp.Select) -> exp.Select:
        for name, select, note in self.ctes:
            final = final.with_(name, as_=select)
            final.args["with_"].expressions[-1].add_comments([f" {note} "])
        return final


@dataclass(frozen=True)
class Compiled:
    """A query compiled for one dialect: the expression, its SQL and how to read its rows."""

    query: MetricQuery
    metric: Metric
    dialect: str
    expression: exp.Select
    sql: str
    keys: tuple[str, ...]  # columns identifying a row: bucket, breakdowns, currency, feature
    additive: bool  # a missing bucket means 0 (counts, sums) rather than no value
    grain: str  # the grain of `bucket` (retention buckets are cohorts of its period unit)


def compile_query(catalog: Catalog, query: MetricQuery, dialect: str = "duckdb") -> Compiled:
    """Compile `query` for `dialect`; raises for unknown names, bad parameters, unsupported
    constructs (never a warning)."""
    d.check_dialect(dialect)
    metric = catalog.metric(query.metric)
    if query.parameters:
        metric = metric.with_parameters(query.parameters)
    ctx = Context(catalog, query, dialect, shared_lookback(catalog, [metric]))
    plan = Plan()
    extra = extra_keys(catalog, metric)
    final = compile_metric(ctx, metric, plan, extra)
    tenants = "all tenants" if query.tenants is None else f"tenants {', '.join(query.tenants)}"
    header = (
        f"metric {metric.name} ({metric.type}): {metric.label}; {query.date_from}..{query.date_to}"
        f" in {query.timezone}, grain {grain_of(metric, query)}, {tenants}"
    )
    expression = explicit_precedence(plan.build(final))
    keys = ("bucket", *ctx.dim_names, *extra)
    return Compiled(
        query=query,
        metric=metric,
        dialect=dialect,
        expression=expression,
        sql=f"/* {_comment_text(header)} */\n{d.render(expression, dialect)}",
        keys=keys,
        additive=metric.type in ADDITIVE_KINDS,
        grain=grain_of(metric, query),
    )


ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod)


def explicit_precedence(expression: exp.Select) -> exp.Select:
    """Parenthesise where precedence demands it: trees built by hand carry no parentheses,
    and `a - (b + c)` must not render as `a - b + c`."""
    additive, multiplicative = (exp.Add, exp.Sub), (exp.Mul, exp.Div, exp.IntDiv, exp.Mod)
    for node in list(expression.find_all(*ARITHMETIC, exp.Neg)):
        for key in ("this", "expression"):
            child = node.args.get(key)
            if isinstance(node, exp.Neg):
                needs = isinstance(child, exp.Binary)
            elif isinstance(node, multiplicative):
                needs = isinstance(child, additive) or (
                    key == "expression" and isinstance(child, multiplicative)
                )
            else:
                needs = isinstance(node, exp.Sub) and key == "expression"
                needs = needs and isinstance(child, additive)
            if needs:
                node.set(key, exp.paren(child, copy=False))
    return expression


def _comment_text(text: str) -> str:
    """`text` unable to open or close a /* */ comment (tenant ids are user data)."""
    return text.replace("/*", "/ *").replace("*/", "* /")


def shared_lookback(catalog: Catalog, metrics: list[Metric]) -> int:
    """Days before the range that rolling active-user metrics computed together all read,
    so they share one scan of active person-days (the widest window's)."""
    widest = 0
    for metric in metrics:
        for name in (*catalog.dependencies(metric.name), metric.name):
            one = metric if name == metric.name else catalog.metric(name)
            if one.type == "active_users" and one.window == "rolling":
                widest = max(widest, one.window_days - 1)
    return widest


def grain_of(metric: Metric, query: MetricQuery) -> str:
    return getattr(metric, "period_unit", None) or query.grain


def extra_keys(catalog: Catalog, metric: Metric) -> tuple[str, ...]:
    """Key columns beyond bucket and breakdowns: `currency` where money is added up (amounts
    in different currencies are never added together), `feature` for per-feature adoption."""
    keys: dict[str, None] = {}
    money = metric.unit == "currency" and metric.type in ("sum", "average", "percentile")
    if money and "currency" in table_columns(metric.table):
        keys["currency"] = None
    if metric.type == "adoption" and not getattr(metric, "feature", None):
        keys["feature"] = None
    for ref in metric.references:
        keys.update(dict.fromkeys(extra_keys(catalog, catalog.metric(ref))))
    return tuple(keys)


def compile_metric(ctx: Context, metric: Metric, plan: Plan, extra: tuple[str, ...]) -> exp.Select:
    """The final SELECT of `metric` (its CTEs added to `plan`)."""
    from sextant.catalog import activity, cohorts

    if isinstance(metric, RatioMetric | DerivedMetric):
        return _composite(ctx, metric, plan, extra)
    if isinstance(
        metric, CountMetric | CountDistinctMetric | SumMetric | AverageMetric | PercentileMetric
    ):
        return _aggregate(ctx, metric, plan, extra)
    if metric.type == "active_users":
        return activity.active_users(ctx, metric, plan)
    if metric.type == "adoption":
        return activity.adoption(ctx, metric, plan)
    if metric.type == "retention":
        return cohorts.retention(ctx, metric, plan)
    return cohorts.conversion(ctx, metric, plan)


def bucket(ctx: Context, ts: exp.Expression, grain: str | None = None) -> exp.Expression:
    """The bucket of instant `ts` (a row inside the query's bounds): its local hour, or the
    start of its local day/week/month."""
    grain = grain or ctx.query.grain
    if grain == "hour":
        return d.local_hour(ts, ctx.query.timezone, ctx.dialect)
    day = d.local_date(ts, ctx.query.timezone, ctx.dialect, ctx.query.bounds())
    return d.period_start(day, grain, ctx.query.first_weekday, ctx.dialect)


def keys_of(ctx: Context, extra: tuple[str, ...] = ()) -> list[exp.Column]:
    return [exp.column(name) for name in ("bucket", *ctx.dim_names, *extra)]


def event_condition(ctx: Context, metric: EventMetric) -> exp.Expression | None:
    if metric.table != "events":
        return None
    return ctx.selection(EventSelector(events=metric.events, event_flag=metric.event_flag))


def _aggregate(ctx: Context, metric: EventMetric, plan: Plan, extra: tuple[str, ...]):
    columns = [exp.alias_(bucket(ctx, exp.column(time_column(metric.table), table="r")), "bucket")]
    if isinstance(metric, CountMetric):
        value = exp.func("COUNT", exp.Star())
    else:
        columns.append(exp.alias_(measured(ctx, metric.table, metric.of), "v"))
        v = exp.column("v")
        if isinstance(metric, CountDistinctMetric):
            value = exp.Count(this=exp.Distinct(expressions=[v]))
        elif isinstance(metric, SumMetric):
            value = exp.func("SUM", v)
        elif isinstance(metric, AverageMetric):
            value = exp.func("AVG", v)
        elif ctx.dialect != "bigquery":  # bigquery: the analytic form below
            value = d.quantile_cont(v, metric.quantile, ctx.dialect)
    for key in extra:
        if key not in ("currency",):
            raise InvalidInput("metric_key_unsupported", f"{metric.name} cannot be split by {key}")
        columns.append(exp.alias_(exp.column(key, table="r"), key))
    rows = select_rows(
        ctx,
        metric.table,
        ctx.query.bounds(),
        condition=event_condition(ctx, metric),
        metric_filter=metric.filter,
        columns=columns,
    )
    name = plan.add(f"{metric.name}_rows", rows, f"{metric.name}: {_rows_note(metric)}")
    keys = keys_of(ctx, extra)
    if isinstance(metric, PercentileMetric) and ctx.dialect == "bigquery":
        # BigQuery's exact PERCENTILE_CONT is analytic only: compute it per row, keep one.
        window = d.quantile_window(exp.column("v"), metric.quantile, keys)
        ranked = exp.select("*", exp.alias_(window, "q")).from_(name)
        note = f"{metric.name}: exact quantile in each bucket (analytic form)"
        name = plan.add(f"{metric.name}_quantile", ranked, note)
        value = exp.func("MAX", exp.column("q"))
    return (
        exp.select(*keys, exp.alias_(value, "value"))
        .from_(name)
        .group_by(*[k.copy() for k in keys])
    )


def _rows_note(metric: EventMetric) -> str:
    what = metric.table
    if metric.table == "events" and metric.events:
        what += f" {', '.join(metric.events)}"
    elif metric.table == "events" and metric.event_flag:
        what += f" flagged {metric.event_flag}" if metric.event_flag != "active" else " (active)"
    if metric.filter:
        what += f" where {metric.filter}"
    persons = ", persons resolved through merges" if metric.table in ("events", "sessions") else ""
    return f"{what} in the range{persons}"


def _composite(ctx: Context, metric: RatioMetric | DerivedMetric, plan: Plan, extra):
    """Parts as CTEs, stacked (UNION ALL) with one column per part, then combined per key:
    a part with no row for a key is 0 when it is a count or sum, otherwise no value."""
    refs = metric.references
    parts = {}
    for ref in refs:
        part = ctx.catalog.metric(ref)
        select = compile_metric(ctx, part, plan, extra)
        note = f"{metric.name}: part {ref} ({part.type})"
        parts[ref] = (plan.add(f"{ref}_value", select, note), part)
    keys = keys_of(ctx, extra)
    stacked = None
    for ref, (cte, _) in parts.items():
        cells = [exp.column(k.name) for k in keys] + [
            exp.alias_(
                exp.cast(exp.column("value") if other == ref else exp.Null(), "DOUBLE"),
                f"m_{other}",
            )
            for other in refs
        ]
        branch = exp.select(*cells).from_(cte)
        stacked = branch if stacked is None else exp.union(stacked, branch, distinct=False)
    stack = plan.add(f"{metric.name}_parts", stacked, f"{metric.name}: parts side by side")

    def part_value(ref: str) -> exp.Expression:
        total = exp.func("MAX", exp.column(f"m_{ref}"))
        if parts[ref][1].type in ADDITIVE_KINDS:
            return exp.func("COALESCE", total, exp.Literal.number(0))
        return total

    if isinstance(metric, RatioMetric):
        value = exp.Div(
            this=part_value(metric.numerator),
            expression=exp.func("NULLIF", part_value(metric.denominator), exp.Literal.number(0)),
        )
    else:
        formula, _ = parse_formula(metric.expression)
        value = formula.transform(lambda n: part_value(n.name) if isinstance(n, exp.Column) else n)
    return (
        exp.select(*keys, exp.alias_(value, "value"))
        .from_(stack)
        .group_by(*[k.copy() for k in keys])
    )
