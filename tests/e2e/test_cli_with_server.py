"""CLI commands while `sextant serve` holds the store: they go through the server's control
API (no lock error); once it stops, the same commands open the store directly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEXTANT, LiveServer, free_port, wait_drained


def sextant(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SEXTANT, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def new_key(result: subprocess.CompletedProcess) -> str:
    return next(line for line in ok(result).splitlines() if line.startswith("sx_"))


def capture(server: LiveServer, key: str, n: int = 1, prefix: str = "e") -> httpx.Response:
    batch = [
        {"event": "cli_test", "distinct_id": f"u{i}", "uuid": f"{prefix}-{i}"} for i in range(n)
    ]
    return httpx.post(server.url + "/batch/", json={"api_key": key, "batch": batch}, timeout=10)


def events_file(path: Path, prefix: str) -> Path:
    rows = [
        {"id": f"{prefix}-1", "event": "imported", "timestamp": 1709294400, "distinct_id": "i1"},
        {"id": f"{prefix}-2", "event": "imported", "timestamp": 1709294460, "distinct_id": "i2"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def event_rows(data_dir: Path) -> int:
    summary = json.loads(ok(sextant("info", "--data-dir", data_dir, "--json")))
    return next(t["rows"] for t in summary["tables"] if t["name"] == "events")


@pytest.fixture
def served(live_server):
    """A running server that already stored three captured events."""
    assert capture(live_server, live_server.key, 3).status_code == 200
    assert wait_drained(live_server)["backlog"] == 0
    return live_server


def test_commands_go_through_the_server_when_it_holds_the_store(served, tmp_path):
    data_dir = served.data_dir
    assert (data_dir / "server.json").exists()

    assert event_rows(data_dir) == 3

    web_key = new_key(sextant("sources", "add", "web", "--data-dir", data_dir))
    assert capture(served, web_key, prefix="web").status_code == 200

    listed = ok(sextant("sources", "list", "--data-dir", data_dir))
    assert "web" in listed and "test" in listed and web_key[:8] in listed

    ok(sextant("sources", "revoke", "web", "--data-dir", data_dir))
    refused = capture(served, web_key, prefix="revoked")
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "invalid_write_key"
    assert capture(served, served.key, prefix="still").status_code == 200  # others unaffected

    report = json.loads(
        ok(
            sextant(
                "import",
                events_file(tmp_path / "live.ndjson", "live"),
                "--table",
                "events",
                "--data-dir",
                data_dir,
                "--json",
            )
        )
    )
    assert (report["stored"], report["rejected"]) == (2, 0)
    wait_drained(served)
    assert event_rows(data_dir) == 3 + 1 + 1 + 2
    assert served.rows() == 7

    # Every command above was answered by the server, not by opening the file.
    log = served.log.read_text()
    for path in ("/api/v1/info", "/api/v1/sources", "/api/v1/sources/web", "/api/v1/imports"):
        assert f'"path": "{path}"' in log, path


def test_commands_open_the_store_when_the_server_has_stopped(served, tmp_path):
    data_dir = served.data_dir
    assert served.stop(signal.SIGTERM) == 0
    assert not (data_dir / "server.json").exists()

    assert event_rows(data_dir) == 3
    key = new_key(sextant("sources", "add", "later", "--data-dir", data_dir))
    assert key.startswith("sx_")
    assert "later" in ok(sextant("sources", "list", "--data-dir", data_dir))
    assert "revoked" in ok(sextant("sources", "revoke", "later", "--data-dir", data_dir))
    (line,) = [
        row
        for row in ok(sextant("sources", "list", "--data-dir", data_dir)).splitlines()
        if "later" in row
    ]
    assert len(re.findall(r"\d{4}-\d\d-\d\d", line)) == 2  # created, then revoked
    imported = sextant(
        "import",
        events_file(tmp_path / "after.ndjson", "after"),
        "--table",
        "events",
        "--data-dir",
        data_dir,
        "--json",
    )
    assert json.loads(ok(imported))["stored"] == 2
    assert event_rows(data_dir) == 5


def test_second_serve_fails_cleanly_when_a_server_holds_the_data_dir(served):
    result = sextant("serve", "--data-dir", served.data_dir, "--port", free_port())
    assert result.returncode == 1, result
    assert result.stderr.startswith("error: "), result.stderr
    assert "already serves" in result.stderr and served.url in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert served.process.poll() is None  # the running server is untouched
    assert capture(served, served.key, prefix="after-second").status_code == 200
