"""SQL inside definitions: filters (row predicates), derived formulas and column or property
sources, each parsed and checked with sqlglot (duckdb dialect) before anything compiles them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

DIALECT = "duckdb"  # the dialect definitions are written in; the compiler renders others

# Functions that return true/false although sqlglot does not class them as predicates.
_BOOLEAN_FUNCS = tuple(
    getattr(exp, name)
    for name in ("StartsWith", "EndsWith", "Contains", "ArrayContains")
    if hasattr(exp, name)
)
# What a derived formula may hold: arithmetic over metric names and a few null-safe helpers.
_FORMULA_NODES = (
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Paren,
    exp.Neg,
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Null,
    exp.Nullif,
    exp.Coalesce,
    exp.Greatest,
    exp.Least,
    exp.Abs,
    exp.Round,
)
_STATEMENTS = {
    "alter", "attach", "command", "commit", "copy", "create", "delete", "describe", "detach",
    "drop", "insert", "merge", "pragma", "rollback", "set", "show", "transaction", "update",
    "use",
}  # fmt: skip
_SOURCE = re.compile(
    r"^(?:(?P<entity>person|tenant)\.)?(?P<rest>[A-Za-z_][A-Za-z0-9_]*)(?P<path>\..+)?$"
)


class ExpressionError(ValueError):
    """A SQL fragment of a definition that is refused; `code` is a stable error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_filter(text: str) -> exp.Expr:
    """The row predicate in `text`; refuses queries, statements, subqueries, aggregates and
    anything that is a value rather than a condition.

    >>> parse_filter("plan = 'free' AND country IN ('FR', 'DE')").sql()
    "plan = 'free' AND country IN ('FR', 'DE')"
    >>> try:
    ...     parse_filter("plan")
    ... except ExpressionError as e:
    ...     print(e.code)
    catalog_filter_not_predicate
    """
    node = _parse_one(text, "filter")
    if isinstance(node, exp.Query) or node.key in _STATEMENTS:
        raise _not_predicate(text, node)
    for inner in node.walk():
        if isinstance(inner, exp.Query):
            raise ExpressionError(
                "catalog_filter_subquery",
                f"filter {text!r} holds a subquery; expected a condition on the row's own "
                "columns (tenant scope is applied by the compiler, which a subquery would skip)",
            )
        if isinstance(inner, exp.Placeholder | exp.Parameter) and not isinstance(
            inner.parent, exp.Column
        ):
            raise ExpressionError(
                "catalog_filter_placeholder",
                f"filter {text!r} holds a placeholder ({inner.sql(DIALECT)}); expected literal "
                "values, such as plan = 'free'",
            )
        if isinstance(inner, exp.AggFunc | exp.Window):
            raise ExpressionError(
                "catalog_filter_aggregate",
                f"filter {text!r} uses {inner.sql(DIALECT)}; expected a condition on one row, "
                "without aggregates or window functions",
            )
    if not _is_predicate(node):
        raise _not_predicate(text, node)
    return node


def parse_formula(text: str) -> tuple[exp.Expr, tuple[str, ...]]:
    """A derived metric's formula and the metric names it uses, in order of first use.

    >>> parse_formula("revenue / NULLIF(orders, 0)")[1]
    ('revenue', 'orders')
    """
    node = _parse_one(text, "expression")
    for inner in node.walk():
        if not isinstance(inner, _FORMULA_NODES) or (isinstance(inner, exp.Column) and inner.table):
            raise ExpressionError(
                "catalog_formula_invalid",
                f"expression {text!r} uses {_describe(inner)}; expected arithmetic (+ - * /) "
                "over metric names and numbers, with NULLIF, COALESCE, GREATEST, LEAST, ABS, "
                "ROUND",
            )
    names = dict.fromkeys(c.name for c in node.find_all(exp.Column))
    return node, tuple(names)


@dataclass(frozen=True)
class Source:
    """Where a dimension or measured value comes from.

    `entity` "row" is the metric's own table (events by default); "person" and "tenant" join
    persons (by resolved person_id) and tenants (by tenant_id). `path` is set for JSON
    property paths, whose `column` is then "properties".
    """

    entity: Literal["row", "person", "tenant"]
    column: str
    path: tuple[str, ...] = ()


def parse_source(text: str) -> Source:
    """A column or property path: `plan`, `person.segment`, `properties.$browser`,
    `person.properties.role`, `tenant.properties.industry` (nested keys: `properties.a.b`).

    >>> parse_source("person.properties.role")
    Source(entity='person', column='properties', path=('role',))
    >>> parse_source("device")
    Source(entity='row', column='device', path=())
    """
    match = _SOURCE.match(text.strip())
    if not match or (match["path"] and match["rest"] != "properties"):
        raise ExpressionError(
            "catalog_source_invalid",
            f"{text!r} is not a column or property path; expected a column such as 'plan', "
            "'person.segment', or a path such as 'properties.$browser', 'person.properties.role'",
        )
    path = tuple(match["path"][1:].split(".")) if match["path"] else ()
    if any(not key for key in path):
        raise ExpressionError("catalog_source_invalid", f"{text!r} has an empty property key")
    return Source(match["entity"] or "row", match["rest"], path)


def _parse_one(text: str, what: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(text, read=DIALECT) if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        raise ExpressionError(
            "catalog_sql_syntax", f"cannot parse {what} {text!r}: {first}"
        ) from None
    if not statements:
        raise ExpressionError("catalog_sql_syntax", f"{what} is empty")
    if len(statements) > 1:
        raise ExpressionError(
            "catalog_sql_several_statements",
            f"{what} {text!r} holds {len(statements)} statements; expected one expression",
        )
    return statements[0]


def _is_predicate(node: exp.Expr) -> bool:
    if isinstance(node, exp.Paren):
        return _is_predicate(node.this)
    if isinstance(node, exp.Connector):
        return _is_predicate(node.left) and _is_predicate(node.right)
    if isinstance(node, exp.Not):
        return _is_predicate(node.this)
    if isinstance(node, exp.Coalesce):
        return any(isinstance(a, exp.Boolean) or _is_predicate(a) for a in node.iter_expressions())
    if isinstance(node, exp.Cast):
        return node.to.is_type("boolean")
    # A user-defined function's result type is unknown here; the engine checks it.
    return isinstance(node, (exp.Predicate, exp.Boolean, exp.Anonymous, *_BOOLEAN_FUNCS))


def _not_predicate(text: str, node: exp.Expr) -> ExpressionError:
    return ExpressionError(
        "catalog_filter_not_predicate",
        f"filter {text!r} is {_describe(node)}, not a condition; expected one true/false "
        "condition on the row, such as plan = 'free' AND path LIKE '/app%'",
    )


def _describe(node: exp.Expr) -> str:
    if isinstance(node, exp.Query):
        return "a query"
    if node.key in _STATEMENTS:
        return f"a {node.key.upper()} statement"
    if isinstance(node, exp.Column):
        return f"a bare column ({node.sql(DIALECT)})"
    if isinstance(node, exp.Func):
        return f"a function returning a value ({node.sql(DIALECT)})"
    return f"a value ({node.sql(DIALECT)})"
