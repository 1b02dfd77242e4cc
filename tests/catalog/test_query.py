"""Metric queries: dates, presets, grain, time zone and breakdown limits, each rejection with
its status, code, field and message (SEMANTICS: Time)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sextant.catalog.query import MAX_DAYS, MAX_HOUR_DAYS, PRESETS, MetricQuery
from sextant.errors import InvalidInput

TODAY = date(2024, 4, 15)  # a Monday
BASE = {"metric": "dau", "from": "2024-03-01", "to": "2024-03-31"}


def parse(**changes) -> MetricQuery:
    return MetricQuery.parse(BASE | changes, today=TODAY)


def refused(data: dict) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        MetricQuery.parse(data, today=TODAY)
    assert info.value.status == 400
    return info.value


def test_parse_fills_defaults_when_only_dates_are_given():
    query = parse()
    assert (query.date_from, query.date_to) == (date(2024, 3, 1), date(2024, 3, 31))
    assert (query.grain, query.timezone, query.week_start) == ("day", "UTC", "monday")
    assert (query.breakdown, query.where, query.tenants, query.parameters) == ((), (), None, {})


def test_single_breakdown_and_where_become_tuples_when_given_as_strings():
    query = parse(breakdown="plan", where="country = 'FR'")
    assert query.breakdown == ("plan",)
    assert query.where == ("country = 'FR'",)


def test_future_dates_are_refused_when_to_is_after_today():
    error = refused(BASE | {"to": "2024-04-16", "timezone": "Europe/Paris"})
    assert (error.code, error.field) == ("future_dates", "to")
    assert error.message == (
        "Cannot select future dates: to 2024-04-16 is after today (2024-04-15 in Europe/Paris)"
    )


def test_today_is_accepted_when_to_is_today():
    assert parse(to="2024-04-15").date_to == TODAY


def test_date_range_is_refused_when_from_is_after_to():
    error = refused(BASE | {"from": "2024-03-31", "to": "2024-03-01"})
    assert (error.code, error.field) == ("invalid_date_range", "from")
    assert error.message == "Invalid date range: from 2024-03-31 is after to 2024-03-01"


def test_unknown_time_zone_is_refused_with_an_example():
    error = refused(BASE | {"timezone": "Europe/Pariss"})
    assert (error.code, error.field) == ("query_invalid", "timezone")
    assert "unknown time zone 'Europe/Pariss'; expected an IANA name such as Europe/Paris" in (
        error.message
    )


def test_unknown_grain_is_refused_listing_the_grains():
    error = refused(BASE | {"grain": "year"})
    assert (error.code, error.field) == ("query_invalid", "grain")
    assert "grain: Input should be 'hour', 'day', 'week' or 'month'" in error.message


def test_breakdowns_are_refused_when_more_than_three():
    error = refused(BASE | {"breakdown": ["plan", "country", "device", "channel"]})
    assert (error.code, error.field) == ("query_invalid", "breakdown")
    assert "at most 3 breakdowns, got 4" in error.message


def test_breakdown_is_refused_when_listed_twice():
    error = refused(BASE | {"breakdown": ["plan", "plan"]})
    assert (error.code, error.field) == ("query_invalid", "breakdown")
    assert "a breakdown is listed twice" in error.message


def test_hour_grain_is_refused_when_the_range_is_longer_than_a_month():
    error = refused(BASE | {"grain": "hour", "from": "2024-03-01", "to": "2024-04-01"})
    assert (error.code, error.field) == ("date_range_too_long", "from")
    assert error.message == f"the range holds 32 days; at most {MAX_HOUR_DAYS} at grain hour"
    assert error.hint == "choose a coarser grain or a shorter range"


def test_hour_grain_is_accepted_when_the_range_is_a_month():
    assert parse(grain="hour", **{"from": "2024-03-01", "to": "2024-03-31"}).grain == "hour"


def test_day_grain_is_refused_when_the_range_is_longer_than_three_years():
    error = refused(BASE | {"from": "2021-01-01", "to": "2024-04-15"})
    assert (error.code, error.field) == ("date_range_too_long", "from")
    assert error.message == f"the range holds 1201 days; at most {MAX_DAYS} at grain day"


def test_unknown_field_is_refused():
    error = refused(BASE | {"metrik": "dau"})
    assert (error.code, error.field) == ("query_invalid", "metrik")
    assert "metrik: Extra inputs are not permitted" in error.message


def test_every_problem_is_reported_at_once_when_several_fields_are_wrong():
    error = refused(BASE | {"grain": "year", "timezone": "Nowhere", "week_start": "sun"})
    assert [p.field for p in error.problems] == ["grain", "timezone", "week_start"]
    assert {p.code for p in error.problems} == {"query_invalid"}


def test_missing_dates_are_refused():
    error = refused({"metric": "dau"})
    assert [(p.code, p.field) for p in error.problems] == [
        ("query_invalid", "from"),
        ("query_invalid", "to"),
    ]
    assert "from: Field required" in error.message


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("today", date(2024, 4, 15), date(2024, 4, 15)),
        ("yesterday", date(2024, 4, 14), date(2024, 4, 14)),
        ("last_7_days", date(2024, 4, 8), date(2024, 4, 14)),
        ("last_30_days", date(2024, 3, 16), date(2024, 4, 14)),
        ("last_365_days", date(2023, 4, 16), date(2024, 4, 14)),
    ],
)
def test_range_preset_gives_complete_days_ending_yesterday(preset, first, last):
    query = MetricQuery.parse({"metric": "dau", "range": preset}, today=TODAY)
    assert (query.date_from, query.date_to) == (first, last)


def test_every_last_n_days_preset_holds_n_days_and_ends_yesterday():
    for name, (back, end) in PRESETS.items():
        query = MetricQuery.parse({"metric": "dau", "range": name}, today=TODAY)
        if name.startswith("last_"):
            assert (query.date_to - query.date_from).days + 1 == back, name
            assert (TODAY - query.date_to).days == end == 1, name


def test_unknown_range_preset_is_refused_listing_the_presets():
    error = refused({"metric": "dau", "range": "last_week"})
    assert (error.code, error.field) == ("range_unknown", "range")
    assert error.message.startswith("unknown range 'last_week'; expected one of today, yesterday")


@pytest.mark.parametrize("dates", [{"from": "2024-03-01"}, {"to": "2024-03-31"}])
def test_range_preset_is_refused_when_dates_are_given_too(dates):
    error = refused({"metric": "dau", "range": "last_7_days", **dates})
    assert (error.code, error.field) == ("range_and_dates", "range")
    assert error.message == "give a range or from/to, not both"


def test_range_preset_with_a_bad_time_zone_reports_the_time_zone():
    error = refused({"metric": "dau", "range": "last_7_days", "timezone": "Nowhere"})
    assert (error.code, error.field) == ("query_invalid", "timezone")


@pytest.mark.parametrize("spelling", ["sunday", "Sunday", "SUNDAY"])
def test_week_start_is_case_insensitive(spelling):
    query = parse(week_start=spelling)
    assert (query.week_start, query.first_weekday) == ("sunday", 6)


def test_unknown_week_start_is_refused():
    error = refused(BASE | {"week_start": "sun"})
    assert (error.code, error.field) == ("query_invalid", "week_start")
    assert "week_start: Input should be 'monday'" in error.message


def test_bounds_are_utc_instants_of_local_midnights_when_dst_starts_in_the_range():
    query = parse(timezone="Europe/Paris")  # clocks go forward on 2024-03-31
    assert query.bounds() == (
        datetime(2024, 2, 29, 23, tzinfo=UTC),
        datetime(2024, 3, 31, 22, tzinfo=UTC),
    )
    assert query.bounds(days_before=1, days_after=1)[1] == datetime(2024, 4, 1, 22, tzinfo=UTC)
