"""File import: row verdicts, exact ids, idempotent replays and clear file-level errors."""

from __future__ import annotations

import csv
import gzip
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sextant.errors import InvalidInput, NotFound, SextantError, Unsupported
from sextant.ingest import readers
from sextant.ingest.files import MAX_PROBLEMS, import_file
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.identity import persons_for

FORMATS = ["csv", "ndjson", "parquet"]
FIRST_ROW = {"csv": 2, "ndjson": 1, "parquet": 1}  # CSV: the header is row 1
NOW = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
BIG = 2**62 + 7

ORDERS = [
    {"tenant_id": "shop", "order_id": "9007199254740993", "created_at": "2024-03-01T12:00:00Z"},
    {"tenant_id": "shop", "order_id": "12.5", "created_at": "2024-03-01T12:00:00Z"},
    {"tenant_id": "shop", "order_id": "3", "created_at": "yesterday", "total_price": "1.234"},
    {"tenant_id": None, "order_id": "4", "created_at": "2024-03-02"},
    {"tenant_id": "shop", "order_id": str(BIG), "created_at": "1709294400", "total_price": "8.5"},
]


@pytest.fixture
def engine():
    with DuckDBEngine(":memory:") as eng:
        yield eng


def write(path: Path, rows: list[dict], fmt: str | None = None) -> Path:
    """`rows` as a file; columns are the keys in first-seen order, None is an empty cell."""
    fmt = fmt or readers.file_format(path)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if fmt == "csv":
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    elif fmt == "ndjson":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pq.write_table(pa.table({c: pa.array([r.get(c) for r in rows]) for c in columns}), path)
    return path


def rows_of(engine, sql: str) -> list[dict]:
    return engine.execute(sql).to_pylist()


def problems(report) -> list[tuple]:
    return [(p["row"], p["column"], p["code"]) for p in report.problems]


