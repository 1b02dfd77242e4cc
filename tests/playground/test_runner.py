"""Queries end to end (guard, worker, snapshot): answers equal plain Python over the inserted
rows, other tenants stay out of reach, PII is masked for non-admins, rows are capped and
runaway queries stop with a clear error."""

from __future__ import annotations

import json
import time
from collections import Counter
from decimal import Decimal

import pytest

from sextant.errors import InvalidInput, RequestTimeout, Unprocessable
from sextant.playground.masking import MASK
from sextant.playground.runner import run_sql
from tests.playground.conftest import ACME, PEOPLE, event_rows, order_rows

ACME_PEOPLE = [p for p in PEOPLE if p[1] == ACME]


def test_answer_equals_plain_python_when_the_query_is_correct(store):
    result = run_sql(
        "SELECT o.tenant_id, count(DISTINCT o.order_id) AS orders, "
        "sum(l.quantity * l.price) AS revenue "
        "FROM orders o JOIN order_lines l USING (tenant_id, order_id) GROUP BY 1 ORDER BY 1",
        store.admin.path,
        tenants=None,
    )
    orders, lines = order_rows()
    revenue: Counter = Counter()
    for line in lines:
        tenant = next(o["tenant_id"] for o in orders if o["order_id"] == line["order_id"])
        revenue[tenant] += line["quantity"] * line["price"]
    count = Counter(o["tenant_id"] for o in orders)
    assert result.rows == [(t, count[t], revenue[t]) for t in sorted(revenue)]
    assert result.columns == ["tenant_id", "orders", "revenue"]
    assert result.types[:2] == ["VARCHAR", "BIGINT"] and result.types[2].startswith("DECIMAL")
    assert isinstance(result.rows[0][2], Decimal)
    assert (result.row_count, result.truncated, result.notice) == (2, False, None)


def test_events_per_name_equal_plain_python_when_read_by_a_tenant_limited_user(store):
    result = run_sql(
        "SELECT event, count(*) FROM events GROUP BY event ORDER BY event",
        store.acme.path,
        tenants=(ACME,),
    )
    expected = Counter(e["event"] for e in event_rows() if e["tenant_id"] == ACME)
    assert result.rows == sorted(expected.items())


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT DISTINCT tenant_id FROM events",
        "SELECT DISTINCT p.tenant_id FROM events e FULL JOIN persons p USING (person_id)",
        "SELECT tenant_id FROM tenants UNION SELECT tenant_id FROM customers "
        "UNION SELECT tenant_id FROM order_lines UNION SELECT tenant_id FROM sessions",
        "SELECT (SELECT max(tenant_id) FROM persons WHERE person_id > 3)",
    ],
)
def test_other_tenants_are_unreachable_when_the_user_is_limited_to_one(store, sql):
    # Each layer alone holds: the tenant-limited snapshot without the guard's filter, and
    # the guard's filter on the all-tenant snapshot.
    for snapshot in (store.acme.path, store.admin.path):
        result = run_sql(sql, snapshot, tenants=(ACME,))
        assert {row[0] for row in result.rows} <= {ACME, None}
    unguarded = run_sql(sql, store.acme.path, tenants=None)
    assert {row[0] for row in unguarded.rows} <= {ACME, None}


def test_persons_hold_only_the_users_tenant_when_joined_through_events(store):
    result = run_sql(
        "SELECT DISTINCT p.person_id FROM events e JOIN persons p "
        "ON p.person_id = e.person_id ORDER BY 1",
        store.acme.path,
        tenants=(ACME,),
    )
    assert [r[0] for r in result.rows] == [pid for pid, *_ in ACME_PEOPLE]
    unguarded = "SELECT count(*) FROM persons WHERE person_id = 4"
    assert run_sql(unguarded, store.acme.path, tenants=None).rows == [(0,)]


def test_pii_is_masked_when_the_user_is_not_an_admin(store):
    customers = run_sql(
        "SELECT name, email, segment FROM customers", store.acme.path, tenants=(ACME,)
    )
    assert customers.rows == [(MASK, MASK, "smb")] * len(ACME_PEOPLE)
    persons = run_sql("SELECT properties FROM persons", store.acme.path, tenants=(ACME,))
    assert [json.loads(p) for (p,) in persons.rows] == [{"plan_name": "team", "$set": {}}] * len(
        ACME_PEOPLE
    )
    events = run_sql(
        "SELECT properties FROM events WHERE id = 'e-1-0' OR id = 'e-1-1' ORDER BY id",
        store.acme.path,
        tenants=(ACME,),
    )
    assert [json.loads(p) for (p,) in events.rows] == [
        {"$current_url": "/page/0", "feature": "f0"},
        {"$current_url": "/page/1", "feature": "f1", "$set": {"plan": "x"}},
    ]


