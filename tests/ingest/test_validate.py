"""Per-event validation: every rejection's code, field and message; rows, merges and updates."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pytest

from sextant.ingest.batch import ParsedBody
from sextant.ingest.decode import NON_STANDARD_NUMBER, decode_body
from sextant.ingest.model import Accepted, GroupUpdate, Incoming, Limits, Merge, Rejected
from sextant.ingest.posthog import parse_posthog
from sextant.ingest.validate import ILLEGAL_DISTINCT_IDS, validate, validate_all
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.schema import EVENTS

LIMITS = Limits()


def us(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


RECEIVED = us("2024-03-01T10:00:00")


def check(limits=LIMITS, received=RECEIVED, **fields) -> Accepted | Rejected:
    fields.setdefault("event", "signed_up")
    fields.setdefault("distinct_id", "user-1")
    return validate(Incoming(0, **fields), received_us=received, limits=limits, source="web")


def accepted(**fields) -> Accepted:
    verdict = check(**fields)
    assert isinstance(verdict, Accepted), verdict
    return verdict


def rejected(code: str, field: str, *words: str, **fields) -> Rejected:
    verdict = check(**fields)
    assert isinstance(verdict, Rejected), verdict
    assert (verdict.code, verdict.field) == (code, field), verdict
    for word in words:
        assert word in verdict.message, verdict.message
    return verdict


def stored_props(verdict: Accepted) -> dict:
    return json.loads(verdict.row["properties"])


# --- the row ------------------------------------------------------------------------------


def test_row_holds_every_events_column_except_person_id():
    verdict = accepted(
        uuid="0190-aaaa",
        timestamp="2024-03-01T09:30:00Z",
        properties={
            "$session_id": "s-1",
            "$groups": {"company": "acme"},
            "plan": "pro",
            "$geoip_country_code": "DE",
            "$utm_source": "newsletter",
            "$device_type": "Mobile",
            "$pathname": "/pricing",
            "amount": 12.5,
        },
    )
    names = {c.name for c in EVENTS.columns} - {"person_id"}
    assert set(verdict.row) == names
    assert verdict.row == verdict.row | {
        "id": "0190-aaaa",
        "event": "signed_up",
        "timestamp": us("2024-03-01T09:30:00"),
        "received_at": RECEIVED,
        "distinct_id": "user-1",
        "session_id": "s-1",
        "tenant_id": "acme",
        "source": "web",
        "plan": "pro",
        "country": "DE",
        "channel": "newsletter",
        "device": "mobile",
        "path": "/pricing",
    }
    assert stored_props(verdict)["amount"] == 12.5
    assert (verdict.merge, verdict.group, verdict.person_set) == (None, None, None)


def test_columns_fall_back_when_the_first_source_is_absent():
    row = accepted(
        properties={
            "country": "FR",
            "utm_source": "ads",
            "device": "Desktop",
            "$current_url": "https://x.com/a/b?q=1#h",
            "$session_id": 42,
        }
    ).row
    assert (row["country"], row["channel"], row["device"], row["path"]) == (
        "FR",
        "ads",
        "desktop",
        "/a/b",
    )
    assert row["session_id"] == "42"
    assert accepted(properties={"channel": "partner"}).row["channel"] == "partner"
    assert accepted(properties={"$screen_name": "Home"}).row["path"] == "Home"
    assert accepted(properties={"plan": {"x": 1}}).row["plan"] is None


@pytest.mark.parametrize(
    ("groups", "tenant"),
    [
        ({"company": "acme"}, "acme"),
        ({"project": "p1", "organization": "o1", "company": "c1"}, "o1"),
        ({"zeta": "z", "alpha": "a"}, "a"),
        ({"company": 7}, "7"),
        ({"company": None, "team": "t"}, "t"),
        ({}, None),
    ],
)
def test_tenant_comes_from_groups_when_present(groups, tenant):
    assert accepted(properties={"$groups": groups}).row["tenant_id"] == tenant


@pytest.mark.parametrize("groups", [["acme"], {"company": {"id": 1}}, {"company": True}])
def test_groups_are_rejected_when_not_a_map_of_keys(groups):
    rejected("invalid_groups", "properties.$groups", "group types", properties={"$groups": groups})


def test_stored_properties_leave_out_person_updates_token_and_distinct_id():
    verdict = accepted(
        properties={
            "$set": {"a": 1},
            "$set_once": {"b": 2},
            "token": "phc",
            "distinct_id": "user-1",
            "kept": True,
        }
    )
    assert stored_props(verdict) == {"kept": True}


# --- event name and distinct id ---------------------------------------------------------


@pytest.mark.parametrize("event", [None, "", "   "])
def test_event_is_missing_when_absent_or_blank(event):
    rejected("missing_event", "event", "event name", event=event)


def test_event_is_invalid_when_not_text_or_too_long():
    rejected("invalid_event", "event", "must be a string", "a number", event=5)
    rejected("invalid_event", "event", "longer than 200", event="e" * 201)
    rejected("non_standard_number", "event", "NaN", event=NON_STANDARD_NUMBER)
    assert accepted(event="e" * 200).row["event"] == "e" * 200


@pytest.mark.parametrize(
    ("library", "where"),
    [("posthog", "properties.distinct_id"), ("segment", "userId or anonymousId"), ("native", "")],
)
def test_distinct_id_is_missing_with_the_wire_names_of_the_library(library, where):
    rejected(
        "missing_distinct_id", "distinct_id", "missing", where, distinct_id=None, library=library
    )
    rejected("missing_distinct_id", "distinct_id", distinct_id="", library=library)


def test_distinct_id_numbers_become_decimal_text():
    assert accepted(distinct_id=12345).row["distinct_id"] == "12345"
    assert accepted(distinct_id=7.0).row["distinct_id"] == "7"
    assert accepted(distinct_id=7.5).row["distinct_id"] == "7.5"


def test_distinct_id_is_invalid_when_not_text_blank_or_too_long():
    rejected("invalid_distinct_id", "distinct_id", "a boolean", distinct_id=True)
    rejected("invalid_distinct_id", "distinct_id", "an object", distinct_id={"id": 1})
    rejected("invalid_distinct_id", "distinct_id", "blank", distinct_id="  ")
    rejected("invalid_distinct_id", "distinct_id", "longer than 200", distinct_id="d" * 201)
    rejected("non_standard_number", "distinct_id", distinct_id=NON_STANDARD_NUMBER)


@pytest.mark.parametrize(
    "bogus",
    [
        "anonymous",
        "NULL",
        "None",
        "nan",
        "0",
        "[object Object]",
        "undefined",
        '"undefined"',
        "'null'",
        "distinct_id",
        "not_authenticated",
        "email",
        "true",
        "False",
        "guest",
        "id",
    ],
)
def test_distinct_id_is_illegal_when_a_known_placeholder(bogus):
    rejected("illegal_distinct_id", "distinct_id", repr(bogus), "placeholder", distinct_id=bogus)


def test_illegal_list_holds_posthogs_ids():
    assert {"anonymous", "null", "undefined", "none", "nan", "0", "[object object]"} <= (
        ILLEGAL_DISTINCT_IDS
    )
    assert accepted(distinct_id="00").row["distinct_id"] == "00"


# --- time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2024-03-01T09:00:00Z", "2024-03-01T09:00:00"),
        ("2024-03-01T09:00:00.123456+00:00", "2024-03-01T09:00:00.123456"),
        ("2024-03-01T11:00:00+02:00", "2024-03-01T09:00:00"),
        ("2024-03-01T09:00:00", "2024-03-01T09:00:00"),
        (us("2024-03-01T09:00:00") // 1000, "2024-03-01T09:00:00"),
        (us("2024-03-01T09:00:00.5") / 1000, "2024-03-01T09:00:00.5"),
    ],
)
def test_timestamp_is_stored_in_utc_microseconds(sent, stored):
    assert accepted(timestamp=sent).row["timestamp"] == us(stored)


def test_timestamp_is_the_receive_time_when_missing():
    assert accepted().row["timestamp"] == RECEIVED


def test_timestamp_is_received_minus_offset_when_offset_is_sent():
    assert accepted(offset_ms=1500).row["timestamp"] == RECEIVED - 1_500_000
    # As in PostHog, the offset wins over a timestamp sent with it.
    verdict = accepted(offset_ms=1000, timestamp="2024-03-01T08:00:00Z")
    assert verdict.row["timestamp"] == RECEIVED - 1_000_000


def test_timestamp_is_skew_corrected_when_sent_at_is_given():
    # The device clock runs 5 s fast: it stamped 10:00:00 and sent at 10:00:05, but we
    # received at 10:00:00, so the event happened at 09:59:55.
    verdict = accepted(timestamp="2024-03-01T10:00:00Z", sent_at="2024-03-01T10:00:05Z")
    assert verdict.row["timestamp"] == us("2024-03-01T09:59:55")
    assert verdict.row["received_at"] == us("2024-03-01T10:00:00")


def test_timestamp_is_skew_corrected_when_sent_at_is_epoch_milliseconds():
    sent_ms = us("2024-03-01T10:00:05") // 1000
    verdict = accepted(timestamp="2024-03-01T10:00:00Z", sent_at=sent_ms)
    assert verdict.row["timestamp"] == us("2024-03-01T09:59:55")


def test_timestamp_is_not_corrected_when_sent_at_is_unreadable():
    verdict = accepted(timestamp="2024-03-01T09:00:00Z", sent_at="yesterday")
    assert verdict.row["timestamp"] == us("2024-03-01T09:00:00")


@pytest.mark.parametrize("bad", ["next tuesday", "2024-13-01T00:00:00Z", True, {"t": 1}, ""])
def test_timestamp_is_invalid_when_unparseable(bad):
    rejected("invalid_timestamp", "timestamp", "is not a timestamp", "ISO 8601", timestamp=bad)


def test_timestamp_nan_is_a_non_standard_number():
    rejected("non_standard_number", "timestamp", "NaN", timestamp=NON_STANDARD_NUMBER)


def test_offset_is_invalid_when_not_a_number():
    rejected("invalid_offset", "offset", "milliseconds", offset_ms="10")


def test_timestamp_is_in_the_future_when_beyond_the_limit_after_correction():
    rejected(
        "timestamp_in_future",
        "timestamp",
        "2024-03-03T10:00:00",
        "172,800 s ahead",
        "86,400",
        timestamp="2024-03-03T10:00:00Z",
    )
    assert accepted(timestamp="2024-03-02T09:59:59Z")
    # A fast device clock is forgiven by skew correction.
    assert accepted(timestamp="2024-03-05T10:00:00Z", sent_at="2024-03-05T10:00:01Z")


def test_timestamp_is_too_old_when_before_2000():
    rejected(
        "timestamp_too_old",
        "timestamp",
        "1999-12-31",
        "milliseconds",
        timestamp="1999-12-31T23:59:59Z",
    )
    # Epoch seconds where milliseconds are expected land in January 1970.
    rejected("timestamp_too_old", "timestamp", "1970-01-20", timestamp=1_709_280_000)


# --- properties ----------------------------------------------------------------------------


def test_properties_are_empty_when_missing():
    assert accepted(properties=None).row["properties"] == "{}"


def test_properties_are_invalid_when_not_an_object():
    rejected("invalid_properties", "properties", "JSON object", "an array", properties=[1])


def nested(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"n": value}
    return {"root": value}


def test_properties_are_too_deep_when_nesting_passes_the_limit():
    assert accepted(properties=nested(20))
    verdict = rejected("too_deep", "properties", "more than 20 levels", properties=nested(21))
    assert "properties.root.n.n" in verdict.message
    deep_list = {"a": [[[[1]]]]}
    rejected(
        "too_deep",
        "properties",
        "properties.a[0][0][0]",
        properties=deep_list,
        limits=Limits(max_depth=3),
    )


def test_properties_are_accepted_when_text_holds_many_brackets():
    assert accepted(properties={"t": "{[" * 100}, limits=Limits(max_depth=2))


def test_property_key_is_invalid_when_too_long():
    rejected(
        "invalid_property_key",
        "properties." + "k" * 40,
        "longer than 200",
        properties={"k" * 201: 1},
    )


@pytest.mark.parametrize(
    ("props", "path"),
    [
        ({"a": "x\ud800"}, "properties.a"),
        ({"a": {"b": ["ok", "\udfff"]}}, "properties.a.b[1]"),
        ({"k\ud800": 1}, "properties.k\\ud800"),
    ],
)
def test_lone_surrogates_are_rejected_with_their_path(props, path):
    rejected("invalid_unicode", path, "lone UTF-16 surrogate", properties=props)


def test_lone_surrogates_are_rejected_in_names_and_ids():
    rejected("invalid_unicode", "event", "surrogate", event="ev\ud800")
    rejected("invalid_unicode", "distinct_id", "surrogate", distinct_id="d\udc00")
    rejected("invalid_unicode", "uuid", "surrogate", uuid="u\udc00")
    rejected("invalid_unicode", "$set.name", "surrogate", set={"name": "\ud800"})


def test_non_standard_numbers_are_rejected_with_their_path():
    props = {"ok": 1, "m": [1, {"x": NON_STANDARD_NUMBER}]}
    rejected("non_standard_number", "properties.m[1].x", "NaN", "not valid JSON", properties=props)


def test_integers_beyond_64_bits_are_rejected():
    rejected("number_out_of_range", "properties.big", "64 bits", properties={"big": 2**70})
    assert stored_props(accepted(properties={"big": 2**63 - 1}))["big"] == 2**63 - 1


def test_event_is_too_large_when_its_json_passes_the_limit():
    limits = Limits(max_event_bytes=1_000)
    rejected("event_too_large", "properties", "1,000", properties={"t": "x" * 1_000}, limits=limits)
    rejected("event_too_large", "properties", set={"t": "x" * 1_000}, limits=limits)
    assert accepted(properties={"t": "x" * 900}, limits=limits)


def test_emoji_and_rtl_text_are_kept_intact():
    text = "🎉👩🏽‍💻 שלום עולם مرحبا"
    verdict = accepted(event=text, distinct_id=text, properties={text: text})
    assert (verdict.row["event"], verdict.row["distinct_id"]) == (text, text)
    assert stored_props(verdict) == {text: text}


def test_nul_characters_are_kept_and_round_trip_through_duckdb():
    verdict = accepted(
        event="a\x00b", distinct_id="d\x00", uuid="u\x00", properties={"k\x00": "v\x00", "e": "🎉"}
    )
    row = verdict.row | {"person_id": 1}
    table = _events_table([row])
    with DuckDBEngine(":memory:") as engine:
        assert engine.append("events", table) == 1
        back = engine.execute(
            "SELECT id, event, distinct_id, properties, properties->>'$.\"k\x00\"' AS v FROM events"
        ).to_pylist()
    assert back[0]["id"] == "u\x00" and back[0]["event"] == "a\x00b"
    assert back[0]["distinct_id"] == "d\x00"
    assert json.loads(back[0]["properties"]) == {"k\x00": "v\x00", "e": "🎉"}


def _events_table(rows: list[dict]) -> pa.Table:
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    for name in ("timestamp", "received_at"):
        columns[name] = pa.array(columns[name], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return pa.table(columns)


# --- ids -----------------------------------------------------------------------------------


def test_uuid_is_kept_when_any_string():
    assert accepted(uuid="ajs-next-1700000000000-abc").row["id"] == "ajs-next-1700000000000-abc"
    assert accepted(uuid="0190a3c4-7b1e-7cc3-9f21-5a3f0e6d2b11").row["id"].startswith("0190")


@pytest.mark.parametrize(
    ("bad", "got"), [(123, "a number"), ("", "0 characters"), ("u" * 201, "201")]
)
def test_uuid_is_invalid_when_not_a_short_string(bad, got):
    rejected("invalid_uuid", "uuid", "at most 200", got, uuid=bad)


def test_uuid_is_derived_deterministically_when_absent():
    first = accepted(timestamp="2024-03-01T09:00:00Z", properties={"a": 1}).row["id"]
    retry = accepted(
        timestamp="2024-03-01T09:00:00Z", properties={"a": 1}, received=RECEIVED + 5_000_000
    ).row["id"]
    other = accepted(timestamp="2024-03-01T09:00:00Z", properties={"a": 2}).row["id"]
    assert first == retry != other
    assert len(first) == 36 and first[14] == "5"  # a version 5 UUID


def test_uuid_includes_the_receive_time_when_neither_id_nor_timestamp_is_sent():
    once = accepted(properties={"a": 1}).row["id"]
    later = accepted(properties={"a": 1}, received=RECEIVED + 1).row["id"]
    assert once != later


# --- identity, persons and groups ------------------------------------------------------------


def test_identify_merges_the_anonymous_id_into_the_user():
    verdict = accepted(
        event="$identify", distinct_id="user-1", properties={"$anon_distinct_id": "anon-9"}
    )
    assert verdict.merge == Merge("identify", keep="user-1", other="anon-9")
    assert verdict.row["event"] == "$identify"


def test_identify_merges_nothing_when_the_ids_match_or_the_anonymous_id_is_absent():
    assert accepted(event="$identify", properties={"$anon_distinct_id": "user-1"}).merge is None
    assert accepted(event="$identify").merge is None


def test_identify_is_rejected_when_the_anonymous_id_is_a_placeholder():
    rejected(
        "illegal_distinct_id",
        "properties.$anon_distinct_id",
        "'undefined'",
        event="$identify",
        properties={"$anon_distinct_id": "undefined"},
    )


@pytest.mark.parametrize("event", ["$create_alias", "$merge_dangerously"])
def test_alias_links_the_alias_to_the_distinct_id(event):
    verdict = accepted(event=event, distinct_id="anon-1", properties={"alias": "user-1"})
    assert verdict.merge == Merge("alias", keep="anon-1", other="user-1")


def test_alias_is_rejected_when_the_alias_is_missing_or_bad():
    rejected("invalid_alias", "properties.alias", "$create_alias needs", event="$create_alias")
    rejected(
        "invalid_distinct_id",
        "properties.alias",
        "an array",
        event="$create_alias",
        properties={"alias": ["x"]},
    )


def test_person_updates_come_from_top_level_and_properties():
    verdict = accepted(
        event="$set",
        set={"name": "Ann", "plan": "pro"},
        set_once={"first_seen": "2024"},
        properties={"$set": {"name": "old", "email": "a@b.c"}},
    )
    assert verdict.person_set == {"name": "Ann", "plan": "pro", "email": "a@b.c"}
    assert verdict.person_set_once == {"first_seen": "2024"}
    assert accepted(set={}).person_set is None


def test_person_updates_are_rejected_when_not_objects():
    rejected("invalid_set", "$set", "JSON object", "a string", set="x")
    rejected("invalid_set", "properties.$set_once", "an array", properties={"$set_once": [1]})


def test_groupidentify_gives_a_group_update():
    verdict = accepted(
        event="$groupidentify",
        properties={"$group_type": "company", "$group_key": 42, "$group_set": {"name": "Acme"}},
    )
    assert verdict.group == GroupUpdate("company", "42", {"name": "Acme"})
    assert verdict.row["tenant_id"] == "42"


@pytest.mark.parametrize(
    ("props", "field", "word"),
    [
        ({"$group_type": "company"}, "properties.$group_key", "missing"),
        ({"$group_key": "k"}, "properties.$group_type", "missing"),
        (
            {"$group_type": "c", "$group_key": "k", "$group_set": [1]},
            "properties.$group_set",
            "array",
        ),
    ],
)
def test_groupidentify_is_rejected_when_incomplete(props, field, word):
    rejected("invalid_group", field, word, event="$groupidentify", properties=props)


# --- batches ---------------------------------------------------------------------------------


def run_posthog(body: bytes, received: int = RECEIVED) -> list[Accepted | Rejected]:
    payload = decode_body(
        body, content_type="application/json", content_encoding=None, query={}, max_body_bytes=10**7
    )
    parsed = parse_posthog(payload, query={})
    return validate_all(parsed, received_us=received, limits=LIMITS, source="web")


def test_one_nan_event_is_rejected_and_the_others_are_kept():
    body = (
        b'{"api_key": "k", "batch": ['
        b'{"event": "a", "distinct_id": "u", "properties": {"x": 1}},'
        b'{"event": "b", "distinct_id": "u", "properties": {"x": NaN}},'
        b'{"event": "c", "distinct_id": "u", "properties": {"y": "\\\\ud800 is text"}}'
        b"]}"
    )
    verdicts = run_posthog(body)
    assert [type(v).__name__ for v in verdicts] == ["Accepted", "Rejected", "Accepted"]
    assert json.loads(verdicts[2].row["properties"]) == {"y": "\\ud800 is text"}
    assert (verdicts[1].index, verdicts[1].code, verdicts[1].field) == (
        1,
        "non_standard_number",
        "properties.x",
    )


def test_one_lone_surrogate_event_is_rejected_and_the_others_are_kept():
    body = (
        b'[{"event": "a", "distinct_id": "u"}, {"event": "b\\ud800", "distinct_id": "u"},'
        b' {"event": "c", "distinct_id": "u", "properties": {"s": "\\udc00"}}]'
    )
    verdicts = run_posthog(body)
    assert isinstance(verdicts[0], Accepted)
    assert (verdicts[1].code, verdicts[1].field) == ("invalid_unicode", "event")
    assert (verdicts[2].code, verdicts[2].field) == ("invalid_unicode", "properties.s")


def test_parser_rejections_are_merged_in_request_order():
    parsed = ParsedBody(
        [Incoming(0, event="a", distinct_id="u"), Incoming(2, event="c", distinct_id="u")],
        rejected=[Rejected(1, "not_an_object", "event", "event must be a JSON object")],
    )
    verdicts = validate_all(parsed, received_us=RECEIVED, limits=LIMITS, source="web")
    assert [v.index for v in verdicts] == [0, 1, 2]
    assert isinstance(verdicts[1], Rejected)


def test_big_batch_is_validated_fast():
    now = time.time_ns() // 1000
    events = [
        {
            "event": f"e{i % 13}",
            "distinct_id": f"u{i % 101}",
            "uuid": f"id-{i}",
            "timestamp": "2024-03-01T09:00:00Z",
            "properties": {"i": i, "$groups": {"company": f"c{i % 7}"}, "s": "x" * (i % 50)},
        }
        for i in range(20_000)
    ]
    body = orjson.dumps({"api_key": "k", "batch": events, "sent_at": "2024-03-01T09:00:01Z"})
    verdicts = run_posthog(body, received=now)  # its speed is measured in bench/capture_parse
    assert all(isinstance(v, Accepted) for v in verdicts) and len(verdicts) == 20_000
    assert len({v.row["id"] for v in verdicts}) == 20_000


def test_properties_are_too_deep_when_nested_past_what_orjson_serializes():
    deep = Limits(max_depth=1000)
    rejected("too_deep", "properties", "more than 253 levels", properties=nested(300), limits=deep)
    assert accepted(properties=nested(253), limits=deep)
    rejected("too_deep", "properties", "more than 20 levels", properties=nested(300))
