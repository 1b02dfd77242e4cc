"""`sextant metrics`: list, show, SQL for every dialect, and queries on a real DuckDB store,
checked against hand-written SQL; clear errors; a user catalog; a query through the server.

Commands run in this process through the CLI's own error boundary (`run`, what `sextant`
runs), so output and exit codes are the user's; one test runs the real command.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from sextant.catalog import load_catalog
from sextant.catalog.dialects import DIALECTS
from sextant.cli import app
from sextant.cli.common import run
from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from tests.conftest import SEXTANT, add_source, start_server

TODAY = datetime.now(UTC).date()
# Data up to yesterday, so presets (last N complete days) and incomplete cohorts have data.
DATA = SynthConfig(
    users=2_000, events=20_000, start=TODAY - timedelta(days=70), end=TODAY - timedelta(days=1)
)
FIRST, LAST = TODAY - timedelta(days=40), TODAY - timedelta(days=10)
WINDOW = f"--from {FIRST} --to {LAST}"
EMPTY_DAY = TODAY - timedelta(days=80)  # before the data set: only events a test adds
# One metric of each compiled shape; the catalog's own tests compile every metric.
SHAPES = ["dau", "stickiness", "revenue", "retention_m1", "session_duration_p95"]

USER_METRICS = """\
metrics:
  - name: free_signups
    label: Free sign-ups
    description: Distinct people who signed up while their workspace was on the free plan.
    owner: growth
    unit: persons
    type: count_distinct
    of: person_id
    events: [signed_up]
    filter: plan = 'free'
"""

# The definition of `signups`, written by hand: distinct persons (after merges) with a
# signed_up event, per local day.
SIGNUPS_BY_DAY = """
    SELECT CAST(timezone(?, e.timestamp) AS DATE) AS day,
           COUNT(DISTINCT COALESCE(o.person_id, e.person_id)) AS n
    FROM events e LEFT JOIN person_overrides o ON o.old_person_id = e.person_id
    WHERE e.event = 'signed_up'
    GROUP BY 1
