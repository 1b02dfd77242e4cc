"""The playground's first gate: accept one read-only query over the offered tables, refuse
everything else with a plain reason, and scope each table to the user's tenants.

DuckDB runs the SQL this module renders from the parsed tree (comments dropped), never the
text the user typed, so what was checked is what runs.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from sextant.errors import InvalidInput, Problem
from sextant.playground.tables import ALLOWED_TABLES, TENANT_COLUMN, scoped

DIALECT = "duckdb"
FIELD = "sql"

# Table functions that compute rows and read nothing.
TABLE_FUNCTIONS = (exp.GenerateSeries, exp.Unnest, exp.Explode)
TABLE_FUNCTION_NAMES = "range, generate_series, unnest"

# Functions that read files or reveal the machine, the settings or the catalog.
DENIED_PREFIXES = (
    "duckdb_",
    "pragma_",
    "read_",
    "sniff_",
    "parquet_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "json_execute_",
)
DENIED_FUNCTIONS = frozenset(
    {
        "current_setting",
        "getenv",
        "getvariable",
        "glob",
        "query",
        "query_table",
        "which_secret",
        "load_aws_credentials",
    }
)

_QUERY_STARTS = {
    TokenType.SELECT,
    TokenType.WITH,
    TokenType.FROM,
    TokenType.VALUES,
    TokenType.L_PAREN,
}
# DuckDB statements that are not queries, named in the refusal; other first words are typos.
_STATEMENTS = frozenset(
    [
        "ABORT",
        "ALTER",
        "ANALYZE",
        "ATTACH",
        "BEGIN",
        "CALL",
        "CHECKPOINT",
        "COMMENT",
        "COMMIT",
        "COPY",
        "CREATE",
        "DEALLOCATE",
        "DELETE",
        "DESCRIBE",
        "DETACH",
        "DROP",
        "END",
        "EXECUTE",
        "EXPLAIN",
        "EXPORT",
        "FORCE",
        "GRANT",
        "IMPORT",
        "INSERT",
        "INSTALL",
        "LOAD",
        "MERGE",
        "PIVOT",
        "PRAGMA",
        "PREPARE",
        "RESET",
        "REVOKE",
        "ROLLBACK",
        "SET",
        "SHOW",
        "START",
        "SUMMARIZE",
        "TRUNCATE",
        "UNPIVOT",
        "UPDATE",
        "USE",
        "VACUUM",
    ]
)
MAX_SQL_CHARS = 100_000
_PATH_CHARS = set("/\\:.*?~")
_TOKEN = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: .*?>")
_MISSING = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]+'>")
_TABLES_HINT = "tables you can query: " + ", ".join(ALLOWED_TABLES)


def check(sql: str, tenants: tuple[str, ...] | None) -> str:
    """The DuckDB SQL to run for the user's `sql`, with every offered table read through a
    filter on `tenants` (None: every tenant); raises InvalidInput naming each problem."""
    tree = _one_query(sql)
    try:
        return _scoped(tree, tenants)
    except RecursionError:
        raise _refuse("sql_too_complex", "the query is nested too deeply to read") from None


def _scoped(tree: exp.Expression, tenants: tuple[str, ...] | None) -> str:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    problems = _cte_problems(ctes) + _function_problems(tree)
    tables = []
    for table in list(tree.find_all(exp.Table)):
        problem = _table_problem(table, ctes)
        if problem:
            problems.append(problem)
        elif not isinstance(table.this, exp.Func) and table.name.lower() not in ctes:
            tables.append(table)
    if problems:
        raise InvalidInput.from_problems(_unique(problems))
    for table in tables:
        _scope(table, tenants)
    return tree.sql(dialect=DIALECT, comments=False)


def _refuse(code: str, message: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(code, message, field=FIELD, hint=hint)


def _problem(code: str, message: str, hint: str | None = None) -> Problem:
    return Problem(code, message, FIELD, hint)


def _one_query(sql: str) -> exp.Expression:
    """The single query in `sql`, parsed; refuses empty text, several statements, anything
    that is not a query, and syntax errors."""
    if not sql or not sql.strip():
        raise _refuse("sql_empty", "the query is empty; type one SELECT statement")
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse(
            "sql_too_long", f"the query is {len(sql):,} characters; at most {MAX_SQL_CHARS:,}"
        )
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError:
        raise _refuse(
            "sql_syntax", "syntax error: a string, quoted name or comment is never closed"
        ) from None
    statements = _split(tokens)
    if not statements:
        raise _refuse("sql_empty", "the query holds only comments; type one SELECT statement")
    if len(statements) > 1:
        raise _refuse(
            "sql_many_statements",
            f"found {len(statements)} statements; the playground runs one query at a time",
            hint="remove the extra statements (each ';' starts a new one)",
        )
    first = statements[0][0]
    if first.token_type not in _QUERY_STARTS:
        if first.text.upper() in _STATEMENTS:
            raise _not_a_query(first.text.upper())
        raise _refuse(
            "sql_syntax",
            f"syntax error: a query starts with SELECT, WITH, FROM or VALUES, not {first.text!r}",
        )
    try:
        parsed = [s for s in sqlglot.parse(sql, read=DIALECT) if _is_statement(s)]
    except ParseError as exc:
        raise _syntax_error(exc) from None
    except RecursionError:
        raise _refuse("sql_too_complex", "the query is nested too deeply to read") from None
    if not parsed:
        raise _refuse("sql_empty", "the query is empty; type one SELECT statement")
    tree = parsed[0]
    if not isinstance(tree, exp.Query | exp.Values):
        raise _not_a_query(type(tree).__name__.upper())
    return tree


def _split(tokens: list) -> list[list]:
    statements: list[list] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


def _is_statement(node: exp.Expression | None) -> bool:
    # A trailing comment after the last ';' parses as a Semicolon node holding it.
    return node is not None and not isinstance(node, exp.Semicolon)


def _not_a_query(what: str) -> InvalidInput:
    return _refuse(
        "sql_not_a_query",
        f"{what} statements cannot run here: only queries (SELECT, WITH … SELECT, UNION …) can",
        hint="the playground is read-only: it cannot change data, settings, files or extensions",
    )


def _syntax_error(exc: ParseError) -> InvalidInput:
    """sqlglot's first error, with its place and without sqlglot's internal names."""
    first = exc.errors[0] if exc.errors else {}
    near = first.get("highlight") or ""
    where = f" at line {first['line']}, column {first['col']}" if first.get("line") else ""
    where += f" near {near!r}" if near else ""
    description = _TOKEN.sub(
        lambda m: "the end of the query" if m[1] == "SENTINEL" else repr(m[2]),
        first.get("description") or str(exc),
    )
    description = _MISSING.sub(f"{near or 'a clause'!r} is incomplete", description)
    return _refuse("sql_syntax", f"syntax error{where}: {description}")


def _cte_problems(ctes: set[str]) -> list[Problem]:
    # A WITH name equal to a table would make it ambiguous which one a reference reads.
    return [
        _problem(
            "sql_cte_hides_table",
            f"the WITH name {name!r} hides the {name} table; give it another name",
        )
        for name in sorted(ctes & set(ALLOWED_TABLES))
    ]


def _function_problems(tree: exp.Expression) -> list[Problem]:
    problems = []
    for func in tree.find_all(exp.Func):
        name = _function_name(func)
        if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES):
            problems.append(
                _problem(
                    "sql_function_denied",
                    f"function {name}() is not allowed in the playground: it reads files "
                    "or reveals the server's settings",
                )
            )
        elif _in_from(func) and not isinstance(func, TABLE_FUNCTIONS):
            problems.append(
                _problem(
                    "sql_table_function",
                    f"table function {name}() is not allowed: the playground reads only "
                    "the store's tables",
                    hint=f"allowed table functions: {TABLE_FUNCTION_NAMES}; {_TABLES_HINT}",
                )
            )
    return problems


def _function_name(func: exp.Func) -> str:
    return (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()


def _in_from(func: exp.Func) -> bool:
    """Whether `func` stands where a table goes (not in a join's ON condition)."""
    return func.arg_key == "this" and isinstance(
        func.parent, exp.Table | exp.From | exp.Join | exp.Lateral
    )


def _table_problem(table: exp.Table, ctes: set[str]) -> Problem | None:
    if isinstance(table.this, exp.Func):
        return None  # judged with the other functions
    if not isinstance(table.this, exp.Identifier):
        return _problem(
            "sql_qualified_name",
            f"{table.sql(DIALECT)!r}: name tables by their bare name, such as events",
            hint=_TABLES_HINT,
        )
    name = table.name
    if table.args.get("db") or table.args.get("catalog"):
        return _problem(
            "sql_qualified_name",
            f"{table.sql(DIALECT)!r}: name tables by their bare name ({name}), without a "
            "database or schema",
            hint=_TABLES_HINT,
        )
    if name.lower() in ctes or name.lower() in ALLOWED_TABLES:
        return None
    if _PATH_CHARS & set(name):
        return _problem(
            "sql_file_path",
            f"{name!r} looks like a file path; the playground reads only its tables",
            hint=_TABLES_HINT,
        )
    return _problem(
        "sql_unknown_table",
        f"there is no table {name!r} in the playground; {_TABLES_HINT}",
        hint="tables not listed hold configuration or raw identifiers",
    )


def _scope(table: exp.Table, tenants: tuple[str, ...] | None) -> None:
    """Make `table` read its canonical name and, for a tenant-limited user, only the rows
    of their tenants: `events e` becomes `(SELECT * FROM events WHERE ...) AS e`."""
    name = table.name.lower()
    table.set("this", exp.to_identifier(name))
    if tenants is None or not scoped(name):
        return
    alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(name))
    pivots = table.args.get("pivots")
    inner = table.copy()
    inner.set("alias", None)
    inner.set("pivots", None)
    values = [exp.Literal.string(t) for t in tenants] or [exp.Null()]
    subquery = exp.Subquery(
        this=exp.select("*")
        .from_(inner)
        .where(exp.In(this=exp.column(TENANT_COLUMN), expressions=values)),
        alias=alias,
    )
    if pivots:
        subquery.set("pivots", pivots)
    table.replace(subquery)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: dict[str, Problem] = {}
    for p in problems:
        seen.setdefault(p.message, p)
    return list(seen.values())
