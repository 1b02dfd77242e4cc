"""Column values: parse strings (CSV, JSON text) or native Arrow values into each logical type.

`parse(array, type)` returns the canonical Arrow array of `store.schema.ARROW_TYPES` plus one
`Rejection` (code, reason, row mask) per kind of bad value; rejected values become null.

Rules, for every input format:

- An empty or blank string is a missing value (null).
- TEXT: anything; numbers and booleans become their text, nested values their JSON text.
  Invalid UTF-8 is rejected (`invalid_utf8`).
- BIGINT, INTEGER: exact whole numbers only: " 12 ", "+12", "12.0" are 12; "12.5", "1e3",
  "abc" are `not_an_integer`; beyond the 64-bit (32-bit) range `out_of_range`. Strings are
  never read through a float, so "9007199254740993" stays exact. A float input above 2^53
  is `inexact_float`: the file already lost the id.
- DOUBLE: finite decimal numbers ("1.5", "-2e3"); "nan", "inf", overflow are rejected.
- BOOLEAN: true/false, yes/no, t/f, y/n, 1/0 (any case).
- TIMESTAMP: ISO 8601 with "T" or a space, optional seconds and fraction (beyond
  microseconds truncated), with "Z" or an offset such as +01:00, +0100, +01; without an offset
  the value is UTC; a bare date is midnight UTC. Or an epoch number: below 10^11 it counts
  seconds (fractions allowed), from 10^11 milliseconds. The two cannot be confused within
  the accepted years 1970..2100 (seconds reach 4.1e9 by 2100, milliseconds start at 1e11
  in 1973). Outside those years: `timestamp_out_of_range`.
- DATE: YYYY-MM-DD.
- MONEY: plain decimals with at most two decimal places ("12", "-3.5", "12.50", "12.500");
  no exponents, thousands separators or currency signs; at most 16 digits before the point.
- JSON: a JSON object, as text or as a nested value (Parquet struct or map, NDJSON object);
  anything else is `not_an_object`. NaN and Infinity are not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from sextant.ingest import times
from sextant.ingest.cells import (
    Parsed,
    Rejection,
    Verdicts,
    as_text,
    cast_each,
    dumps,
    is_nested,
    matches,
    nested_values,
    plain,
    reject_unless,
    shown,
    trimmed,
)
from sextant.store.schema import ARROW_TYPES, Column, Type

__all__ = ["Parsed", "Rejection", "parse", "parse_column", "shown"]


def parse(array: pa.Array | pa.ChunkedArray, type_: Type) -> Parsed:
    """Turn `array` into `type_`'s canonical Arrow type, rejecting what does not fit."""
    array = plain(array)
    verdicts = Verdicts(len(array))
    if type_ is Type.JSON:
        texts, objects = _json(array, verdicts)
        return replace(verdicts.finish(texts, pa.string()), objects=objects)
    values = _PARSERS[type_](array, verdicts)
    return verdicts.finish(values, ARROW_TYPES[type_])


def parse_column(array: pa.Array | pa.ChunkedArray, column: Column) -> Parsed:
    """`parse` for a table column: a null in a required column is rejected too."""
    parsed = parse(array, column.type)
    if not column.required:
        return parsed
    missing = pc.and_(pc.is_null(parsed.values), pc.invert(parsed.rejected))
    if not pc.any(missing).as_py():
        return parsed
    required = Rejection("required", "is required", missing)
    return replace(parsed, rejections=(*parsed.rejections, required))


# --- numbers -----------------------------------------------------------------------------------

_INTEGER_RE = r"^[+-]?\d+(\.0*)?$"
_NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_EXACT_FLOAT = 2**53
_NOT_INTEGER = "is not a whole number"


def _integer(bits: int) -> Callable[[pa.Array, Verdicts], pa.Array]:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    range_reason = f"is out of range for a {bits}-bit integer"

    def parse_integer(array: pa.Array, v: Verdicts) -> pa.Array:
        t = array.type
        if pa.types.is_integer(t):
            if t == pa.uint64():
                v.reject(pc.greater(array, pa.scalar(2**63 - 1, t)), "out_of_range", range_reason)
            ints = v.keep(array).cast(pa.int64())
        elif pa.types.is_floating(t):
            ints = _integer_floats(array, v)
        else:
            ints = _integer_strings(trimmed(array, v), v, range_reason)
        if bits < 64:
            outside = pc.or_(pc.less(ints, lo), pc.greater(ints, hi))
            v.reject(outside, "out_of_range", range_reason)
        return v.keep(ints)

    return parse_integer


def _integer_floats(array: pa.Array, v: Verdicts) -> pa.Array:
    whole = pc.and_(pc.is_finite(array), pc.equal(array, pc.floor(array)))
    v.reject(pc.invert(whole), "not_an_integer", _NOT_INTEGER)
    v.reject(
        pc.greater(pc.abs(array), float(_EXACT_FLOAT)),
        "inexact_float",
        "is a floating-point number above 2^53, so it is not exact; "
        "send ids as integers or strings",
    )
    return v.keep(array).cast(pa.int64())


