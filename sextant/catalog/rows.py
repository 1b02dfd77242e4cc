"""Row sources for the compiler: the rows of a metric's table inside the query's time bounds,
with persons resolved through identity merges, dimensions and filters applied, and the tenant
scope enforced. Every metric reads its data through `select_rows`, so no compiled query can
skip the scope (DESIGN.md, principle 6).

Table aliases inside a row source: `r` the table's rows, `o` person overrides, `p` persons,
`t` tenants, `rf` refunds per order. The stored `sessions` table holds resolved persons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.definitions import Catalog
from sextant.catalog.dimensions import Dimension
from sextant.catalog.expressions import ExpressionError, Source, parse_filter, parse_source
from sextant.catalog.models import EventSelector
from sextant.catalog.query import RangeQuery
from sextant.errors import InvalidInput, SextantError
from sextant.store.schema import TABLES

RESERVED = {"bucket", "value", "ts", "who", "v", "day", "currency", "feature", "incomplete"}


@dataclass(frozen=True)
class Context:
    """What every compile step needs: the catalog, the query, the target dialect."""

    catalog: Catalog
    query: RangeQuery
    dialect: str
    lookback_days: int = 0  # rolling active-user rows start this many days before the range

    @property
    def dimensions(self) -> list[Dimension]:
        dims = [self.catalog.dimension(name) for name in self.query.breakdown]
        for dim in dims:
            if dim.name in RESERVED:
                raise InvalidInput(
                    "breakdown_reserved",
                    f"breakdown {dim.name!r} clashes with a result column",
                    field="breakdown",
                )
        return dims

    @property
    def dim_names(self) -> list[str]:
        return [dim.name for dim in self.dimensions]

    def selection(self, selector: EventSelector) -> exp.Expression | None:
        """The condition on `r.event` for listed events or a flag (None: every event)."""
        event = exp.column("event", table="r")
        if selector.events:
            return exp.In(this=event, expressions=[exp.Literal.string(e) for e in selector.events])
        flags = self.catalog.event_flags
        if selector.event_flag == "active":
            inactive = flags.flagged("inactive")
            if not inactive:
                return None
            return exp.Not(
                this=exp.In(this=event, expressions=[exp.Literal.string(e) for e in inactive])
            )
        if selector.event_flag:
            names = flags.flagged(selector.event_flag) or ("",)  # nothing flagged: no rows
            return exp.In(this=event, expressions=[exp.Literal.string(e) for e in names])
        return None


def time_column(table: str) -> str:
    column = TABLES[table].time
    if column is None:
        raise InvalidInput(
            "metric_table_untimed", f"table {table} has no time column to place rows in a range"
        )
    return column


def select_rows(
    ctx: Context,
    table: str,
    bounds: tuple[datetime, datetime],
    *,
    condition: exp.Expression | None = None,
    metric_filter: str | None = None,
    columns: Sequence[exp.Expression] = (),
    dims: bool = True,
) -> exp.Select:
    """Rows of `table` with time in [start, end): `ts`, `who` (resolved person, events and
    sessions), each breakdown under its dimension name, plus `columns` (over `r`)."""
    source = exp.alias_(exp.table_(table), "r", table=True)
    resolved = resolved_person(table)
    needs: set[str] = set()
    select = [exp.alias_(exp.column(time_column(table), table="r"), "ts")]
    if resolved is not None:
        select.append(exp.alias_(resolved, "who"))
    if dims:
        select += [
            exp.alias_(_dimension(ctx, table, dim.parsed_source, needs), dim.name)
            for dim in ctx.dimensions
        ]
    select += list(columns)
    wheres = [in_bounds(ctx, table, bounds), *scope(ctx)]
    if condition is not None:
        wheres.append(condition)
    if metric_filter:
        wheres.append(exp.paren(_qualified(parse_filter(metric_filter))))
    wheres += [exp.paren(_where(ctx, table, text, needs)) for text in ctx.query.where]
    for node in select:
        for column in node.find_all(exp.Column):
            if column.table == "rf":
                needs.add("refunds")
    query = exp.select(*select).from_(source)
    query = _joins(query, table, resolved, needs, scope(ctx))
    return query.where(exp.and_(*wheres))


def resolved_person(table: str) -> exp.Expression | None:
    """The person a row of `table` counts for today (after merges), or None."""
    if table == "sessions":
        return exp.column("person_id", table="r")
    if table == "events":
        return exp.func(
            "COALESCE", exp.column("person_id", table="o"), exp.column("person_id", table="r")
        )
    return None


def _joins(query: exp.Select, table: str, resolved, needs: set[str], scope: list[exp.Expression]):
    if table == "events":
        query = query.join(
            exp.alias_(exp.table_("person_overrides"), "o", table=True),
            on=exp.EQ(
                this=exp.column("old_person_id", table="o"),
                expression=exp.column("person_id", table="r"),
            ),
            join_type="LEFT",
        )
    if "person" in needs:
        if resolved is None:
            raise InvalidInput(
                "dimension_needs_persons",
                f"table {table} has no persons; person dimensions apply to events and sessions",
                field="breakdown",
            )
        query = query.join(
            exp.alias_(exp.table_("persons"), "p", table=True),
            on=exp.EQ(this=exp.column("person_id", table="p"), expression=resolved.copy()),
            join_type="LEFT",
        )
    if "tenant" in needs:
        query = query.join(
            exp.alias_(exp.table_("tenants"), "t", table=True),
            on=exp.EQ(
                this=exp.column("tenant_id", table="t"),
                expression=exp.column("tenant_id", table="r"),
            ),
            join_type="LEFT",
        )
    if "refunds" in needs:
        refunded = (
            exp.select(
                "tenant_id",
                "order_id",
                exp.alias_(exp.func("SUM", exp.column("amount")), "refunded"),
            )
            .from_(exp.alias_(exp.table_("refunds"), "r", table=True))
            .group_by("tenant_id", "order_id")
        )
        if scope:
            refunded = refunded.where(exp.and_(*scope))
        query = query.join(
            refunded.subquery("rf"),
            on=exp.and_(
                exp.EQ(
                    this=exp.column("tenant_id", table="rf"),
                    expression=exp.column("tenant_id", table="r"),
                ),
                exp.EQ(
                    this=exp.column("order_id", table="rf"),
                    expression=exp.column("order_id", table="r"),
                ),
            ),
            join_type="LEFT",
        )
    return query


def column(table: str, name: str) -> exp.Expression:
    """A column of `table` (stored, computed or derived) over the row alias `r`; the one
    computed column, orders.net_total, subtracts the order's refunds (joined as `rf`)."""
    if table == "orders" and name == "net_total":
        refunded = exp.func("COALESCE", exp.column("refunded", table="rf"), exp.Literal.number(0))
        return exp.Sub(this=exp.column("total_price", table="r"), expression=refunded)
    return exp.column(name, table="r")


