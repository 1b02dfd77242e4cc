"""Dimension values (what a dashboard filter offers) on both engines, against plain Python:
sessions counted by their first event's value, the most frequent first, ties by value."""

from __future__ import annotations

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from sextant.catalog.query import RangeQuery
from sextant.catalog.values import dimension_values
from tests.analyses.reference_sessions import sessionise

RANGE = {"from": "2024-01-01", "to": "2024-11-15", "timezone": "Europe/Paris"}


def expected(data, dimension: str, where=None) -> list[tuple[str, int]]:
    zone, first, last = ZoneInfo(RANGE["timezone"]), date(2024, 1, 1), date(2024, 11, 15)
    column = {"tenant": "tenant_id"}.get(dimension, dimension)
    counts: Counter = Counter()
    for _, events in sessionise(data.events, data.who):
        head = events[0]
        if first <= head.timestamp.astimezone(zone).date() <= last and (
            where is None or where(head)
        ):
            value = getattr(head, column)
            if value is not None:
                counts[str(value)] += 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


@pytest.mark.parametrize("dimension", ["country", "plan", "tenant"])
def test_values_are_sessions_by_first_event_value_most_frequent_first(
    engines, catalog, data, dimension
):
    query = RangeQuery.parse(RANGE, today=date(2024, 11, 15))
    found = dimension_values(engines, catalog, query, dimension, today=date(2024, 11, 15))
    assert [(v["value"], v["sessions"]) for v in found["values"]] == expected(data, dimension)
    assert found["values"]


def test_values_follow_filters_and_the_limit(engines, catalog, data):
    query = RangeQuery.parse({**RANGE, "where": ["plan = 'plus'"]}, today=date(2024, 11, 15))
    found = dimension_values(engines, catalog, query, "country", limit=1, today=date(2024, 11, 15))
    want = expected(data, "country", where=lambda e: e.plan == "plus")
    assert len(want) > 1 and want != expected(data, "country")  # the filter and limit bite
    assert [(v["value"], v["sessions"]) for v in found["values"]] == want[:1]