# --- good rows kept, bad rows reported, replays idempotent -----------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_good_rows_stored_and_bad_rows_reported_when_file_mixes_them(engine, tmp_path, fmt):
    path = write(tmp_path / f"orders.{fmt}", ORDERS)
    report = import_file(engine, path, "orders", now=NOW)

    first = FIRST_ROW[fmt]
    assert (report.rows_read, report.stored, report.rejected, report.duplicates) == (5, 2, 3, 0)
    assert problems(report) == [
        (first + 1, "order_id", "not_an_integer"),
        (first + 2, "created_at", "not_a_timestamp"),
        (first + 2, "total_price", "too_precise"),
        (first + 3, "tenant_id", "required"),
    ]
    assert report.problems_total == 4
    assert report.problems[0]["reason"] == "'12.5' is not a whole number"
    assert report.problems[3]["reason"] == "is required"
    stored = rows_of(engine, "SELECT order_id, created_at, total_price FROM orders ORDER BY 1")
    assert stored == [
        {
            "order_id": 9007199254740993,
            "created_at": datetime(2024, 3, 1, 12, tzinfo=UTC),
            "total_price": None,
        },
        {
            "order_id": BIG,
            "created_at": datetime(2024, 3, 1, 12, tzinfo=UTC),
            "total_price": Decimal("8.50"),
        },
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_reimport_stores_nothing_new_when_same_file_twice(engine, tmp_path, fmt):
    path = write(tmp_path / f"orders.{fmt}", ORDERS)
    import_file(engine, path, "orders")
    again = import_file(engine, path, "orders")
    assert (again.stored, again.duplicates, again.rejected) == (0, 2, 3)
    assert rows_of(engine, "SELECT count(*) AS n FROM orders") == [{"n": 2}]


def test_repeated_rows_count_as_duplicates_when_within_one_file(engine, tmp_path):
    row = {"tenant_id": "shop", "order_id": "1", "created_at": "2024-03-01"}
    report = import_file(engine, write(tmp_path / "o.csv", [row, row, row]), "orders")
    assert (report.stored, report.duplicates, report.rejected) == (1, 2, 0)


# --- Shopify-scale ids -----------------------------------------------------------------------


def stored_order_ids(engine) -> list[int]:
    return [r["order_id"] for r in rows_of(engine, "SELECT order_id FROM orders ORDER BY 1")]


def id_rows(ids: list) -> list[dict]:
    return [{"tenant_id": "s", "order_id": i, "created_at": "2024-03-01"} for i in ids]


def test_big_ids_survive_exactly_when_csv(engine, tmp_path):
    import_file(engine, write(tmp_path / "o.csv", id_rows([9007199254740993, BIG])), "orders")
    assert stored_order_ids(engine) == [9007199254740993, BIG]


def test_big_ids_survive_exactly_when_ndjson_numbers_or_strings(engine, tmp_path):
    path = write(tmp_path / "o.ndjson", id_rows([9007199254740993, str(BIG)]))
    assert '"order_id": 9007199254740993,' in path.read_text()  # a JSON number, not a string
    import_file(engine, path, "orders")
    assert stored_order_ids(engine) == [9007199254740993, BIG]


@pytest.mark.parametrize("arrow_type", [pa.int64(), pa.string()])
def test_big_ids_survive_exactly_when_parquet_int64_or_string(engine, tmp_path, arrow_type):
    ids = [9007199254740993, BIG]
    table = pa.table(
        {
            "tenant_id": ["s", "s"],
            "order_id": pa.array(ids if arrow_type == pa.int64() else list(map(str, ids))),
            "created_at": pa.array([datetime(2024, 3, 1)] * 2, pa.timestamp("ms")),
        }
    )
    pq.write_table(table, tmp_path / "o.parquet")
    report = import_file(engine, tmp_path / "o.parquet", "orders")
    assert report.stored == 2
    assert stored_order_ids(engine) == ids


# --- columns: mapping, missing, extra ------------------------------------------------------------


def test_missing_required_columns_are_all_listed_when_absent(engine, tmp_path):
    path = write(tmp_path / "o.csv", [{"order_id": "1", "note": "x"}])
    with pytest.raises(InvalidInput) as caught:
        import_file(engine, path, "orders")
    err = caught.value
    assert (err.code, err.field) == ("missing_columns", "tenant_id")
    assert "o.csv lacks required columns of orders: tenant_id, created_at" in err.message


def test_map_renames_file_columns_when_names_differ(engine, tmp_path):
    rows = [{"Shop": "s", "Order ID": "7", "Created": "2024-03-01", "Total": "9.90"}]
    mapping = {"Shop": "tenant_id", "Order ID": "order_id", "Created": "created_at"}
    report = import_file(engine, write(tmp_path / "o.csv", rows), "orders", mapping)
    assert report.stored == 1
    assert report.ignored_columns == ["Total"]
    assert rows_of(engine, "SELECT tenant_id, order_id FROM orders") == [
        {"tenant_id": "s", "order_id": 7}
    ]


def test_map_errors_name_every_bad_pair_when_source_or_target_unknown(engine, tmp_path):
    path = write(tmp_path / "o.csv", id_rows(["1"]))
    with pytest.raises(InvalidInput) as caught:
        import_file(engine, path, "orders", {"nope": "order_id", "tenant_id": "shop"})
    codes = [(p.code, p.field) for p in caught.value.problems]
    assert codes == [("map_source_missing", "nope"), ("map_target_unknown", "shop")]
    assert "o.csv has no column 'nope'" in caught.value.message
    assert "table orders has no column 'shop'" in caught.value.message


def test_extra_columns_are_ignored_and_listed_when_table_has_no_properties(engine, tmp_path):
    rows = [{**id_rows(["1"])[0], "note": "gift", "colour": "red"}]
    report = import_file(engine, write(tmp_path / "o.csv", rows), "orders")
    assert report.stored == 1
    assert report.ignored_columns == ["note", "colour"]
    assert any("note, colour" in w for w in report.warnings)


def event_rows() -> list[dict]:
    return [
        {
            "event": "signup",
            "timestamp": "2024-03-01T12:00:00Z",
            "distinct_id": "u1",
            "utm": "ads",
            "properties": '{"utm": "own", "n": 1}',
        },
        {"event": "click", "timestamp": "2024-03-01T12:05:00Z", "distinct_id": "u1", "utm": "mail"},
        {"event": "click", "timestamp": "2024-03-01T12:06:00Z", "distinct_id": "u2"},
    ]


def test_extra_columns_fold_into_properties_when_events(engine, tmp_path):
    report = import_file(engine, write(tmp_path / "e.csv", event_rows()), "events", now=NOW)
    assert report.folded_columns == ["utm"]
    stored = rows_of(engine, "SELECT properties FROM events ORDER BY timestamp")
    assert [json.loads(r["properties"]) if r["properties"] else None for r in stored] == [
        {"utm": "own", "n": 1},  # the row's own properties win
        {"utm": "mail"},
        None,
    ]


def test_events_share_a_person_when_same_distinct_id(engine, tmp_path):
    import_file(engine, write(tmp_path / "e.csv", event_rows()), "events", now=NOW)
    people = rows_of(engine, "SELECT distinct_id, person_id FROM events ORDER BY timestamp")
    assert people[0]["person_id"] == people[1]["person_id"] != people[2]["person_id"]


def test_events_reuse_the_person_when_distinct_id_is_already_known(engine, tmp_path):
    known = persons_for(engine, ["u2"], NOW)["u2"]
    import_file(engine, write(tmp_path / "e.csv", event_rows()), "events", now=NOW)
    assert rows_of(engine, "SELECT person_id FROM events WHERE distinct_id = 'u2'") == [
        {"person_id": known}
    ]


def test_person_id_column_is_ignored_with_a_warning_when_events(engine, tmp_path):
    rows = [{**r, "person_id": "999"} for r in event_rows()]
    report = import_file(engine, write(tmp_path / "e.csv", rows), "events", now=NOW)
    assert report.ignored_columns == ["person_id"]
    assert any("person_id" in w for w in report.warnings)
    assert rows_of(engine, "SELECT count(*) AS n FROM events WHERE person_id = 999") == [{"n": 0}]


def test_event_defaults_are_filled_when_file_lacks_them(engine, tmp_path):
    import_file(engine, write(tmp_path / "e.csv", event_rows()[:1]), "events", now=NOW)
    [row] = rows_of(engine, "SELECT id, received_at, source FROM events")
    assert row["received_at"] == NOW
    assert row["source"] == "import:e.csv"
    assert len(row["id"]) == 36


def test_derived_event_ids_dedupe_when_same_events_come_in_another_format(engine, tmp_path):
    rows = event_rows()
    first = import_file(engine, write(tmp_path / "e.csv", rows), "events", now=NOW)
    for row in rows:  # NDJSON carries properties as an object, not as text
        if "properties" in row:
            row["properties"] = json.loads(row["properties"])
    again = import_file(engine, write(tmp_path / "e.ndjson", rows), "events", now=NOW)
    assert (first.stored, again.stored, again.duplicates) == (3, 0, 3)


def test_nested_properties_become_json_when_parquet_struct(engine, tmp_path):
    table = pa.table(
        {
            "event": ["view"],
            "timestamp": pa.array([datetime(2024, 3, 1, 12)], pa.timestamp("us")),
            "distinct_id": ["u1"],
            "properties": pa.array([{"path": "/a", "n": 2}]),
            "score": [0.5],
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    report = import_file(engine, tmp_path / "e.parquet", "events", now=NOW)
    assert (report.stored, report.folded_columns) == (1, ["score"])
    [row] = rows_of(engine, "SELECT timestamp, properties FROM events")
    assert row["timestamp"] == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert json.loads(row["properties"]) == {"score": 0.5, "path": "/a", "n": 2}


def test_persons_are_imported_with_extras_in_properties_when_persons_table(engine, tmp_path):
    rows = [
        {"person_id": "1", "created_at": "2024-01-01", "plan": "pro", "email": "a@x.io"},
        {"person_id": "", "created_at": "2024-01-01", "plan": "pro", "email": "b@x.io"},
    ]
    report = import_file(engine, write(tmp_path / "p.csv", rows), "persons")
    assert (report.stored, report.rejected) == (1, 1)
    assert problems(report) == [(3, "person_id", "required")]
    [row] = rows_of(engine, "SELECT plan, properties FROM persons")
    assert (row["plan"], json.loads(row["properties"])) == ("pro", {"email": "a@x.io"})


# --- format specifics ---------------------------------------------------------------------------


def test_ndjson_bad_lines_are_bad_rows_when_not_json_objects(engine, tmp_path):
    good = json.dumps(id_rows(["1"])[0])
    lines = [good, "{not json", "[1, 2]", "", json.dumps(id_rows(["2"])[0])]
    path = tmp_path / "o.ndjson"
    path.write_text("\n".join(lines) + "\n")
    report = import_file(engine, path, "orders")
    assert (report.rows_read, report.stored, report.rejected) == (4, 2, 2)
    assert problems(report) == [(2, None, "not_json"), (3, None, "not_an_object")]
    assert report.problems[1]["reason"] == "is a JSON array, not an object"


def test_csv_rows_with_wrong_field_count_are_reported_when_numbering_continues(engine, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(
        'tenant_id,order_id,created_at\ns,1,2024-03-01\ns,2\n\ns,"3",2024-03-01\ns,x,2024-03-01\n'
    )
    report = import_file(engine, path, "orders")
    assert problems(report) == [(3, None, "wrong_field_count"), (6, "order_id", "not_an_integer")]
    assert report.problems[0]["reason"] == "has 2 fields where the header has 3"
    assert (report.rows_read, report.stored) == (4, 2)


def test_row_numbers_stay_right_when_file_spans_many_batches(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "BATCH_ROWS", 7)
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 200)
    lines, expected = ["tenant_id,order_id,created_at"], []
    for row in range(2, 102):
        if row % 13 == 0:
            lines.append("s,short")
            expected.append((row, None, "wrong_field_count"))
        elif row % 10 == 0:
            lines.append(f"s,bad{row},2024-03-01")
            expected.append((row, "order_id", "not_an_integer"))
        else:
            lines.append(f"s,{row},2024-03-01")
    csv_path = tmp_path / "o.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    report = import_file(engine, csv_path, "orders")
    assert problems(report) == expected

    ndjson_rows = [
        {"tenant_id": "s", "order_id": f"bad{i}" if i % 10 == 0 else i, "created_at": "2024-03-01"}
        for i in range(1, 51)
    ]
    report = import_file(engine, write(tmp_path / "o.ndjson", ndjson_rows), "orders")
    assert [p["row"] for p in report.problems] == [10, 20, 30, 40, 50]


def test_keys_first_seen_late_are_used_when_ndjson(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "BATCH_ROWS", 2)
    rows = id_rows(["1", "2", "3"])
    rows[2]["total_price"] = "4.20"
    import_file(engine, write(tmp_path / "o.ndjson", rows), "orders")
    assert rows_of(engine, "SELECT total_price FROM orders WHERE order_id = 3") == [
        {"total_price": Decimal("4.20")}
    ]


def test_invalid_utf8_value_rejects_only_its_row_when_csv(engine, tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(b"tenant_id,order_id,created_at\ns\xff,1,2024-03-01\ns,2,2024-03-01\n")
    report = import_file(engine, path, "orders")
    assert problems(report) == [(2, "tenant_id", "invalid_utf8")]
    assert report.stored == 1


def test_gzip_and_tsv_files_are_read_when_named_so(engine, tmp_path):
    text = "tenant_id\torder_id\tcreated_at\ns\t1\t2024-03-01\n"
    (tmp_path / "o.tsv").write_text(text)
    (tmp_path / "o.csv.gz").write_bytes(gzip.compress(text.replace("\t", ",").encode()))
    assert import_file(engine, tmp_path / "o.tsv", "orders").stored == 1
    assert import_file(engine, tmp_path / "o.csv.gz", "orders").duplicates == 1


def test_excel_byte_order_mark_is_skipped_when_csv_starts_with_one(engine, tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(b"\xef\xbb\xbftenant_id,order_id,created_at\r\ns,1,2024-03-01\r\n")
    assert import_file(engine, path, "orders").stored == 1


def test_repeated_header_is_a_clear_error_when_csv_names_a_column_twice(engine, tmp_path):
    (tmp_path / "o.csv").write_text("tenant_id,order_id,order_id,created_at\ns,1,2,2024-03-01\n")
    with pytest.raises(InvalidInput) as caught:
        import_file(engine, tmp_path / "o.csv", "orders")
    assert (caught.value.code, caught.value.field) == ("duplicate_columns", "order_id")


def test_problems_are_capped_but_counted_when_many_rows_are_bad(engine, tmp_path):
    rows = id_rows(["x"] * (MAX_PROBLEMS + 500))
    report = import_file(engine, write(tmp_path / "o.csv", rows), "orders")
    assert len(report.problems) == MAX_PROBLEMS
    assert report.problems_total == report.rejected == MAX_PROBLEMS + 500
    assert report.problems[-1]["row"] == MAX_PROBLEMS + 1


def test_progress_counts_every_row_when_reading_in_batches(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "BATCH_ROWS", 2)
    seen: list[int] = []
    path = write(tmp_path / "o.parquet", ORDERS)
    report = import_file(engine, path, "orders", progress=seen.append)
    assert len(seen) == 3
    assert sum(seen) == report.rows_read == 5


def test_header_only_file_is_an_empty_report_when_no_rows(engine, tmp_path):
    (tmp_path / "o.csv").write_text("tenant_id,order_id,created_at\n")
    report = import_file(engine, tmp_path / "o.csv", "orders")
    assert (report.rows_read, report.stored, report.problems) == (0, 0, [])


# --- file-level errors --------------------------------------------------------------------------


def parquet_bytes(tmp_path: Path) -> bytes:
    return write(tmp_path / "real.parquet", id_rows(["1"])).read_bytes()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("image.parquet", lambda tmp: PNG, "it looks like a PNG image"),
        ("data.csv", parquet_bytes, "it looks like a Parquet file"),
        ("data.ndjson", lambda tmp: random.Random(1).randbytes(4096), "binary data"),
        ("text.parquet", lambda tmp: b"tenant_id,order_id\ns,1\n", "cannot read text.parquet"),
        ("cut.parquet", lambda tmp: parquet_bytes(tmp)[:-20], "cannot read cut.parquet"),
        ("data.csv", lambda tmp: b"PK\x03\x04" + bytes(30), "Excel"),
        ("bad.csv.gz", lambda tmp: b"\x1f\x8b\x08\x00garbage", "cannot read bad.csv.gz"),
    ],
)
def test_unreadable_file_is_a_clear_error_when_content_is_not_its_format(
    engine, tmp_path, name, content, phrase
):
    path = tmp_path / name
    path.write_bytes(content(tmp_path))
    with pytest.raises(InvalidInput) as caught:
        import_file(engine, path, "orders")
    assert (caught.value.code, caught.value.field) == ("unreadable_file", "file")
    assert phrase in caught.value.message


@pytest.mark.parametrize(
    ("name", "table", "error", "code", "phrase"),
    [
        ("data.xlsx", "orders", Unsupported, "unsupported_format", "extension '.xlsx'"),
        ("data", "orders", Unsupported, "unsupported_format", "no extension"),
        ("data.csv", "nope", NotFound, "unknown_table", "known tables: customers, events"),
        ("data.csv", "person_overrides", InvalidInput, "table_not_importable", "identity"),
    ],
)
def test_file_level_errors_name_the_problem_when_type_or_table_is_unknown(
    engine, tmp_path, name, table, error, code, phrase
):
    path = tmp_path / name
    path.write_text("tenant_id,order_id,created_at\ns,1,2024-03-01\n")
    with pytest.raises(error) as caught:
        import_file(engine, path, table)
    assert caught.value.code == code
    assert phrase in caught.value.message


def test_unsupported_format_lists_supported_ones_when_extension_unknown(engine, tmp_path):
    (tmp_path / "d.json").write_text("[]")
    with pytest.raises(Unsupported) as caught:
        import_file(engine, tmp_path / "d.json", "orders")
    assert ".csv, .tsv, .parquet" in caught.value.message
    assert ".ndjson" in caught.value.message


def test_format_override_reads_the_file_when_extension_misleads(engine, tmp_path):
    path = write(tmp_path / "o.txt", id_rows(["1"]), fmt="csv")
    assert import_file(engine, path, "orders", file_format="csv").stored == 1
    with pytest.raises(Unsupported) as caught:
        import_file(engine, path, "orders", file_format="xml")
    assert caught.value.field == "format"


def test_missing_and_empty_files_are_clear_errors(engine, tmp_path):
    with pytest.raises(NotFound) as caught:
        import_file(engine, tmp_path / "nope.csv", "orders")
    assert caught.value.code == "file_not_found"
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "blank.ndjson").write_text("\n\n")
    for name in ("empty.csv", "blank.ndjson"):
        with pytest.raises(SextantError) as caught:
            import_file(engine, tmp_path / name, "orders")
        assert caught.value.code == "empty_file"
