"""The playground on the real server: escape attempts over HTTP are refused with a clear
message and nothing read; runaway queries are stopped; a tenant-limited analyst reaches only
their tenant's rows (joins, subqueries, persons); PII is masked for non-admins and never in a
CSV; the 10,000-row notice; roles; saved queries (private, shared, pinned, who manages);
every query in the audit log with its text, rows and outcome."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections import Counter

import httpx
import pytest

from sextant.store.engines.duckdb import DuckDBEngine
from tests.access.signing import add_key, add_user, generated_store, page_token, sign_in
from tests.conftest import add_source, start_server


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("playground-server")
    mine, other = generated_store(data_dir, users=400, events=6_000, days=40)[:2]
    engine = DuckDBEngine(data_dir / "sextant.duckdb", read_only=True)
    events = engine.execute("SELECT tenant_id FROM events").to_pylist()
    engine.close()
    add_user(data_dir, "ada@example.com", "admin")
    add_user(data_dir, "ann@example.com", "analyst", tenants=mine)
    add_user(data_dir, "bob@example.com", "analyst")
    add_user(data_dir, "sam@example.com", "sys_engineer")
    add_user(data_dir, "vic@example.com", "viewer")
    add_user(data_dir, "dan@example.com", "analyst", tenants=mine)
    add_user(data_dir, "cat@example.com", "analyst", tenants=other)
    keys = {
        "limited": add_key(data_dir, "limited", "analyst", mine),
        "analyst": add_key(data_dir, "analyst", "analyst"),
        "admin": add_key(data_dir, "admin", "admin"),
        "viewer": add_key(data_dir, "viewer", "viewer"),
    }
    env = {"SEXTANT_PLAYGROUND_REFRESH_SECONDS": "0", "SEXTANT_PLAYGROUND_TIMEOUT_SECONDS": "3"}
    server = start_server(data_dir, add_source(data_dir), env)
    yield server, keys, mine, other, Counter(e["tenant_id"] for e in events)
    server.stop()


def ask(server, key: str, sql: str) -> httpx.Response:
    return httpx.post(
        server.url + "/api/v1/playground/query",
        json={"sql": sql},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )


ESCAPES = {
    "read_csv('/etc/passwd')": ("SELECT * FROM read_csv('/etc/passwd')", "sql_function_denied"),
    "glob": ("SELECT * FROM glob('/*')", "sql_function_denied"),
    "read_text": ("SELECT content FROM read_text('/etc/hostname')", "sql_function_denied"),
    "a path as a table": ("SELECT * FROM '/etc/passwd'", "sql_file_path"),
    "the store file": ("SELECT * FROM read_parquet('sextant.duckdb')", "sql_function_denied"),
    "ATTACH": ("ATTACH '/tmp/x.duckdb' AS x", "sql_not_a_query"),
    "COPY": ("COPY events TO '/tmp/out.csv'", "sql_not_a_query"),
    "EXPORT": ("EXPORT DATABASE '/tmp/dump'", "sql_not_a_query"),
    "INSTALL": ("INSTALL httpfs", "sql_not_a_query"),
    "LOAD": ("LOAD httpfs", "sql_not_a_query"),
    "SET": ("SET enable_external_access = true", "sql_not_a_query"),
    "PRAGMA": ("PRAGMA database_list", "sql_not_a_query"),
    "CALL": ("CALL duckdb_settings()", "sql_not_a_query"),
    "DROP": ("DROP TABLE events", "sql_not_a_query"),
    "two statements": ("SELECT 1; SELECT 2", "sql_many_statements"),
    "a comment hiding a second statement": (
        "SELECT 1; -- harmless\nDROP TABLE events",
        "sql_many_statements",
    ),
    "a block comment before ATTACH": ("/* SELECT */ ATTACH 'x.db'", "sql_not_a_query"),
    "a qualified name": ('SELECT * FROM "main"."events"', "sql_qualified_name"),
    "settings function": ("SELECT * FROM duckdb_settings()", "sql_function_denied"),
    "current_setting": ("SELECT current_setting('threads')", "sql_function_denied"),
    "an unknown table": ("SELECT * FROM sources", "sql_unknown_table"),
}


@pytest.mark.parametrize("name", list(ESCAPES))
def test_escape_attempts_are_refused_with_a_clear_message(world, name):
    server, keys, *_ = world
    sql, code = ESCAPES[name]
    response = ask(server, keys["admin"], sql)
    assert response.status_code == 400, response.text
    body = response.json()
    assert "rows" not in body
    error = body["errors"][0]
    assert error["code"] == code and error["field"] == "sql" and len(error["message"]) > 20


@pytest.mark.parametrize(
    "sql",
    [
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT max(n) FROM r",
        "SELECT count(*) FROM range(100000000) a, range(100000000) b",
    ],
    ids=["runaway recursive CTE", "huge cross join"],
)
def test_runaway_queries_are_stopped_by_the_limits(world, sql):
    server, keys, *_ = world
    response = ask(server, keys["analyst"], sql)
    assert response.status_code in (408, 422), response.text
    assert response.json()["errors"][0]["code"] in ("playground_timeout", "playground_memory")
    assert ask(server, keys["analyst"], "SELECT 42 AS answer").json()["rows"] == [[42]]


def test_a_tenant_limited_analyst_reaches_only_their_tenant(world):
    server, keys, mine, other, per_tenant = world
    limited = keys["limited"]
    tenants = ask(server, limited, "SELECT DISTINCT tenant_id FROM events").json()["rows"]
    assert tenants == [[mine]]
    count = ask(server, limited, "SELECT count(*) FROM events").json()["rows"]
    assert count == [[per_tenant[mine]]]
    for sql in (
        f"SELECT count(*) FROM events WHERE tenant_id = '{other}'",
        f"SELECT count(*) FROM events e JOIN persons p USING (person_id) "
        f"WHERE p.tenant_id = '{other}' OR e.tenant_id = '{other}'",
        f"SELECT count(*) FROM persons WHERE tenant_id <> '{mine}'",
        f"SELECT count(*) FROM (SELECT * FROM sessions WHERE tenant_id IN ('{other}')) s",
        f"WITH x AS (SELECT * FROM orders) SELECT count(*) FROM x WHERE tenant_id = '{other}'",
    ):
        assert ask(server, limited, sql).json()["rows"] == [[0]], sql
    everyone = ask(server, keys["analyst"], "SELECT count(DISTINCT tenant_id) FROM events")
    assert everyone.json()["rows"][0][0] > 2


def test_pii_is_masked_for_non_admins_and_never_in_a_csv(world):
    server, keys, *_ = world
    sql = "SELECT person_id, properties FROM persons WHERE properties LIKE '%email%' LIMIT 5"
    seen = ask(server, keys["admin"], sql).json()["rows"]
    assert seen and all("@" in row[1] for row in seen)
    masked = ask(server, keys["analyst"], "SELECT properties FROM persons").json()["rows"]
    assert masked and not any("@" in (row[0] or "") for row in masked)
    customers = ask(server, keys["analyst"], "SELECT name, email FROM customers LIMIT 3")
    assert {v for row in customers.json()["rows"] for v in row} <= {"•••", None}

    admin = sign_in(server.url, "ada@example.com")
    token = page_token(admin, "/playground")
    export = admin.post(
        "/playground/export.csv",
        data={
            "sql": "SELECT person_id, properties, '=1+1' AS f FROM persons LIMIT 50",
            "csrf_token": token,
        },
    )
    assert export.status_code == 200
    assert "@" not in export.text
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == ["person_id", "properties", "f"] and rows[1][2] == "'=1+1"
    dropped = admin.post(
        "/playground/export.csv",
        data={"sql": "SELECT name, email, customer_id FROM customers LIMIT 5", "csrf_token": token},
    )
    assert next(csv.reader(io.StringIO(dropped.text))) == ["customer_id"]


def test_the_row_cap_is_shown_on_the_page(world):
    server, *_ = world
    client = sign_in(server.url, "bob@example.com")
    page = client.post(
        "/playground",
        data={
            "sql": "SELECT range AS n FROM range(20000)",
            "csrf_token": page_token(client, "/playground"),
        },
    )
    assert page.status_code == 200
    assert "10,000 row(s)" in page.text and "first 10,000 rows" in page.text.replace(
        "10000", "10,000"
    )


def test_viewers_may_not_use_the_playground(world):
    server, keys, *_ = world
    assert ask(server, keys["viewer"], "SELECT 1").status_code == 403
    viewer = sign_in(server.url, "vic@example.com")
    page = viewer.get("/playground", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "analyst" in page.text


def test_page_posts_need_the_csrf_token(world):
    server, *_ = world
    client = sign_in(server.url, "bob@example.com")
    response = client.post("/playground", data={"sql": "SELECT 1"})
    assert response.status_code == 403


def test_saved_queries_are_private_shared_pinned_and_managed_by_owner_or_sys_engineer(world):
    server, *_ = world
    ann, bob, sam = (sign_in(server.url, f"{n}@example.com") for n in ("ann", "bob", "sam"))

    def api(client, method, path, **kwargs):
        headers = {"X-CSRF-Token": page_token(client)}
        return client.request(method, "/api/v1/saved-queries" + path, headers=headers, **kwargs)

    private = api(ann, "POST", "", json={"name": "mine only", "sql": "SELECT 1"}).json()
    shared = api(
        ann, "POST", "", json={"name": "adoption by country", "sql": "SELECT 2", "shared": True}
    ).json()
    assert api(bob, "GET", f"/{private['id']}").status_code == 404
    listed = [q["name"] for q in api(bob, "GET", "").json()]
    assert "adoption by country" in listed and "mine only" not in listed
    refused = api(bob, "DELETE", f"/{shared['id']}")
    assert (
        refused.status_code == 403
        and refused.json()["errors"][0]["code"] == "saved_query_not_yours"
    )
    pinned = api(sam, "PATCH", f"/{shared['id']}", json={"pinned": True})
    assert pinned.status_code == 200 and pinned.json()["pinned"]
    api(bob, "POST", "", json={"name": "aaa first by name", "sql": "SELECT 3", "shared": True})
    assert api(bob, "GET", "").json()[0]["name"] == "adoption by country"
    page = bob.get(f"/playground?q={shared['id']}")
    assert "adoption by country" in page.text and "SELECT 2" in page.text
    assert api(sam, "DELETE", f"/{shared['id']}").status_code == 200
    assert api(ann, "GET", f"/{shared['id']}").status_code == 404


def test_shared_queries_reach_only_the_team_within_the_same_tenants(world):
    server, *_ = world
    ann, bob, cat, dan = (
        sign_in(server.url, f"{n}@example.com") for n in ["ann", "bob", "cat", "dan"]
    )

    def share(client, name):
        body = {"name": name, "sql": "SELECT 1", "shared": True}
        headers = {"X-CSRF-Token": page_token(client)}
        answer = client.post("/api/v1/saved-queries", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def names(client):
        return {q["name"] for q in client.get("/api/v1/saved-queries").json()}

    ours = share(ann, "acme churn by plan")
    company = share(bob, "every tenant's revenue")
    assert {"acme churn by plan", "every tenant's revenue"} <= names(bob)
    assert "acme churn by plan" in names(dan)  # the same tenant: the same team
    assert "acme churn by plan" not in names(cat)
    assert cat.get(f"/api/v1/saved-queries/{ours}").status_code == 404
    assert "acme churn by plan" not in cat.get(f"/playground?q={ours}").text
    assert "every tenant's revenue" not in names(ann) | names(cat)
    assert ann.get(f"/api/v1/saved-queries/{company}").status_code == 404


def test_every_playground_query_is_audited_with_text_rows_and_outcome(world):
    server, keys, *_ = world
    ask(server, keys["analyst"], "SELECT 7 AS audited_marker")
    ask(server, keys["analyst"], "ATTACH 'audited.db'")
    db = sqlite3.connect(server.data_dir / "access.sqlite")
    rows = db.execute(
        "SELECT actor, outcome, detail FROM audit WHERE action = 'playground_query' "
        "AND detail LIKE '%audited%'"
    ).fetchall()
    outcomes = {(actor, outcome) for actor, outcome, _ in rows}
    assert outcomes == {("key:analyst", "ok"), ("key:analyst", "sql_not_a_query")}
    assert any('"rows": 1' in detail for *_, detail in rows)