def test_pii_is_shown_when_the_user_is_an_admin(store):
    result = run_sql(
        "SELECT c.email, p.properties->>'email', e.properties->>'$.\"$email\"' "
        "FROM customers c JOIN persons p USING (person_id) "
        "JOIN events e ON e.person_id = p.person_id AND e.id LIKE '%-0' ORDER BY 1",
        store.admin.path,
        tenants=None,
    )
    emails = sorted(p[2] for p in PEOPLE)
    assert result.rows == [(e, e, e) for e in emails]


def test_rows_are_capped_with_a_notice_when_the_query_returns_more(store):
    result = run_sql("SELECT * FROM range(20000)", store.acme.path, tenants=(ACME,))
    assert (result.row_count, len(result.rows), result.truncated) == (10_000, 10_000, True)
    assert result.rows[-1] == (9_999,)
    assert result.notice == "Showing the first 10,000 rows; the query returned more."
    exact = run_sql("SELECT * FROM range(10000)", store.acme.path, tenants=(ACME,))
    assert (exact.row_count, exact.truncated, exact.notice) == (10_000, False, None)


def test_query_is_stopped_when_a_recursive_cte_runs_away(store):
    started = time.monotonic()
    with pytest.raises(RequestTimeout) as caught:
        run_sql(
            "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) "
            "SELECT count(*) FROM t",
            store.acme.path,
            tenants=(ACME,),
            timeout_seconds=2,
        )
    assert time.monotonic() - started < 4
    error = caught.value
    assert (error.status, error.code, error.field) == (408, "playground_timeout", "sql")
    assert error.message == "the query ran longer than 2 s and was stopped"


def test_query_is_stopped_when_a_cross_join_is_huge(store):
    with pytest.raises(RequestTimeout):
        run_sql(
            "SELECT count(*) FROM range(100000000) a, range(100000000) b",
            store.acme.path,
            tenants=(ACME,),
            timeout_seconds=2,
        )


def test_query_is_stopped_when_it_needs_more_memory_than_allowed(store):
    with pytest.raises(Unprocessable) as caught:
        run_sql(
            "SELECT a.range AS x, b.range AS y FROM range(60000) a, range(60000) b "
            "ORDER BY x DESC, y DESC",
            store.acme.path,
            tenants=(ACME,),
            memory_mb=128,
        )
    error = caught.value
    assert (error.status, error.code, error.field) == (422, "playground_memory", "sql")
    assert error.message.startswith("the query needed more than the 128 MB of memory")


def test_duckdb_error_is_shown_plainly_when_a_column_is_unknown(store):
    with pytest.raises(InvalidInput) as caught:
        run_sql("SELECT nope FROM events", store.acme.path, tenants=(ACME,))
    error = caught.value
    assert (error.code, error.field) == ("sql_error", "sql")
    assert 'column "nope" not found' in error.message
    assert str(store.acme.path.parent) not in error.message


def test_sql_as_run_is_reported_when_the_query_was_rewritten(store):
    result = run_sql(
        "SELECT count(*) AS n FROM Events /* all of them */", store.acme.path, tenants=(ACME,)
    )
    assert result.sql == (
        "SELECT COUNT(*) AS n FROM (SELECT * FROM events WHERE tenant_id IN ('t_acme')) AS events"
    )
    assert result.rows == [(sum(1 for e in event_rows() if e["tenant_id"] == ACME),)]
    assert result.elapsed_ms > 0


def test_each_query_gets_the_worker_started_after_the_last_one_and_it_serves_only_that(store):
    from sextant.playground import runner

    run_sql("SELECT 1", store.admin.path, tenants=None)
    where, waiting = runner._SPARE._waiting
    assert where == store.admin.path.parent and waiting.poll() is None
    assert run_sql("SELECT 2", store.admin.path, tenants=None).rows == [(2,)]
    assert waiting.wait(10) == 0  # it answered that query, then exited
    assert runner._SPARE._waiting[1] is not waiting


def test_a_dead_or_misplaced_waiting_worker_is_replaced(store, tmp_path):
    from sextant.playground import runner

    run_sql("SELECT 1", store.admin.path, tenants=None)
    _, waiting = runner._SPARE._waiting
    waiting.kill()
    waiting.wait()
    assert run_sql("SELECT 3", store.admin.path, tenants=None).rows == [(3,)]
    elsewhere = runner._SPARE._waiting[1]
    runner._SPARE._waiting = (tmp_path, elsewhere)  # as if started for another directory
    assert run_sql("SELECT 4", store.admin.path, tenants=None).rows == [(4,)]
    assert elsewhere.wait(10) != 0  # stopped, not used


def test_a_worker_starts_without_the_servers_secrets_in_its_environment(store, monkeypatch):
    from sextant.playground import runner

    monkeypatch.setenv("SEXTANT_OIDC_CLIENT_SECRET", "hunter2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter3")
    env = runner.worker_env()
    assert "hunter2" not in env.values() and "hunter3" not in env.values()
    assert env["PATH"] == runner.os.environ["PATH"] and env["MALLOC_ARENA_MAX"] == "2"
    assert run_sql("SELECT 5", store.admin.path, tenants=None).rows == [(5,)]
