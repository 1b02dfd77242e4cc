"""The playground's guard: every escape attempt is refused before any process starts, with a
message naming the problem; accepted queries come back scoped to the user's tenants."""

from __future__ import annotations

import pytest

from sextant.errors import InvalidInput
from sextant.playground import guard
from sextant.playground.runner import run_sql
from sextant.playground.tables import ALLOWED_TABLES, LEFT_OUT, scoped
from sextant.store.schema import TABLES
from tests.playground.conftest import ACME

REFUSED = [
    # (sql, code, words the message must hold)
    ("", "sql_empty", "empty"),
    ("  -- only a comment\n /* and another */", "sql_empty", "only comments"),
    ("SELECT 1; SELECT 2", "sql_many_statements", "found 2 statements"),
    ("SELECT 1; DROP TABLE events; SELECT 3", "sql_many_statements", "found 3 statements"),
    ("/* hello */ ATTACH '/tmp/other.db' AS other", "sql_not_a_query", "ATTACH"),
    ("COPY events TO '/tmp/events.csv'", "sql_not_a_query", "COPY"),
    ("EXPORT DATABASE '/tmp/dump'", "sql_not_a_query", "EXPORT"),
    ("INSTALL httpfs", "sql_not_a_query", "INSTALL"),
    ("LOAD httpfs", "sql_not_a_query", "LOAD"),
    ("SET enable_external_access = true", "sql_not_a_query", "SET"),
    ("PRAGMA database_list", "sql_not_a_query", "PRAGMA"),
    ("CALL duckdb_settings()", "sql_not_a_query", "CALL"),
    ("CREATE TABLE copy AS SELECT * FROM events", "sql_not_a_query", "CREATE"),
    ("INSERT INTO events SELECT * FROM events", "sql_not_a_query", "INSERT"),
    ("DELETE FROM events", "sql_not_a_query", "DELETE"),
    ("DROP TABLE events", "sql_not_a_query", "DROP"),
    ("UPDATE persons SET plan = 'free'", "sql_not_a_query", "UPDATE"),
    ("WITH x AS (SELECT 1) DELETE FROM events", "sql_not_a_query", "DELETE"),
    ("CHECKPOINT", "sql_not_a_query", "CHECKPOINT"),
    ("SELECT * FROM read_csv('/etc/passwd')", "sql_function_denied", "read_csv()"),
    ("SELECT * FROM read_text('/etc/passwd')", "sql_function_denied", "read_text()"),
    ("SELECT * FROM glob('/*')", "sql_function_denied", "glob()"),
    ("SELECT * FROM read_parquet('sextant.duckdb')", "sql_function_denied", "read_parquet()"),
    ("SELECT * FROM sniff_csv('/etc/passwd')", "sql_function_denied", "sniff_csv()"),
    ("SELECT * FROM query_table('events')", "sql_function_denied", "query_table()"),
    ("SELECT * FROM duckdb_settings()", "sql_function_denied", "duckdb_settings()"),
    ("SELECT current_setting('memory_limit')", "sql_function_denied", "current_setting()"),
    ("SELECT getenv('HOME')", "sql_function_denied", "getenv()"),
    ("SELECT '/etc/passwd'.read_text()", "sql_function_denied", "read_text()"),
    (
        "SELECT id FROM events WHERE id IN (SELECT * FROM read_csv('/etc/passwd'))",
        "sql_function_denied",
        "read_csv()",
    ),
    ("SELECT * FROM my_table_macro(1)", "sql_table_function", "my_table_macro()"),
    ("SELECT * FROM '/etc/passwd'", "sql_file_path", "'/etc/passwd' looks like a file path"),
    ("SELECT * FROM 'data/*.parquet'", "sql_file_path", "file path"),
    ("SELECT * FROM main.events", "sql_qualified_name", "bare name (events)"),
    ('SELECT * FROM "main"."events"', "sql_qualified_name", "without a database or schema"),
    ("SELECT * FROM sextant.main.events", "sql_qualified_name", "bare name"),
    ("SELECT * FROM person_distinct_ids", "sql_unknown_table", "no table 'person_distinct_ids'"),
    ('SELECT * FROM "evеnts"', "sql_unknown_table", "no table 'evеnts'"),  # Cyrillic е
    ("SELECT * FROM duckdb_tables", "sql_unknown_table", "tables you can query: events"),
    (
        "WITH events AS (SELECT * FROM persons) SELECT * FROM events",
        "sql_cte_hides_table",
        "hides the events table",
    ),
    ("SELECT (1", "sql_syntax", "line 1, column"),
    ("SELEC 1", "sql_syntax", "starts with SELECT, WITH, FROM or VALUES, not 'SELEC'"),
    ("SELECT 'open", "sql_syntax", "a string, quoted name or comment is never closed"),
    (
        "SELECT *\nFROM events e JOIN",
        "sql_syntax",
        "line 2, column 18 near 'JOIN': Expected table name but got the end of the query",
    ),
    pytest.param(
        "SELECT " + "(" * 3000 + "1" + ")" * 3000,
        "sql_too_complex",
        "nested too deeply",
        id="deep-nesting",
    ),
    pytest.param("SELECT 1 -- " + "x" * 100_000, "sql_too_long", "at most 100,000", id="long"),
]