def measured(ctx: Context, table: str, text: str) -> exp.Expression:
    """The value a sum/average/percentile/count_distinct metric reads (`of`)."""
    source = parse_source(text)
    if source.entity == "row" and not source.path:
        if text == "person_id" and table in ("events", "sessions"):
            return resolved_person(table)
        return column(table, source.column)
    raise InvalidInput(
        "metric_source_unsupported",
        f"{text!r}: measured values are columns of the metric's table",
        field="of",
    )


def _dimension(ctx: Context, table: str, source: Source, needs: set[str]) -> exp.Expression:
    alias = {"row": "r", "person": "p", "tenant": "t"}[source.entity]
    if source.entity != "row":
        needs.add(source.entity)
    elif source.column not in _columns(table):
        raise InvalidInput(
            "dimension_not_on_table",
            f"table {table} has no column {source.column!r} to slice by",
            field="breakdown",
            hint="slice by tenant or a tenant.<column> dimension instead",
        )
    base = exp.column(source.column, table=alias)
    if source.path:
        return d.json_text(base, source.path, ctx.dialect)
    return base


def _columns(table: str) -> set[str]:
    return {c.name for c in TABLES[table].columns}


def _where(ctx: Context, table: str, text: str, needs: set[str]) -> exp.Expression:
    """A query filter: a condition whose columns are dimension names."""
    try:
        node = parse_filter(text)
    except ExpressionError as exc:
        message = exc.message.replace("filter", "where condition", 1)
        raise InvalidInput(exc.code, message, field="where") from None

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            # `properties.$lib` parses as a placeholder named lib: give back its `$`.
            name = ".".join(
                f"${p.name}" if isinstance(p, exp.Placeholder) else p.name for p in node.parts
            )
            dim = ctx.catalog.dimension(name)
            return _dimension(ctx, table, dim.parsed_source, needs)
        return node

    return node.transform(swap)


def _qualified(node: exp.Expression) -> exp.Expression:
    """A metric filter's bare columns, read from the row alias `r`."""
    node = node.copy()
    for column in node.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier("r"))
    return node


def in_bounds(ctx: Context, table: str, bounds: tuple[datetime, datetime]) -> exp.Expression:
    ts = exp.column(time_column(table), table="r")
    lo, hi = (d.instant(b, ctx.dialect) for b in bounds)
    return exp.and_(exp.GTE(this=ts, expression=lo), exp.LT(this=ts, expression=hi.copy()))


def scope(ctx: Context, alias: str = "r") -> list[exp.Expression]:
    tenants = ctx.query.tenants
    if tenants is None:
        return []
    values = [exp.Literal.string(t) for t in tenants] or [exp.Null()]
    return [exp.In(this=exp.column("tenant_id", table=alias), expressions=values)]


def row_condition(ctx: Context, table: str, text: str, field: str) -> exp.Expression:
    """A `where`-style condition (columns are dimension names or property paths) over the
    row alias `r` of `table` alone, for an analysis's per-row flags (a funnel step's
    filters). Person and tenant dimensions would need joins `select_rows` adds only for its
    own `where`: they are refused here, with `field`."""
    needs: set[str] = set()
    try:
        node = _where(ctx, table, text, needs)
    except SextantError as exc:
        raise InvalidInput(exc.code, exc.message, field=field, hint=exc.hint) from None
    if needs:
        raise InvalidInput(
            "row_condition_needs_join",
            f"{text!r}: this condition may read only the {table} row's own columns and "
            f"properties, not {' or '.join(sorted(needs))} dimensions",
            field=field,
        )
    return exp.paren(node)
