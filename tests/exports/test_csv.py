"""CSV exports: PII columns left out, formulas neutralised, numbers kept, row cap and laziness."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sextant.exports import LIMIT_MESSAGE, MAX_EXPORT_ROWS, pii_columns, write_csv
from sextant.store.schema import TABLES

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_pii_dropped_when_plain_prefixed_dotted_or_mixed_case():
    columns = ["day", "email", "$ip", "person.properties.phone", "properties.$Email", "NAME"]
    result = write_csv(columns, [dict.fromkeys(columns, "x")])
    assert parse(result.text) == [["day"], ["x"]]
    assert result.dropped == tuple(columns[1:])


def test_pii_dropped_when_schema_flags_the_column():
    flagged = {c.name for t in TABLES.values() for c in t.columns if c.pii}
    assert flagged  # customers.name and customers.email
    columns = ["feature", *sorted(flagged), *(f"customers.{n}" for n in sorted(flagged))]
    assert pii_columns(columns) == columns[1:]


def test_pii_kept_when_name_only_contains_a_pii_word():
    columns = ["feature", "event", "emails_sent", "ip_country", "hostname", "address_count"]
    assert pii_columns(columns) == []


def test_pii_rows_need_no_value_when_column_dropped():
    result = write_csv(["event", "email"], [{"event": "signup"}])
    assert parse(result.text) == [["event"], ["signup"]]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_formula_neutralised_when_text_or_header_starts_with(start):
    header = f"{start}h"
    result = write_csv([header], [{header: f"{start}cmd|' /C calc'!A0"}])
    assert parse(result.text) == [[f"'{start}h"], [f"'{start}cmd|' /C calc'!A0"]]


def test_text_neutralised_when_it_looks_like_a_negative_number():
    assert parse(write_csv(["v"], [{"v": "-3"}]).text)[1] == ["'-3"]


def test_numbers_untouched_when_negative():
    row = {"a": -3, "b": -1.5, "c": Decimal("-2.50"), "d": 0, "e": 2**63 - 1}
    result = write_csv(list(row), [row])
    assert parse(result.text)[1] == ["-3", "-1.5", "-2.50", "0", str(2**63 - 1)]


def test_cells_converted_when_none_bool_date_or_json():
    row = {
        "none": None,
        "yes": True,
        "no": False,
        "day": date(2026, 11, 1),
        "at": datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        "obj": {"k": "é", "n": [1, 2]},
        "arr": ["-x"],
    }
    result = write_csv(list(row), [row])
    assert parse(result.text)[1] == [
        "",
        "true",
        "false",
        "2026-11-01",
        "2026-11-01T09:30:00+00:00",
        '{"k":"é","n":[1,2]}',
        '["-x"]',
    ]


def test_not_truncated_when_rows_equal_limit():
    result = write_csv(["n"], ({"n": i} for i in range(5)), limit=5)
    assert (result.rows, result.truncated, result.message) == (5, False, None)
    assert len(parse(result.text)) == 6


def test_truncated_with_message_when_rows_exceed_limit():
    result = write_csv(["n"], ({"n": i} for i in range(6)), limit=5)
    assert (result.rows, result.truncated) == (5, True)
    assert result.message == "Export limited to 5 rows"
    assert [r[0] for r in parse(result.text)[1:]] == ["0", "1", "2", "3", "4"]


def test_limit_message_names_100k_when_default_limit_exceeded():
    result = write_csv(["n"], ({"n": i} for i in range(MAX_EXPORT_ROWS + 1)))
    assert (result.rows, result.truncated, result.message) == (MAX_EXPORT_ROWS, True, LIMIT_MESSAGE)


def test_rows_read_lazily_when_source_is_longer_than_limit():
    def rows():
        for i in range(4):  # the limit, then one more to learn there is more
            yield {"n": i}
        raise AssertionError("read past limit + 1")

    result = write_csv(["n"], rows(), limit=3)
    assert (result.rows, result.truncated) == (3, True)


def test_text_round_trips_when_unicode():
    text = 'Zürich — 東京 🚀 "quoted", comma\nnewline'
    result = write_csv(["città"], [{"città": text}])
    assert parse(result.text) == [["città"], [text]]


def test_header_only_when_no_rows():
    result = write_csv(["day", "count", "email"], [])
    assert result.text == "day,count\r\n"
    assert (result.rows, result.truncated, result.message) == (0, False, None)


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_text_kept_or_quoted_when_random(texts):
    columns = [f"c{i}" for i in range(len(texts))]
    result = write_csv(columns, [dict(zip(columns, texts, strict=True))])
    parsed = parse(result.text)[1]
    for original, back in zip(texts, parsed, strict=True):
        assert back in (original, "'" + original)
        assert not back.startswith(tuple(FORMULA_STARTS))