"""


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("metrics-store")
    build_dataset(load_settings(data_dir=data_dir), DATA)
    return data_dir


@pytest.fixture(scope="module")
def user_catalog(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("catalog")
    (folder / "growth.yaml").write_text(USER_METRICS)
    return folder


@pytest.fixture
def metrics(capsys, monkeypatch, store):
    """Run `sextant metrics COMMAND EXTRA...` in this process against the test store."""
    monkeypatch.setenv("SEXTANT_DATA_DIR", str(store))
    monkeypatch.delenv("SEXTANT_CATALOG_DIR", raising=False)

    def invoke(command: str, *extra: str | Path, env: dict[str, str] | None = None) -> Ran:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = run(app, ["metrics", *shlex.split(command), *map(str, extra)])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke


def ok(ran: Ran) -> str:
    assert ran.code == 0, ran.err
    return ran.out


def refused(ran: Ran, *phrases: str) -> str:
    """The error text (unwrapped) of a command that must fail cleanly with exit 1."""
    assert ran.code == 1, (ran.out, ran.err)
    assert ran.err.startswith("error: ") and "Traceback" not in ran.err + ran.out
    err = " ".join(ran.err.split())
    # The console wraps long lines, inside long words (paths) too: compare without spaces.
    for phrase in phrases:
        assert "".join(phrase.split()) in "".join(err.split()), (phrase, err)
    return err


def rows_of(ran: Ran) -> list[dict]:
    return json.loads(ok(ran))


def oracle(data_dir: Path, sql: str, *params: object) -> list[dict]:
    engine = DuckDBEngine(data_dir / "sextant.duckdb", read_only=True)
    try:
        return engine.execute(sql, list(params)).to_pylist()
    finally:
        engine.close()


def test_list_shows_every_metric_when_printed_as_table_or_json(metrics):
    names = set(load_catalog().metrics)
    table = ok(metrics("list"))
    assert all(name in table for name in names)
    assert "Dimensions" in table and "signup_channel" in table
    listed = rows_of(metrics("list --json"))
    assert {m["name"] for m in listed} == names
    assert next(m for m in listed if m["name"] == "dau") == {
        "name": "dau",
        "label": "Daily active users",
        "description": load_catalog().metric("dau").description,
        "unit": "persons",
        "type": "active_users",
        "owner": "product",
    }


def test_show_gives_definition_origin_and_dependencies_when_metric_is_a_ratio(metrics):
    text = ok(metrics("show stickiness"))
    for phrase in ("Stickiness (DAU/MAU)", "metrics.yaml line", "depends on dau, mau"):
        assert phrase in text
    assert "numerator: dau" in text and "Daily active users divided by" in text
    detail = json.loads(ok(metrics("show stickiness --json")))
    assert detail["origin"]["file"] == "sextant/catalog/builtin/metrics.yaml"
    assert detail["origin"]["builtin"] is True and detail["origin"]["line"] > 1
    assert detail["dependencies"] == ["dau", "mau"]
    assert detail["definition"]["numerator"] == "dau"
    assert "plan" in detail["dimensions"]
    revenue = json.loads(ok(metrics("show revenue --json")))
    assert revenue["dimensions"] == ["tenant"]  # orders carry no plan, country or person


def test_sql_compiles_each_metric_shape_when_dialect_is_any_supported_one(metrics):
    for name in SHAPES:
        for dialect in DIALECTS:
            sql = ok(metrics(f"sql {name} --dialect {dialect}"))
            assert sql.startswith(f"/* metric {name} (")
            assert "SELECT" in sql and " in UTC, grain " in sql
    window = f"{TODAY - timedelta(days=30)}..{TODAY - timedelta(days=1)} in UTC"
    assert window in ok(metrics("sql dau"))  # the default: the last 30 complete days


def test_sql_follows_range_grain_zone_and_filters_when_given(metrics):
    sql = ok(
        metrics(
            "sql signups --dialect snowflake --from 2025-01-06 --to 2025-02-02 --grain week "
            "--tz Europe/Paris --week-start sunday --by plan --where \"country = 'FR'\" "
            "--tenant t1 --tenant t2"
        )
    )
    header = sql.splitlines()[0]
    assert "2025-01-06..2025-02-02 in Europe/Paris, grain week, tenants t1, t2" in header
    assert "CONVERT_TIMEZONE('Europe/Paris'" in sql
    assert "'FR'" in sql and "'t1'" in sql and "AS plan" in sql
    preset = ok(metrics("sql dau --range last_7_days --dialect bigquery"))
    assert f"{TODAY - timedelta(days=7)}..{TODAY - timedelta(days=1)}" in preset


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_query_json_equals_hand_written_sql_when_counting_daily_signups(metrics, store, zone):
    rows = rows_of(metrics(f"query signups {WINDOW} --tz {zone} --format json"))
    expected = {r["day"]: r["n"] for r in oracle(store, SIGNUPS_BY_DAY, zone)}
    days = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    assert [r["bucket"] for r in rows] == [str(d) for d in days]
    assert [r["value"] for r in rows] == [expected.get(d, 0) for d in days]
    assert sum(r["value"] for r in rows) > 50


def test_query_csv_has_header_and_same_rows_as_json_when_revenue_is_split_by_tenant(metrics):
    command = f"query revenue --grain week --by tenant {WINDOW}"
    as_json = rows_of(metrics(f"{command} --format json"))
    table = list(csv.reader(io.StringIO(ok(metrics(f"{command} --format csv")))))
    assert table[0] == ["bucket", "tenant", "currency", "value"]
    assert len(table) - 1 == len(as_json) >= 3 * 4  # three shops, at least four weeks
    for line, row in zip(table[1:], as_json, strict=True):
        assert line[:3] == [row["bucket"], row["tenant"], row["currency"]]
        assert float(line[3]) == pytest.approx(row["value"])
    assert {datetime.fromisoformat(r["bucket"]).weekday() for r in as_json} == {0}  # Mondays


def test_csv_cells_are_quoted_when_they_would_run_as_spreadsheet_formulas(metrics, store, tmp_path):
    shutil.copy(store / "sextant.duckdb", tmp_path / "sextant.duckdb")
    paths = ['=HYPERLINK("http://x")', "+1+2", "@SUM(A1)", "-7", "\tx", "/ok"]
    at = datetime(EMPTY_DAY.year, EMPTY_DAY.month, EMPTY_DAY.day, 12, tzinfo=UTC)
    engine = DuckDBEngine(tmp_path / "sextant.duckdb")
    engine.append(
        "events",
        pa.table(
            {
                "id": [f"evil-{i}" for i in range(len(paths))],
                "event": ["$pageview"] * len(paths),
                "timestamp": [at] * len(paths),
                "distinct_id": [f"evil-{i}" for i in range(len(paths))],
                "person_id": [900_000 + i for i in range(len(paths))],
                "path": paths,
            }
        ),
    )
    engine.close()
    day = f"--from {EMPTY_DAY} --to {EMPTY_DAY}"
    text = ok(metrics(f"query active_persons {day} --by path --format csv --data-dir", tmp_path))
    cells = {line[1] for line in csv.reader(io.StringIO(text))} - {"path"}
    assert cells == {'\'=HYPERLINK("http://x")', "'+1+2", "'@SUM(A1)", "-7", "'\tx", "/ok"}


def test_query_table_shows_label_range_numbers_and_incomplete_cohorts(metrics):
    text = ok(metrics("query activation_rate --range last_30_days"))
    start, end = TODAY - timedelta(days=30), TODAY - timedelta(days=1)
    assert f"Activation rate (activation_rate, ratio): {start} to {end} by day, UTC" in text
    assert "(incomplete)" in text and "%" in text
    rows = rows_of(metrics("query activation_rate --format json"))  # default: last 30 days
    flags = [r["incomplete"] for r in rows]
    assert any(flags) and not all(flags) and flags == sorted(flags)  # the latest cohorts
    revenue = ok(metrics(f"query revenue --from {FIRST} --to {FIRST}"))
    assert "Revenue (revenue, currency)" in revenue and "USD" in revenue
    assert "(incomplete)" not in revenue


def test_query_takes_parameters_when_metric_declares_them(metrics):
    command = f"query power_users --from {LAST} --to {LAST} --format json"
    strict = rows_of(metrics(command))[0]["value"]
    loose = rows_of(metrics(f"{command} --param min_days=1"))[0]["value"]
    assert loose > strict  # active on 1 day of 28 is easier than on 16 of them


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("query signup", ["unknown metric 'signup'", "hint: did you mean 'signups'?"]),
        (
            f"query dau --from {TODAY} --to {TODAY + timedelta(days=3)}",
            ["Cannot select future dates"],
        ),
        (f"query dau --from {LAST} --to {FIRST}", ["Invalid date range", "is after"]),
        (f"query dau --from {FIRST}", ["--to is missing"]),
        (f"query dau --from 01/02/2025 --to {LAST}", ["from: Input should be a valid date"]),
        ("query signups --grain year", ["grain: Input should be 'hour', 'day'"]),
        ("query dau --grain hour", ["dau counts whole days"]),
        ("query signups --range last_week", ["unknown range 'last_week'"]),
        ("query signups --tz Mars/Base", ["unknown time zone 'Mars/Base'"]),
        ("query signups --by planet", ["unknown dimension 'planet'", "plan"]),
        ("query revenue --by plan", ["table orders has no column 'plan'"]),
        ("query signups --where plan", ["'plan' is a bare column"]),
        ("query signups --where 'DROP TABLE x'", ["is a DROP statement"]),
        ("query signups --where \"plan = 'x'; DROP TABLE events\"", ["holds 2 statements"]),
        ("query power_users --param min_days", ["expected KEY=VALUE"]),
        ("query power_users --param nope=1", ["takes no parameter 'nope'"]),
        ("query power_users --param min_days=abc", ["min_days", "valid integer"]),
        ("query dau --param a=1 --param a=2", ["given twice"]),
        ("sql dau --dialect oracle", ["unknown SQL dialect 'oracle'", "snowflake"]),
        ("show stickyness", ["did you mean 'stickiness'?"]),
    ],
)
def test_bad_input_gets_a_clear_error_when_options_are_wrong(metrics, command, phrases):
    refused(metrics(command), *phrases)


def test_bad_format_is_a_usage_error_when_not_table_json_or_csv(metrics):
    ran = metrics("query dau --format xml")
    assert ran.code == 2 and "--format" in ran.err and "Traceback" not in ran.err


def test_user_catalog_adds_metrics_when_catalog_dir_is_set(metrics, user_catalog):
    env = {"SEXTANT_CATALOG_DIR": str(user_catalog)}
    listed = rows_of(metrics("list --json", env=env))
    assert "free_signups" in {m["name"] for m in listed} and len(listed) > 20
    detail = json.loads(ok(metrics("show free_signups --json", env=env)))
    assert detail["origin"] == {
        "file": str(user_catalog / "growth.yaml"),
        "line": 2,
        "builtin": False,
    }
    mine = rows_of(metrics(f"query free_signups {WINDOW} --format json", env=env))
    free = rows_of(metrics(f"query signups --where \"plan = 'free'\" {WINDOW} --format json"))
    assert mine == free and sum(r["value"] for r in mine) > 0
    assert "plan = 'free'" in ok(metrics("sql free_signups", env=env))


def test_user_catalog_is_read_when_given_as_option(metrics, user_catalog):
    out = ok(metrics("show free_signups --catalog-dir", user_catalog))
    assert "Free sign-ups" in out and "growth.yaml line 2" in out
    refused(metrics("show free_signups"), "unknown metric 'free_signups'")


def test_catalog_errors_name_file_and_line_when_user_yaml_is_bad(metrics, tmp_path):
    (tmp_path / "bad.yaml").write_text("metrics:\n  - name: x\n    label: [unclosed\n")
    refused(
        metrics("list --catalog-dir", tmp_path),
        "the metric catalog has 1 problem",
        "bad.yaml line",
        "not valid YAML",
        "hint: fix the def",
    )
    (tmp_path / "bad.yaml").write_text(USER_METRICS.replace("count_distinct", "count_distinc"))
    refused(
        metrics("query dau --catalog-dir", tmp_path),
        "unknown type 'count_distinc' (did you mean 'count_distinct'?)",
    )
    missing = {"SEXTANT_CATALOG_DIR": str(tmp_path / "nowhere")}
    refused(metrics("list", env=missing), "catalog directory", "does not exist")


def test_query_goes_through_the_server_when_one_holds_the_store(metrics, store, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(store / "sextant.duckdb", served / "sextant.duckdb")
    command = f"query signups {WINDOW} --grain week --by plan --format json"
    local = rows_of(metrics(command))
    server = start_server(served, add_source(served))
    try:
        assert rows_of(metrics(f"{command} --data-dir", served)) == local
        table = ok(metrics("query dau --range last_7_days --data-dir", served))
        assert "Daily active users (dau, persons)" in table
        refused(metrics("query signup --data-dir", served), "did you mean 'signups'")
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "m.yaml").write_text(USER_METRICS)
        refused(
            metrics(
                "query free_signups --data-dir", served, env={"SEXTANT_CATALOG_DIR": str(mine)}
            ),
            "unknown metric 'free_signups'",
            "hint: the running server reads its own catalog",
        )
    finally:
        server.stop()


def test_real_command_prints_csv_and_clean_errors_when_run_as_a_process(store):
    env = {**os.environ, "COLUMNS": "200", "SEXTANT_DATA_DIR": str(store)}

    def sextant(command: str) -> subprocess.CompletedProcess:
        args = [SEXTANT, "metrics", *shlex.split(command)]
        return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)

    done = sextant(f"query orders --from {FIRST} --to {FIRST} --format csv")
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()
    assert header == "bucket,value" and row.startswith(f"{FIRST},") and int(row[11:]) > 0
    bad = sextant("query dau --where 'DROP TABLE x'")
    assert bad.returncode == 1 and bad.stderr.startswith("error: ")
    assert "DROP statement" in bad.stderr and "Traceback" not in bad.stderr
