"""Times: ISO 8601 and epoch timestamps into UTC microseconds, and calendar dates.

The accepted forms are listed in `values`, with every other type's rules.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from sextant.ingest.cells import Verdicts, cast_each, matches, reject_unless, trimmed

_TS = pa.timestamp("us", tz="UTC")
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
_NAIVE_RE = _TIME + "$"
_ZONED_RE = _TIME + r"(Z|[+-]\d{2}(:?\d{2})?)$"
_EPOCH_RE = r"^(?P<whole>\d+)(?:\.(?P<frac>\d+))?$"
_EPOCH_MS_FROM = 10**11  # below: seconds (up to the year 5138); from here on: milliseconds
_MIN_TS = datetime(1970, 1, 1, tzinfo=UTC)
_END_TS = datetime(2101, 1, 1, tzinfo=UTC)
_OUTSIDE = "is outside the years 1970..2100"
_NOT_TS = (
    "is not a timestamp (ISO 8601 such as 2024-03-01T12:00:00Z, or epoch seconds or milliseconds)"
)


def timestamp(array: pa.Array, v: Verdicts) -> pa.Array:
    """Instants in UTC microseconds, from text, epoch numbers or Arrow timestamps and dates."""
    t = array.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        stamps = array.cast(_TS, safe=False)  # naive means UTC; nanoseconds are dropped
    elif pa.types.is_integer(t):
        stamps = _epoch(array.cast(pa.int64()), pa.nulls(len(array), pa.string()), v)
    elif pa.types.is_floating(t):
        stamps = _epoch_floats(array.cast(pa.float64()), v)
    else:
        stamps = _timestamp_strings(trimmed(array, v), v)
    early, late = (
        pc.less(stamps, pa.scalar(_MIN_TS, _TS)),
        pc.greater_equal(stamps, pa.scalar(_END_TS, _TS)),
    )
    v.reject(pc.or_(early, late), "timestamp_out_of_range", _OUTSIDE)
    return stamps


def _timestamp_strings(strings: pa.Array, v: Verdicts) -> pa.Array:
    upper = pc.utf8_upper(strings)
    epoch = pc.extract_regex(upper, _EPOCH_RE)
    is_epoch = pc.is_valid(epoch)
    date_only, naive = matches(upper, _DATE_RE), matches(upper, _NAIVE_RE)
    is_iso = pc.or_(pc.or_(date_only, naive), matches(upper, _ZONED_RE))
    reject_unless(strings, pc.or_(is_epoch, is_iso), v, "not_a_timestamp", _NOT_TS)

    iso = pc.if_else(
        date_only,
        pc.binary_join_element_wise(upper, "T00:00:00Z", ""),
        pc.if_else(naive, pc.binary_join_element_wise(upper, "Z", ""), upper),
    )
    iso = pc.replace_substring_regex(iso, r"(\.\d{6})\d+", r"\1")
    iso_stamps, bad = cast_each(pc.if_else(is_iso, iso, pa.scalar(None, pa.string())), _TS)
    v.reject(bad, "not_a_timestamp", "is not a valid date and time")

    whole = pc.if_else(is_epoch, pc.struct_field(epoch, "whole"), pa.scalar(None, pa.string()))
    # 13 digits reach past 2100 in milliseconds; longer numbers need not be read at all.
    v.reject(pc.greater(pc.utf8_length(whole), 13), "timestamp_out_of_range", _OUTSIDE)
    whole = v.keep(whole).cast(pa.int64())
    epoch_stamps = _epoch(whole, pc.struct_field(epoch, "frac"), v)
    return pc.if_else(is_epoch, epoch_stamps, iso_stamps)


def _epoch(whole: pa.Array, frac: pa.Array, v: Verdicts) -> pa.Array:
    """Epoch seconds or milliseconds (by magnitude) with an optional fraction, as UTC µs."""
    _reject_outside_epoch(whole, v)
    ms = pc.greater_equal(whole, _EPOCH_MS_FROM)
    whole = v.keep(whole)
    padded = pc.binary_join_element_wise(pc.fill_null(frac, ""), "000000", "")
    micros_of_second = pc.utf8_slice_codeunits(padded, 0, 6).cast(pa.int64())
    micros_of_ms = pc.utf8_slice_codeunits(padded, 0, 3).cast(pa.int64())
    micros = pc.if_else(
        ms,
        pc.add(pc.multiply(whole, 1_000), micros_of_ms),
        pc.add(pc.multiply(whole, 1_000_000), micros_of_second),
    )
    return micros.cast(pa.timestamp("us")).cast(_TS)


def _epoch_floats(numbers: pa.Array, v: Verdicts) -> pa.Array:
    v.reject(pc.invert(pc.is_finite(numbers)), "not_a_timestamp", _NOT_TS)
    _reject_outside_epoch(numbers, v)
    numbers = v.keep(numbers)
    ms = pc.greater_equal(numbers, float(_EPOCH_MS_FROM))
    micros = pc.round(pc.multiply(numbers, pc.if_else(ms, 1e3, 1e6)))
    return micros.cast(pa.int64()).cast(pa.timestamp("us")).cast(_TS)


def _reject_outside_epoch(numbers: pa.Array, v: Verdicts) -> None:
    # Beyond 2100 in milliseconds a product in microseconds could overflow int64.
    end_ms = int(_END_TS.timestamp() * 1000)
    outside = pc.or_(pc.less(numbers, 0), pc.greater_equal(numbers, end_ms))
    v.reject(outside, "timestamp_out_of_range", _OUTSIDE)


def date(array: pa.Array, v: Verdicts) -> pa.Array:
    """Calendar dates from YYYY-MM-DD text or Arrow dates."""
    if pa.types.is_date(array.type):
        return array.cast(pa.date32())
    strings = trimmed(array, v)
    reject_unless(strings, matches(strings, _DATE_RE), v, "not_a_date", _NOT_DATE)
    dates, bad = cast_each(v.keep(strings), pa.date32())
    v.reject(bad, "not_a_date", "is not a valid date")
    return dates


_NOT_DATE = "is not a date (YYYY-MM-DD)"
