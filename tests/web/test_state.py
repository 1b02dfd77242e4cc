"""The view state read from a URL: presets as complete days ending yesterday, custom ranges
with the seed's messages, filters as safely quoted conditions, and a round trip through the
URL that loses nothing (property-based)."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs

from hypothesis import given
from hypothesis import strategies as st

from sextant.web.state import FILTERS, RANGES, read_state

TODAY = date(2024, 11, 18)


def read(query: str, **kwargs):
    return read_state(parse_qs(query), default_timezone="UTC", today=TODAY, **kwargs)


def test_presets_are_complete_days_ending_yesterday_when_chosen():
    assert (read("range=last_7_days").date_from, read("").date_to) == (
        date(2024, 11, 11),
        date(2024, 11, 17),
    )
    month = read("range=last_30_days")
    assert (month.days, month.date_to) == (30, date(2024, 11, 17))
    assert read("range=last_90_days").days == 90
    assert read("").range == "last_7_days"  # the seed's Monday question


def test_custom_dates_win_over_a_preset_when_given():
    state = read("range=last_30_days&from=2024-10-01&to=2024-10-31")
    assert (state.range, state.date_from, state.date_to, state.errors) == (
        "custom",
        date(2024, 10, 1),
        date(2024, 10, 31),
        (),
    )
    assert read("from=2024-11-18&to=2024-11-18").errors == ()  # today itself is allowed


def test_bad_ranges_get_the_seed_messages_on_their_field_when_given():
    cases = {
        "from=2024-11-10&to=2024-11-01": ("from", "Invalid date range"),
        "from=2024-11-10&to=2024-11-19": ("to", "Cannot select future dates"),
        "from=2024-13-01&to=2024-11-01": ("from", "Invalid date range"),
        "to=2024-11-01": ("from", "Invalid date range"),
        "from=2024-11-01&to=": ("to", "Invalid date range"),
        "range=last_year": ("range", "Unknown range"),
        "from=2020-01-01&to=2024-11-01": ("from", "the range holds"),
        "tz=Nowhere/Land": ("tz", "Unknown time zone"),
        f"plan={'x' * 201}": ("plan", "at most 200 characters"),
    }
    for query, (field, message) in cases.items():
        errors = read(query).errors
        assert [e.field for e in errors] == [field], query
        assert message in errors[0].message, query


def test_future_dates_are_judged_in_the_view_time_zone():
    # 2024-11-18 in UTC; in Tokyo it may already be the 19th, never in Honolulu.
    state = read_state(
        parse_qs("from=2024-11-18&to=2024-11-19&tz=Pacific/Honolulu"),
        default_timezone="UTC",
        today=TODAY,
    )
    assert state.error("to").startswith("Cannot select future dates")


def test_filters_become_quoted_conditions_and_tenant_the_scope():
    state = read("plan=free&country=O'Hara&tenant=t-1")
    body = state.body()
    assert body["where"] == ["country = 'O''Hara'", "plan = 'free'"]
    assert body["tenants"] == ["t-1"]
    assert read("").body()["tenants"] is None and read("").body()["where"] == []


def test_previous_period_is_the_same_length_just_before():
    state = read("from=2024-11-01&to=2024-11-10")
    before = state.previous()
    assert (before.date_from, before.date_to) == (date(2024, 10, 22), date(2024, 10, 31))


values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
).filter(lambda v: v.strip() == v)


@given(
    preset=st.sampled_from([*RANGES, "custom"]),
    start=st.integers(min_value=1, max_value=400),
    length=st.integers(min_value=0, max_value=60),
    filters=st.dictionaries(st.sampled_from(list(FILTERS)), values, max_size=4),
    tenant=st.none() | values,
    steps=st.lists(values, max_size=4),
    zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
)
def test_a_view_survives_its_own_link(preset, start, length, filters, tenant, steps, zone):
    first = TODAY - timedelta(days=start)
    query = {"range": [preset], "tz": [zone], **{k: [v] for k, v in filters.items()}}
    if preset == "custom":
        query |= {"from": [str(first)], "to": [str(min(first + timedelta(length), TODAY))]}
    if tenant:
        query["tenant"] = [tenant]
    if steps:
        query["step"] = steps
    state = read_state(query, default_timezone="UTC", today=TODAY, page_options=("step",))
    assert state.errors == ()
    again = read(state.query_string(), page_options=("step",))
    assert again == state
    assert again.options.get("step", ()) == tuple(steps)