def _integer_strings(strings: pa.Array, v: Verdicts, range_reason: str) -> pa.Array:
    reject_unless(strings, matches(strings, _INTEGER_RE), v, "not_an_integer", _NOT_INTEGER)
    digits = pc.replace_substring_regex(v.keep(strings), r"^\+|\.0*$", "")
    ints, overflow = cast_each(digits, pa.int64())
    v.reject(overflow, "out_of_range", range_reason)
    return ints


def _double(array: pa.Array, v: Verdicts) -> pa.Array:
    t = array.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        numbers = array.cast(pa.float64())
    else:
        strings = trimmed(array, v)
        reject_unless(strings, matches(strings, _NUMBER_RE), v, "not_a_number", "is not a number")
        numbers, bad = cast_each(v.keep(strings), pa.float64())
        v.reject(bad, "not_a_number", "is not a number")
    v.reject(pc.invert(pc.is_finite(numbers)), "not_finite", "is not a finite number")
    return numbers


# --- booleans ----------------------------------------------------------------------------------

_TRUE = ["true", "t", "yes", "y", "1"]  # lists, not arrays: building an array on import
_FALSE = ["false", "f", "no", "n", "0"]  # makes pyarrow import pandas (0.3 s per command)


def _boolean(array: pa.Array, v: Verdicts) -> pa.Array:
    if pa.types.is_boolean(array.type):
        return array
    if pa.types.is_integer(array.type):
        v.reject(
            pc.invert(pc.is_in(array, pa.array([0, 1], array.type))), "not_a_boolean", _NOT_BOOL
        )
        return pc.equal(v.keep(array), pa.scalar(1, array.type))
    words = pc.utf8_lower(trimmed(array, v))
    true = pc.is_in(words, pa.array(_TRUE, pa.string()))
    false = pc.is_in(words, pa.array(_FALSE, pa.string()))
    reject_unless(words, pc.or_(true, false), v, "not_a_boolean", _NOT_BOOL)
    return pc.if_else(pc.is_null(words), pa.scalar(None, pa.bool_()), true)


_NOT_BOOL = "is not a boolean (true/false, yes/no, t/f, 1/0)"


# --- money -------------------------------------------------------------------------------------

_MONEY = pa.decimal128(18, 2)
_DECIMAL_RE = r"^[+-]?\d+(\.\d+)?$"
_CENTS_RE = r"^[+-]?\d+(\.\d{1,2}0*)?$"
_MONEY_SIZE_RE = r"^[+-]?0*\d{1,16}(\.|$)"  # decimal(18, 2) holds 16 digits before the point


def _money(array: pa.Array, v: Verdicts) -> pa.Array:
    strings = trimmed(array, v)  # floats print as their shortest exact decimal ("12.34")
    reject_unless(
        strings,
        matches(strings, _DECIMAL_RE),
        v,
        "not_money",
        "is not a plain decimal amount such as 12.50",
    )
    reject_unless(
        strings, matches(strings, _CENTS_RE), v, "too_precise", "has more than 2 decimal places"
    )
    reject_unless(
        strings,
        matches(strings, _MONEY_SIZE_RE),
        v,
        "out_of_range",
        "is too large for an amount (at most 16 digits before the point)",
    )
    cents = pc.replace_substring_regex(v.keep(strings), r"(\.\d{1,2})0+$", r"\1")
    amounts, bad = cast_each(cents, _MONEY)
    v.reject(bad, "not_money", "is not a plain decimal amount such as 12.50")
    return amounts


# --- JSON objects ------------------------------------------------------------------------------


def _json(array: pa.Array, v: Verdicts) -> tuple[pa.Array, list[dict | None]]:
    if is_nested(array.type):
        texts = [dumps(x, strict=True) for x in nested_values(array)]
    else:
        texts = trimmed(array, v).to_pylist()
    objects: list[dict | None] = []
    invalid, not_object = [], []
    for text in texts:
        value, kind = _json_object(text)
        objects.append(value)
        invalid.append(kind == "invalid")
        not_object.append(kind == "other")
    v.reject(pa.array(invalid), "not_an_object", "is not valid JSON; it must be a JSON object")
    v.reject(pa.array(not_object), "not_an_object", "must be a JSON object")
    return pa.array(texts, pa.string()), objects


def _json_object(text: str | None) -> tuple[dict | None, str]:
    if text is None:
        return None, "null"
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return None, "invalid"
    return (value, "object") if isinstance(value, dict) else (None, "other")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(
    parse_constant=_no_constant
)  # one decoder: json.loads makes one per call


_PARSERS: dict[Type, Callable[[pa.Array, Verdicts], pa.Array]] = {
    Type.TEXT: as_text,
    Type.BIGINT: _integer(64),
    Type.INTEGER: _integer(32),
    Type.DOUBLE: _double,
    Type.BOOLEAN: _boolean,
    Type.TIMESTAMP: times.timestamp,
    Type.DATE: times.date,
    Type.MONEY: _money,
}
