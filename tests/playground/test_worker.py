"""The worker process on its own, bypassing the guard (defence in depth): its DuckDB reads
no file but the snapshot, changes nothing, and it stays inside its OS limits."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pyarrow as pa
import pytest

from sextant.playground import worker
from sextant.playground.runner import WORKER


def raw(snapshot, sql: str, memory_mb: int = 256) -> tuple[int, bytes]:
    request = {
        "snapshot": str(snapshot),
        "sql": sql,
        "max_rows": 100,
        "memory_mb": memory_mb,
        "threads": 1,
        "cpu_seconds": 20,
    }
    done = subprocess.run(WORKER, input=json.dumps(request).encode(), capture_output=True)
    return done.returncode, done.stdout


UNGUARDED = [
    ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
    ("SELECT * FROM read_text('/etc/passwd')", "file system operations are disabled"),
    ("SELECT * FROM glob('/*')", "file system operations are disabled"),
    ("SELECT * FROM '/etc/passwd'", "does not exist"),
    ("ATTACH '{tmp}/other.db' AS other", "file system operations are disabled"),
    ("COPY (SELECT 1) TO '{tmp}/out.csv'", "file system operations are disabled"),
    ("EXPORT DATABASE '{tmp}/dump'", "file system operations are disabled"),
    ("INSTALL httpfs", "file system operations are disabled"),
    ("LOAD httpfs", "disabled through configuration"),
    ("SET enable_external_access = true", "the configuration has been locked"),
    ("SET memory_limit = '64GB'", "the configuration has been locked"),
    ("DROP TABLE events", "read-only mode"),
    ("INSERT INTO tenants (tenant_id) VALUES ('t_evil')", "read-only mode"),
]


@pytest.mark.parametrize(("sql", "words"), UNGUARDED)
def test_hardened_duckdb_refuses_when_the_guard_is_bypassed(store, tmp_path, sql, words):
    code, out = raw(store.acme.path, sql.format(tmp=tmp_path))
    assert code == worker.EXIT_QUERY
    problem = json.loads(out)
    assert problem["code"] == "sql_error" and words in problem["message"]
    assert list(tmp_path.iterdir()) == []


def test_store_file_is_unreadable_when_the_guard_is_bypassed(store):
    code, out = raw(store.acme.path, f"SELECT * FROM read_blob('{store.engine.path}')")
    assert code == worker.EXIT_QUERY
    assert "file system operations are disabled" in json.loads(out)["message"]


def test_rows_and_types_come_back_as_arrow_when_the_query_is_good(store):
    code, out = raw(store.acme.path, "SELECT count(*) AS n, min(tenant_id) AS t FROM events")
    table = pa.ipc.open_stream(out).read_all()
    assert code == 0 and table.to_pylist() == [{"n": 12, "t": "t_acme"}]
    assert json.loads(table.schema.metadata[worker.TYPES_KEY]) == ["BIGINT", "VARCHAR"]


def test_every_hardening_setting_exists_when_checked_against_duckdb():
    known = {name for (name,) in duckdb.sql("SELECT name FROM duckdb_settings()").fetchall()}
    assert set(worker.settings(64, 1)) | {"lock_configuration", "TimeZone"} <= known


def test_request_is_refused_when_it_lacks_a_field():
    done = subprocess.run(WORKER, input=b'{"sql": "SELECT 1"}', capture_output=True)
    assert done.returncode == worker.EXIT_REQUEST
    assert json.loads(done.stdout)["code"] == "playground_request"


def test_os_limits_stop_allocation_and_file_writes_when_the_worker_has_limited_itself(tmp_path):
    script = f"""
import errno, resource
from sextant.playground import worker
worker.limit(64, 5)
try:
    bytearray(2 * 1024 ** 3)
    print("allocated")
except MemoryError:
    print("memory refused")
try:
    open({str(tmp_path / "x")!r}, "wb", buffering=0).write(b"x")
    print("written")
except OSError as exc:
    print("write refused" if exc.errno == errno.EFBIG else exc)
print(resource.getrlimit(resource.RLIMIT_CPU))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.splitlines() == ["memory refused", "write refused", "(5, 6)"]


def test_worker_imports_only_duckdb_and_arrow_when_run_as_a_module(store):
    # Its start-up is measured by bench/playground.py; here: nothing heavy creeps in.
    code, _ = raw(store.acme.path, "SELECT 1")
    assert code == 0
    probe = (
        "import sys, sextant.playground.worker; "
        "print(sorted(m for m in sys.modules if m.startswith(('sextant', 'pandas', 'fastapi', "
        "'sqlglot', 'scipy'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "['sextant', 'sextant.playground', 'sextant.playground.worker']"
