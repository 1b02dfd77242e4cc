"""`sextant import` as a user runs it: a real process, a real store, clear errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SEXTANT = str(Path(sys.executable).parent / "sextant")
HEADER = "tenant_id,order_id,created_at,total_price\n"


def sextant(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SEXTANT, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def assert_clean_error(result: subprocess.CompletedProcess, *phrases: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: "), result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


@pytest.fixture
def orders_csv(tmp_path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + "shop,9007199254740993,2024-03-01T12:00:00Z,19.99\n"
        + "shop,12.5,2024-03-01T12:00:00Z,5\n"
        + f"shop,{2**62 + 7},2024-03-02 08:00:00+01:00,7.50\n"
    )
    return path


def test_summary_and_problems_are_printed_when_file_has_bad_rows(tmp_path, orders_csv):
    result = sextant("import", orders_csv, "--table", "orders", "--data-dir", tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "Imported 2 of 3 rows into orders (1 rejected, 0 duplicates)" in result.stdout
    assert "'12.5' is not a whole number" in result.stdout
    assert "order_id" in result.stdout
    assert "Traceback" not in result.stderr


def test_reimport_reports_duplicates_when_run_twice(tmp_path, orders_csv):
    sextant("import", orders_csv, "--table", "orders", "--data-dir", tmp_path / "d")
    again = sextant("import", orders_csv, "-t", "orders", "--data-dir", tmp_path / "d")
    assert again.returncode == 0, again.stderr
    assert "Imported 0 of 3 rows into orders (1 rejected, 2 duplicates)" in again.stdout


def test_json_report_parses_when_json_flag(tmp_path, orders_csv):
    result = sextant(
        "import", orders_csv, "--table", "orders", "--data-dir", tmp_path / "d", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["stored"], report["rejected"], report["problems_total"]) == (2, 1, 1)
    assert report["problems"] == [
        {
            "row": 3,
            "column": "order_id",
            "code": "not_an_integer",
            "reason": "'12.5' is not a whole number",
        }
    ]


def test_more_problems_are_summarised_when_over_twenty(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "".join(f"shop,x{i},2024-03-01,1\n" for i in range(25)))
    result = sextant("import", path, "--table", "orders", "--data-dir", tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "Imported 0 of 25 rows into orders (25 rejected, 0 duplicates)" in result.stdout
    assert "... and 5 more" in result.stdout


def test_map_and_parquet_import_when_columns_are_named_differently(tmp_path):
    table = pa.table({"shop": ["s"], "id": pa.array([2**62 + 7]), "at": ["2024-03-01"]})
    pq.write_table(table, tmp_path / "o.parquet")
    result = sextant(
        "import",
        tmp_path / "o.parquet",
        "--table",
        "orders",
        "--map",
        "shop=tenant_id",
        "--map",
        "id=order_id",
        "--map",
        "at=created_at",
        "--data-dir",
        tmp_path / "d",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stored"] == 1


def test_events_import_folds_extra_columns_when_ndjson(tmp_path):
    path = tmp_path / "events.ndjson"
    path.write_text(
        json.dumps({"event": "signup", "timestamp": 1709294400, "distinct_id": "u1", "utm": "ad"})
        + "\nnot json\n"
    )
    result = sextant("import", path, "--table", "events", "--data-dir", tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "Imported 1 of 2 rows into events (1 rejected, 0 duplicates)" in result.stdout
    assert "Columns kept in properties: utm" in result.stdout
    assert "line" in result.stdout  # NDJSON problems are numbered by line


def parquet_bytes(tmp_path: Path) -> bytes:
    pq.write_table(pa.table({"a": [1]}), tmp_path / "real.parquet")
    return (tmp_path / "real.parquet").read_bytes()


@pytest.mark.parametrize(
    ("name", "content", "args", "phrases"),
    [
        ("missing.csv", None, [], ["no file at"]),
        ("o.csv", HEADER.encode(), ["--table", "nope"], ["unknown table 'nope'", "orders"]),
        ("o.xlsx", b"x", [], ["extension '.xlsx'", ".csv", ".parquet", ".ndjson"]),
        ("o.parquet", b"\x89PNG\r\n\x1a\n" + bytes(40), [], ["o.parquet", "PNG image"]),
        ("o.csv", "parquet", [], ["o.csv", "Parquet file"]),
        ("o.ndjson", bytes(range(256)) * 8, [], ["o.ndjson", "binary data"]),
        ("o.csv", b"", [], ["o.csv is empty"]),
        ("o.csv", b"note\nx\n", [], ["lacks required columns of orders", "tenant_id, order_id"]),
        ("o.csv", HEADER.encode(), ["--map", "tenant_id"], ["FILE_COLUMN=TABLE_COLUMN"]),
        ("o.csv", HEADER.encode(), ["--map", "shop=tenant_id"], ["has no column 'shop'"]),
        ("o.csv", HEADER.encode(), ["--format", "xml"], ["unknown format 'xml'"]),
    ],
)
def test_file_level_errors_exit_1_without_traceback(tmp_path, name, content, args, phrases):
    path = tmp_path / name
    if content == "parquet":
        path.write_bytes(parquet_bytes(tmp_path))
    elif content is not None:
        path.write_bytes(content)
    table = [] if "--table" in args else ["--table", "orders"]
    result = sextant("import", path, *table, *args, "--data-dir", tmp_path / "d")
    assert_clean_error(result, *phrases)


def test_store_is_not_created_when_the_file_is_rejected(tmp_path):
    (tmp_path / "o.parquet").write_bytes(b"not parquet")
    result = sextant("import", tmp_path / "o.parquet", "-t", "orders", "--data-dir", tmp_path / "d")
    assert_clean_error(result, "cannot read o.parquet")
    assert not (tmp_path / "d").exists()