@pytest.mark.parametrize(("sql", "code", "words"), REFUSED)
def test_escape_is_refused_before_anything_runs_when_sql_is_unsafe(store, sql, code, words):
    with pytest.raises(InvalidInput) as caught:
        run_sql(sql, store.acme.path, tenants=(ACME,))
    error = caught.value
    assert (error.status, error.code, error.field) == (400, code, "sql")
    assert words in error.message


def test_every_problem_is_reported_at_once_when_a_query_has_several():
    with pytest.raises(InvalidInput) as caught:
        guard.check("SELECT getenv('x') FROM main.events, read_csv('/etc/passwd')", None)
    codes = [p.code for p in caught.value.problems]
    assert codes == ["sql_function_denied", "sql_function_denied", "sql_qualified_name"]


def test_unknown_table_message_lists_the_tables_when_a_name_is_wrong():
    with pytest.raises(InvalidInput) as caught:
        guard.check("SELECT * FROM evnts", None)
    assert caught.value.message.endswith("tables you can query: " + ", ".join(ALLOWED_TABLES))


def test_tables_are_read_through_a_tenant_filter_when_the_user_is_tenant_limited():
    sql = guard.check(
        "SELECT e.id, p.plan FROM events AS e JOIN persons p USING (person_id) "
        "WHERE e.id IN (SELECT id FROM events)",
        ("t_acme", "t_o'brien"),
    )
    scope = "WHERE tenant_id IN ('t_acme', 't_o''brien')"
    assert sql == (
        f"SELECT e.id, p.plan FROM (SELECT * FROM events {scope}) AS e "
        f"JOIN (SELECT * FROM persons {scope}) AS p USING (person_id) "
        f"WHERE e.id IN (SELECT id FROM (SELECT * FROM events {scope}) AS events)"
    )


def test_quoted_and_upper_case_names_read_the_table_when_quoting_is_used():
    assert guard.check('SELECT "EVENTS".id FROM "EVENTS"', None) == (
        'SELECT "EVENTS".id FROM events'
    )
    assert guard.check("SELECT 1 FROM Events", ()) == (
        "SELECT 1 FROM (SELECT * FROM events WHERE tenant_id IN (NULL)) AS events"
    )


def test_comments_are_dropped_when_they_hide_statements():
    assert guard.check("SELECT 1 /*; DROP TABLE events */", None) == "SELECT 1"
    assert guard.check("SELECT 1; -- ATTACH 'x'", None) == "SELECT 1"
    assert guard.check("SELECT 1 /* /* nested */ ; ATTACH 'x' */", None) == "SELECT 1"


def test_ctes_and_computed_rows_pass_when_they_read_no_file():
    sql = guard.check(
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) "
        "SELECT * FROM t, range(2) r(x), unnest([1, 2]) u(y), generate_series(1, 2) g(z)",
        (ACME,),
    )
    assert "FROM t" in sql and "RANGE(0, 2)" in sql


def test_every_offered_table_is_tenant_scoped_and_every_other_table_says_why_it_is_left_out():
    assert all(scoped(name) for name in ALLOWED_TABLES)
    assert set(ALLOWED_TABLES) | set(LEFT_OUT) == set(TABLES)
