"""When a captured event happened: client timestamps, send offsets and clock-skew correction.

Times are UTC microseconds since the epoch. A device's clock may be wrong; the gap between
its `sent_at` and our receive time measures by how much, so timestamp + (received -
sent_at) is what its clock should have said (INTEGRATIONS.md §1).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sextant.ingest.batch import EventProblem, json_type, non_standard_number
from sextant.ingest.decode import NON_STANDARD_NUMBER
from sextant.ingest.model import Incoming, Limits

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# No product event predates 2000; earlier stamps are zeroed clocks or epoch seconds sent
# where milliseconds were expected (1.7e9 ms is January 1970).
FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
FLOOR_US = (FLOOR - _EPOCH) // _US
_TIMESTAMP_FORMS = "ISO 8601 such as 2024-03-01T12:00:00Z, or epoch milliseconds"


def event_time(msg: Incoming, received_us: int, limits: Limits) -> int:
    """The event's UTC time in µs, checked against the future limit and the 2000 floor.

    posthog-js sends `offset` (ms before sending) instead of a timestamp; when both come,
    the offset wins, as in PostHog. A missing timestamp means "now".
    """
    if msg.offset_ms is not None:
        when = received_us - _offset_us(msg.offset_ms)
    elif msg.timestamp is None:
        when = received_us
    else:
        when = _instant(msg.timestamp, "timestamp")
        sent = sent_at_us(msg.sent_at)
        if sent is not None:
            when += received_us - sent
    ahead = when - received_us
    if ahead > limits.max_future_seconds * 1_000_000:
        raise EventProblem(
            "timestamp_in_future",
            "timestamp",
            f"timestamp {iso(when)} is {ahead // 1_000_000:,} s ahead of the server clock "
            f"after clock-skew correction; at most {limits.max_future_seconds:,} s is allowed",
        )
    if when < FLOOR_US:
        raise EventProblem(
            "timestamp_too_old",
            "timestamp",
            f"timestamp {iso(when)} is before {FLOOR:%Y-%m-%d}; epoch numbers are milliseconds",
        )
    return when


def instant_us(value: Any) -> int | None:
    """UTC µs of an ISO 8601 text (naive means UTC) or epoch-millisecond number, else None.

    >>> instant_us("2024-03-01T12:00:00.5Z"), instant_us(1709294400500)
    (1709294400500000, 1709294400500000)
    >>> instant_us("2024-03-01T13:00:00+01:00") == instant_us("2024-03-01 12:00:00")
    True
    """
    kind = type(value)
    if kind is str:
        return _iso_us(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return round(value * 1000)
    return None


def sent_at_us(value: Any) -> int | None:
    """The send time in µs, or None when absent or unreadable (then no skew correction)."""
    if type(value) is str:
        return _cached_iso_us(value)
    return instant_us(value)


def iso(us: int) -> str:
    """µs since the epoch as ISO 8601 text, for messages.

    >>> iso(1709294400500000)
    '2024-03-01T12:00:00.500000Z'
    """
    try:
        return (_EPOCH + us * _US).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except OverflowError:
        return f"{us} µs since 1970"


def _iso_us(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - _EPOCH) // _US
    except (ValueError, OverflowError):
        return None


# Every message of a batch repeats the batch's sent_at; timestamps rarely repeat.
_cached_iso_us = lru_cache(maxsize=64)(_iso_us)


def _instant(value: Any, field: str) -> int:
    when = instant_us(value)
    if when is not None:
        return when
    if value is NON_STANDARD_NUMBER:
        raise non_standard_number(field)
    shown = repr(value)[:80] if isinstance(value, str | int | float) else json_type(value)
    raise EventProblem(
        "invalid_timestamp", field, f"{field} {shown} is not a timestamp ({_TIMESTAMP_FORMS})"
    )


def _offset_us(value: Any) -> int:
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return round(value * 1000)
    if value is NON_STANDARD_NUMBER:
        raise non_standard_number("offset")
    raise EventProblem(
        "invalid_offset", "offset", "offset must be a number of milliseconds before sending"
    )
