"""The `sextant` command as a user runs it: real processes, real store files, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

SEXTANT = str(Path(sys.executable).parent / "sextant")
SMALL = ["--users", "400", "--events", "6000", "--start", "2025-01-01", "--end", "2025-03-31"]


def sextant(
    *args: str, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SEXTANT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def assert_clean_error(result: subprocess.CompletedProcess, *phrases: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: ")
    for phrase in phrases:
        assert phrase in result.stderr


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("store")
    result = sextant("generate", "--data-dir", str(data_dir), *SMALL)
    assert result.returncode == 0, result.stderr
    return data_dir


def test_help_lists_only_working_commands():
    result = sextant("--help")
    assert result.returncode == 0
    commands = result.stdout.split("Commands:")[1].splitlines()
    listed = {line.split()[0] for line in commands if line.strip()}
    assert listed == {
        *("analyze", "clickhouse", "demo", "generate", "import", "info", "metrics", "serve"),
        *("sources", "users", "keys"),
    }


def test_generate_reports_rows_and_info_json_agrees(small_store):
    info = sextant("info", "--data-dir", str(small_store), "--json")
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    rows = {t["name"]: t["rows"] for t in summary["tables"]}
    assert rows["persons"] >= 400 and rows["events"] > 0 and rows["orders"] > 0
    assert summary["schema_version"] >= 1
    assert summary["file_bytes"] > 0
    assert summary["headline"]["mau"] > 0
    events = next(t for t in summary["tables"] if t["name"] == "events")
    assert events["first"] >= "2025-01-01" and events["last"] < "2025-04-01"


def test_info_prints_tables_and_headline_numbers_for_people(small_store):
    result = sextant("info", "--data-dir", str(small_store))
    assert result.returncode == 0, result.stderr
    for phrase in ("events", "order_lines", "DAU", "MAU", "paid conversion", "schema v"):
        assert phrase in result.stdout


def test_generate_refuses_store_with_data_unless_replace(small_store, tmp_path):
    refused = sextant("generate", "--data-dir", str(small_store), *SMALL)
    assert_clean_error(refused, "already holds data", "--replace")
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "sextant.duckdb").write_bytes((small_store / "sextant.duckdb").read_bytes())
    replaced = sextant("generate", "--data-dir", str(copy), *SMALL, "--seed", "7", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert not list(copy.glob("*.generating*"))


def test_data_dir_comes_from_environment_when_option_absent(small_store):
    result = sextant("info", "--json", env={"SEXTANT_DATA_DIR": str(small_store)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == str(small_store / "sextant.duckdb")


def test_info_says_what_to_do_when_store_is_missing(tmp_path):
    result = sextant("info", "--data-dir", str(tmp_path / "nothing"))
    assert_clean_error(result, "no store at")
    assert "sextant generate" in result.stderr


def test_bad_setting_is_named_when_environment_is_wrong(small_store):
    result = sextant("info", "--data-dir", str(small_store), env={"SEXTANT_TIMEZONE": "Mars/Base"})
    assert_clean_error(result, "SEXTANT_TIMEZONE", "Mars/Base")


def test_bad_options_get_usage_errors_without_traceback(tmp_path):
    bad_date = sextant("generate", "--data-dir", str(tmp_path), "--start", "01/02/2025")
    assert bad_date.returncode == 2
    assert "--start" in bad_date.stderr and "Traceback" not in bad_date.stderr
    reversed_range = sextant(
        "generate", "--data-dir", str(tmp_path), "--start", "2025-02-01", "--end", "2025-01-01"
    )
    assert_clean_error(reversed_range, "before start")
    unknown = sextant("frobnicate")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr


def test_store_in_use_gets_clear_error_when_another_process_holds_it(small_store, store_holder):
    store_holder(small_store / "sextant.duckdb")
    result = sextant("info", "--data-dir", str(small_store))
    assert_clean_error(result, "in use by another Sextant process")


def test_debug_flag_shows_traceback_for_errors(tmp_path):
    result = sextant("info", "--data-dir", str(tmp_path / "nothing"), "--debug")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "StoreError" in result.stderr


@pytest.mark.slow
def test_demo_generates_default_data_once_then_shows_summary(tmp_path):
    first = sextant("demo", "--data-dir", str(tmp_path), "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "Generating the demo data set" in first.stdout
    for phrase in ("DAU", "MAU", "DAU/MAU", "paid conversion", "events"):
        assert phrase in first.stdout
    info = json.loads(sextant("info", "--data-dir", str(tmp_path), "--json").stdout)
    assert info["headline"]["identified_persons"] == 50_000
    assert 0.11 <= info["headline"]["paid_conversion"] <= 0.15
    # History ends yesterday, so the dashboard's "Last 7 days" shows last week.
    assert info["headline"]["last_day"] == str(date.today() - timedelta(days=1))

    # The second run generates nothing and serves the dashboard on 127.0.0.1 until stopped.
    port = free_port()
    second = subprocess.Popen(
        [SEXTANT, "demo", "--data-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        page = wait_for_page(f"http://127.0.0.1:{port}/?range=last_7_days", second)
        assert page.status_code == 200 and 'id="kpi-sessions"' in page.text
        assert "No sessions in range" not in page.text
        # The generated experiment's planted lift (+10% activation) shows on its readout.
        readout = httpx.get(f"http://127.0.0.1:{port}/experiments", timeout=60).text
        assert "test is better: +" in readout and "activation" in readout
    finally:
        second.send_signal(signal.SIGTERM)
        out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert "Generating" not in out
    assert f"Dashboard: http://127.0.0.1:{port}/" in out


def wait_for_page(url: str, process: subprocess.Popen, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            return httpx.get(url, timeout=30)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def test_commands_start_without_the_web_stack_or_dataframes():
    # Each command imports what it runs; loading FastAPI, pandas or SciPy on every start made
    # `sextant users list` take 3.3 s instead of 0.8 s.
    heavy = ("fastapi", "pandas", "scipy", "sextant.analyses", "sextant.synth.dataset")
    probe = f"import sys, sextant.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
