"""Column values: each logical type's accepted and rejected inputs, from text and native Arrow."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sextant.ingest.values import parse, parse_column
from sextant.store.schema import Column, Type


def accepted(values: list, type_: Type, arrow_type: pa.DataType | None = None) -> list:
    parsed = parse(pa.array(values, arrow_type), type_)
    assert parsed.rejections == (), [(r.code, r.reason) for r in parsed.rejections]
    return parsed.values.to_pylist()


def rejection(value: object, type_: Type, arrow_type: pa.DataType | None = None) -> str:
    """The code rejecting a single value; the value itself becomes null."""
    parsed = parse(pa.array([value], arrow_type), type_)
    assert parsed.values.to_pylist() == [None]
    assert len(parsed.rejections) == 1, parsed.rejections
    assert parsed.rejections[0].mask.to_pylist() == [True]
    return parsed.rejections[0].code


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- integers ----------------------------------------------------------------------------------


def test_bigint_is_exact_when_text_is_beyond_2_53():
    texts = ["9007199254740993", str(2**62 + 7), "9223372036854775807", "-9223372036854775808"]
    assert accepted(texts, Type.BIGINT) == [9007199254740993, 2**62 + 7, 2**63 - 1, -(2**63)]


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_bigint_round_trips_exactly_when_any_int64_is_sent_as_text(n):
    assert accepted([str(n)], Type.BIGINT) == [n]


def test_integer_accepts_blanks_sign_zeros_and_point_zero_when_whole():
    assert accepted([" 12 ", "+12", "-12", "007", "12.0", "12.", "12.000"], Type.BIGINT) == [
        12,
        12,
        -12,
        7,
        12,
        12,
        12,
    ]


@pytest.mark.parametrize("text", ["12.5", "abc", "1e3", "12,5", "0x10", "--1", "1 2"])
def test_integer_rejects_when_not_a_whole_number(text):
    assert rejection(text, Type.BIGINT) == "not_an_integer"


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("9223372036854775808", Type.BIGINT),
        ("-9223372036854775809", Type.BIGINT),
        ("99999999999999999999999", Type.BIGINT),
        ("2147483648", Type.INTEGER),
        ("-2147483649", Type.INTEGER),
    ],
)
def test_integer_rejects_when_out_of_range(text, type_):
    assert rejection(text, type_) == "out_of_range"


def test_integer_accepts_native_ints_when_file_has_typed_columns():
    assert accepted([2**62 + 7, None], Type.BIGINT, pa.int64()) == [2**62 + 7, None]
    assert accepted([5], Type.INTEGER, pa.int8()) == [5]
    assert rejection(2**63 + 1, Type.BIGINT, pa.uint64()) == "out_of_range"
    assert rejection(2**31, Type.INTEGER, pa.int64()) == "out_of_range"


def test_integer_accepts_whole_floats_when_exact():
    assert accepted([12.0, -3.0, float(2**53)], Type.BIGINT) == [12, -3, 2**53]


def test_integer_rejects_floats_when_fractional_or_beyond_2_53():
    assert rejection(12.5, Type.BIGINT) == "not_an_integer"
    assert rejection(float("nan"), Type.BIGINT) == "not_an_integer"
    assert rejection(2.0**60, Type.BIGINT) == "inexact_float"


def test_integer_reads_decimals_when_whole():
    assert accepted([Decimal("12.00")], Type.BIGINT) == [12]
    assert rejection(Decimal("12.50"), Type.BIGINT) == "not_an_integer"


@pytest.mark.parametrize("type_", list(Type))
def test_empty_and_blank_text_is_null_when_any_type(type_):
    assert accepted(["", None], type_, pa.string()) == [None, None]
    if type_ is not Type.TEXT:
        assert accepted(["   "], type_) == [None]


# --- doubles and booleans ----------------------------------------------------------------------


def test_double_accepts_decimal_and_exponent_text():
    assert accepted(["1.5", "-2e3", " 3 ", ".5", "+7", "1E-2"], Type.DOUBLE) == [
        1.5,
        -2000.0,
        3.0,
        0.5,
        7.0,
        0.01,
    ]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("nan", "not_a_number"),
        ("inf", "not_a_number"),
        ("abc", "not_a_number"),
        ("1,5", "not_a_number"),
        ("1e999", "not_finite"),
        (float("inf"), "not_finite"),
        (float("nan"), "not_finite"),
    ],
)
def test_double_rejects_when_not_a_finite_number(value, code):
    assert rejection(value, Type.DOUBLE) == code


def test_boolean_accepts_common_words_when_any_case():
    words = ["true", "FALSE", "Yes", "no", "t", "F", "1", "0", " y ", "N"]
    expected = [True, False, True, False, True, False, True, False, True, False]
    assert accepted(words, Type.BOOLEAN) == expected
    assert accepted([1, 0], Type.BOOLEAN) == [True, False]
    assert accepted([True, None], Type.BOOLEAN) == [True, None]


@pytest.mark.parametrize("value", ["maybe", "2", "on", 2])
def test_boolean_rejects_when_not_a_truth_value(value):
    assert rejection(value, Type.BOOLEAN) == "not_a_boolean"


# --- timestamps and dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T12:00:00Z", utc(2024, 3, 1, 12)),
        ("2024-03-01t12:00:00z", utc(2024, 3, 1, 12)),
        ("2024-03-01 12:00:00+01:00", utc(2024, 3, 1, 11)),
        ("2024-03-01T12:00:00-0530", utc(2024, 3, 1, 17, 30)),
        ("2024-03-01T12:00:00+01", utc(2024, 3, 1, 11)),
        ("2024-03-01T12:00:00.25Z", utc(2024, 3, 1, 12, 0, 0, 250000)),
        ("2024-03-01T12:00:00.123456789Z", utc(2024, 3, 1, 12, 0, 0, 123456)),
        ("2024-03-01T12:00", utc(2024, 3, 1, 12)),
        ("2024-03-01 12:00:00", utc(2024, 3, 1, 12)),
        ("2024-03-01", utc(2024, 3, 1)),
        ("1709294400", utc(2024, 3, 1, 12)),
        ("1709294400.5", utc(2024, 3, 1, 12, 0, 0, 500000)),
        ("1709294400123", utc(2024, 3, 1, 12, 0, 0, 123000)),
        (" 1709294400 ", utc(2024, 3, 1, 12)),
        ("2100-12-31T23:59:59Z", utc(2100, 12, 31, 23, 59, 59)),
    ],
)
def test_timestamp_is_utc_microseconds_when_iso_or_epoch_text(text, expected):
    assert accepted([text], Type.TIMESTAMP) == [expected]


def test_timestamp_epoch_unit_is_chosen_by_magnitude_when_number():
    # Below 10^11: seconds (so 99,999,999,999 s is the year 5138: rejected);
    # from 10^11: milliseconds (1973-03-03).
    assert rejection(99_999_999_999, Type.TIMESTAMP, pa.int64()) == "timestamp_out_of_range"
    assert accepted([100_000_000_000], Type.TIMESTAMP, pa.int64()) == [utc(1973, 3, 3, 9, 46, 40)]
    assert accepted([1709294400, 1709294400123], Type.TIMESTAMP, pa.int64()) == [
        utc(2024, 3, 1, 12),
        utc(2024, 3, 1, 12, 0, 0, 123000),
    ]
    assert accepted([1709294400.5], Type.TIMESTAMP) == [utc(2024, 3, 1, 12, 0, 0, 500000)]


def test_timestamp_keeps_instant_when_native_timestamp_or_date():
    naive = pa.array([datetime(2024, 3, 1, 12)], pa.timestamp("ns"))
    paris = pa.array([datetime(2024, 3, 1, 11, tzinfo=UTC)], pa.timestamp("ms", tz="Europe/Paris"))
    assert accepted(naive.to_pylist(), Type.TIMESTAMP, naive.type) == [utc(2024, 3, 1, 12)]
    assert parse(paris, Type.TIMESTAMP).values.to_pylist() == [utc(2024, 3, 1, 11)]
    assert accepted([date(2024, 3, 1)], Type.TIMESTAMP) == [utc(2024, 3, 1)]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("yesterday", "not_a_timestamp"),
        ("03/01/2024", "not_a_timestamp"),
        ("2024-02-30T00:00:00Z", "not_a_timestamp"),
        ("2024-03-01T25:00:00Z", "not_a_timestamp"),
        ("-5", "not_a_timestamp"),
        ("1969-12-31T23:59:59Z", "timestamp_out_of_range"),
        ("2101-01-01T00:00:00Z", "timestamp_out_of_range"),
        ("99999999999999999999", "timestamp_out_of_range"),
        ("9999999999", "timestamp_out_of_range"),
    ],
)
def test_timestamp_rejects_when_unparseable_or_outside_1970_2100(value, code):
    assert rejection(value, Type.TIMESTAMP) == code


def test_timestamp_rejects_only_bad_rows_when_batch_mixes_them():
    parsed = parse(pa.array(["2024-03-01", "2024-02-30", None, "1709294400"]), Type.TIMESTAMP)
    assert parsed.values.to_pylist() == [utc(2024, 3, 1), None, None, utc(2024, 3, 1, 12)]
    assert parsed.rejected.to_pylist() == [False, True, False, False]


def test_date_accepts_iso_dates_and_rejects_others():
    assert accepted(["2024-03-01", " 2024-02-29 "], Type.DATE) == [
        date(2024, 3, 1),
        date(2024, 2, 29),
    ]
    assert rejection("2023-02-29", Type.DATE) == "not_a_date"
    assert rejection("03/01/2024", Type.DATE) == "not_a_date"


# --- money -------------------------------------------------------------------------------------


def test_money_is_exact_when_plain_decimal_text():
    texts = ["12", "-3.5", "12.50", "12.500", " 7.1 ", "0.1", "1234567890123456.99"]
    assert accepted(texts, Type.MONEY) == [
        Decimal("12.00"),
        Decimal("-3.50"),
        Decimal("12.50"),
        Decimal("12.50"),
        Decimal("7.10"),
        Decimal("0.10"),
        Decimal("1234567890123456.99"),
    ]


def test_money_is_exact_when_native_float_decimal_or_int():
    assert accepted([12.34, 0.1], Type.MONEY) == [Decimal("12.34"), Decimal("0.10")]
    assert accepted([Decimal("12.500")], Type.MONEY) == [Decimal("12.50")]
    assert accepted([5], Type.MONEY, pa.int64()) == [Decimal("5.00")]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12.345", "too_precise"),
        (0.1 + 0.2, "too_precise"),
        ("1e3", "not_money"),
        ("$5", "not_money"),
        ("1,000.00", "not_money"),
        ("12.", "not_money"),
        ("abc", "not_money"),
        ("12345678901234567", "out_of_range"),
    ],
)
def test_money_rejects_when_not_exact_cents(value, code):
    assert rejection(value, Type.MONEY) == code


# --- JSON and text -----------------------------------------------------------------------------


def test_json_keeps_object_text_and_parses_it_when_valid():
    parsed = parse(pa.array(['{"plan": "pro", "n": 1}', None]), Type.JSON)
    assert parsed.values.to_pylist() == ['{"plan": "pro", "n": 1}', None]
    assert parsed.objects == [{"plan": "pro", "n": 1}, None]


def test_json_serialises_nested_values_when_struct_or_map():
    struct = pa.array([{"plan": "pro", "n": 1}])
    mapping = pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64()))
    assert parse(struct, Type.JSON).objects == [{"plan": "pro", "n": 1}]
    assert parse(mapping, Type.JSON).objects == [{"a": 1}]


@pytest.mark.parametrize("text", ["[1]", '"s"', "12", "nope", '{"a": NaN}', '{"a": 1} x', "{"])
def test_json_rejects_when_not_an_object(text):
    parsed = parse(pa.array([text]), Type.JSON)
    assert [r.code for r in parsed.rejections] == ["not_an_object"]
    assert "JSON object" in parsed.rejections[0].reason
    assert parsed.values.to_pylist() == [None]


def test_json_rejects_lists_when_native_nested():
    assert rejection([1, 2], Type.JSON) == "not_an_object"


def test_text_stringifies_numbers_and_keeps_nul_when_any_value():
    assert accepted([12, 13], Type.TEXT) == ["12", "13"]
    assert accepted([1.5], Type.TEXT) == ["1.5"]
    assert accepted(["a\x00b", " padded "], Type.TEXT) == ["a\x00b", " padded "]


def test_text_rejects_when_invalid_utf8():
    parsed = parse(pa.array([b"ok", b"\xff\xfe"], pa.binary()), Type.TEXT)
    assert parsed.values.to_pylist() == ["ok", None]
    assert [r.code for r in parsed.rejections] == ["invalid_utf8"]


# --- required columns --------------------------------------------------------------------------


def test_required_column_rejects_null_but_not_twice_when_value_already_bad():
    column = Column("order_id", Type.BIGINT, required=True)
    parsed = parse_column(pa.array(["1", None, "x", ""]), column)
    codes = {r.code: r.mask.to_pylist() for r in parsed.rejections}
    assert codes == {
        "not_an_integer": [False, False, True, False],
        "required": [False, True, False, True],
    }
    assert parsed.values.to_pylist() == [1, None, None, None]


def test_each_row_gets_one_verdict_when_several_reasons_apply():
    parsed = parse(pa.array([b"\xff", b"12.5", b"99999999999999999999"], pa.binary()), Type.BIGINT)
    masks = [r.mask.to_pylist() for r in parsed.rejections]
    assert [sum(column) for column in zip(*masks, strict=True)] == [1, 1, 1]
