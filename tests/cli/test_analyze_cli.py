"""`sextant analyze`: the list of analyses, a run from a JSON file or standard input checked
against the library's answer, the SQL without running, a run through the server, and clean
errors for a missing, unreadable or malformed query."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sextant.analyses import kinds, run_analysis
from sextant.catalog import load_catalog
from sextant.cli import app
from sextant.cli.common import run
from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from tests.conftest import SEXTANT, add_source, start_server

TODAY = datetime.now(UTC).date()
DATA = SynthConfig(
    users=1_000, events=10_000, start=TODAY - timedelta(days=60), end=TODAY - timedelta(days=1)
)
QUERY = {
    "from": str(TODAY - timedelta(days=30)),
    "to": str(TODAY - timedelta(days=2)),
    "timezone": "UTC",
    "breakdown": ["plan"],
}


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("analyze-store")
    build_dataset(load_settings(data_dir=data_dir), DATA)
    return data_dir


@pytest.fixture
def analyze(capsys, monkeypatch, store):
    """Run `sextant analyze ARGS...` in this process against the test store."""
    monkeypatch.setenv("SEXTANT_DATA_DIR", str(store))
    monkeypatch.setenv("SEXTANT_TIMEZONE", "UTC")

    def invoke(*args: str | Path) -> Ran:
        capsys.readouterr()
        code = run(app, ["analyze", *map(str, args)])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke


def refused(ran: Ran, *phrases: str) -> str:
    assert ran.code == 1, (ran.out, ran.err)
    assert ran.err.startswith("error: ") and "Traceback" not in ran.err + ran.out
    err = " ".join(ran.err.split())
    # The console wraps long lines, inside long words (paths) too: compare without spaces.
    for phrase in phrases:
        assert "".join(phrase.split()) in "".join(err.split()), (phrase, err)
    return err


def expected(store: Path, kind: str, body: dict) -> dict:
    engine = DuckDBEngine(store / "sextant.duckdb", read_only=True)
    try:
        return run_analysis(engine, load_catalog(), kind, body).as_dict()
    finally:
        engine.close()


def test_without_kind_lists_every_analysis(analyze):
    ran = analyze()
    assert ran.code == 0, ran.err
    for kind in kinds():
        assert kind in ran.out
    assert "sextant analyze KIND --json" in " ".join(ran.out.split())


def test_run_from_file_equals_the_library_answer(analyze, store, tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps(QUERY))
    ran = analyze("stickiness", "--json", path)
    assert ran.code == 0, ran.err
    got = json.loads(ran.out)
    want = expected(store, "stickiness", QUERY)
    assert got["result"] == want["result"] and got["sql"] == want["sql"]
    assert {s["plan"] for s in got["result"]["slices"]} >= {"free"}


def test_sql_option_prints_statements_without_running(analyze, tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps(QUERY))
    ran = analyze("stickiness", "--json", path, "--sql")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("/* analysis stickiness, histogram:") and "GROUP BY" in ran.out


@pytest.mark.parametrize(
    ("args", "content", "phrases"),
    [
        (["stickiness"], None, ["--json FILE is missing"]),
        (["stickiness", "--json", "{dir}/missing.json"], None, ["cannot read", "missing.json"]),
        (["stickiness", "--json", "{dir}/q.json"], "{oops", ["not JSON (line 1, column 2"]),
        (["stickiness", "--json", "{dir}/q.json"], "[1, 2]", ["must be a JSON object"]),
        (["funel", "--json", "{dir}/q.json"], "{}", ["no analysis called 'funel'"]),
        (
            ["stickiness", "--json", "{dir}/q.json"],
            '{"from": "2024-02-10", "to": "2024-02-01"}',
            ["Invalid date range"],
        ),
    ],
)
def test_bad_query_gets_a_clean_error(analyze, tmp_path, args, content, phrases):
    if content is not None:
        (tmp_path / "q.json").write_text(content)
    refused(analyze(*[a.format(dir=tmp_path) for a in args]), *phrases)


def test_run_goes_through_the_server_when_one_holds_the_store(analyze, store, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(store / "sextant.duckdb", served / "sextant.duckdb")
    path = tmp_path / "q.json"
    path.write_text(json.dumps(QUERY))
    local = json.loads(analyze("stickiness", "--json", path).out)
    server = start_server(served, add_source(served), {"SEXTANT_TIMEZONE": "UTC"})
    try:
        ran = analyze("stickiness", "--json", path, "--data-dir", served)
        assert ran.code == 0, ran.err
        assert json.loads(ran.out)["result"] == local["result"]
    finally:
        server.stop()


def test_real_command_reads_standard_input_when_run_as_a_process(store):
    env = {**os.environ, "SEXTANT_DATA_DIR": str(store), "SEXTANT_TIMEZONE": "UTC"}
    args = [SEXTANT, "analyze", *shlex.split("stickiness --json -")]
    done = subprocess.run(
        args, input=json.dumps(QUERY), capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "stickiness"
    bad = subprocess.run(
        args, input='{"unit": "year"}', capture_output=True, text=True, timeout=60, env=env
    )
    assert (
        bad.returncode == 1 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    )
