"""PostHog bodies -> messages: every body form, token places, /engage/, and posthog-python's
real requests captured on the wire and run through decode, parse and validate."""

from __future__ import annotations

import time
from dataclasses import fields

import posthog
import pytest

from sextant.errors import InvalidInput
from sextant.ingest.decode import decode_body
from sextant.ingest.model import Accepted, GroupUpdate, Incoming, Limits, Merge, Rejected
from sextant.ingest.posthog import parse_engage, parse_posthog
from sextant.ingest.validate import validate_all

EVENT = {
    "event": "signed_up",
    "distinct_id": "u1",
    "properties": {"plan": "pro"},
    "timestamp": "2024-03-01T09:00:00Z",
    "uuid": "0190a3c4-7b1e-7cc3-9f21-5a3f0e6d2b11",
    "offset": 250,
    "$set": {"name": "Ann"},
    "$set_once": {"first": "2024"},
}


def test_wrapper_gives_messages_key_sent_at_and_historical_flag():
    body = {
        "api_key": "phc_1",
        "batch": [EVENT, {"event": "b", "distinct_id": "u2"}],
        "sent_at": "2024-03-01T09:00:01Z",
        "historical_migration": True,
    }
    parsed = parse_posthog(body, query={})
    assert (parsed.api_key, parsed.sent_at, parsed.historical) == (
        "phc_1",
        "2024-03-01T09:00:01Z",
        True,
    )
    assert parsed.rejected == []
    first = parsed.messages[0]
    assert first == Incoming(
        0,
        event="signed_up",
        distinct_id="u1",
        timestamp="2024-03-01T09:00:00Z",
        sent_at="2024-03-01T09:00:01Z",
        offset_ms=250,
        properties={"plan": "pro"},
        uuid="0190a3c4-7b1e-7cc3-9f21-5a3f0e6d2b11",
        set={"name": "Ann"},
        set_once={"first": "2024"},
        token=None,
        library="posthog",
    )
    assert parsed.messages[1].index == 1


def test_incoming_field_order_is_what_the_positional_parser_assumes():
    names = [f.name for f in fields(Incoming)]
    assert names[:12] == [
        "index", "event", "distinct_id", "timestamp", "sent_at", "offset_ms",
        "properties", "uuid", "set", "set_once", "token", "library",
    ]  # fmt: skip


def test_token_is_read_when_the_wrapper_names_it_token():
    assert parse_posthog({"token": "phc_2", "batch": []}, query={}).api_key == "phc_2"


def test_bare_array_takes_distinct_id_and_token_from_properties():
    # posthog-js: distinct_id and token inside properties, send time in the `_` query.
    js_event = {"event": "$pageview", "properties": {"distinct_id": "anon", "token": "phc_js"}}
    parsed = parse_posthog([js_event], query={"_": "1709283600000", "ver": "1.130.0"})
    msg = parsed.messages[0]
    assert (msg.distinct_id, msg.token, msg.sent_at) == ("anon", "phc_js", 1709283600000)
    assert parsed.api_key == "phc_js"


def test_one_bare_event_is_one_message():
    parsed = parse_posthog({**EVENT, "api_key": "phc_3"}, query={})
    assert len(parsed.messages) == 1 and parsed.api_key == "phc_3"
    assert parsed.messages[0].event == "signed_up"


def test_top_level_distinct_id_wins_over_properties():
    event = {"event": "e", "distinct_id": "top", "properties": {"distinct_id": "inner"}}
    assert parse_posthog(event, query={}).messages[0].distinct_id == "top"


def test_non_object_items_are_rejected_one_by_one():
    parsed = parse_posthog({"api_key": "k", "batch": [EVENT, "oops", None, [1]]}, query={})
    assert [m.index for m in parsed.messages] == [0]
    assert [(r.index, r.code, r.field) for r in parsed.rejected] == [
        (1, "not_an_object", "event"),
        (2, "not_an_object", "event"),
        (3, "not_an_object", "event"),
    ]
    assert "must be a JSON object, got a string" in parsed.rejected[0].message


@pytest.mark.parametrize("payload", ["text", 5, None, True])
def test_body_is_invalid_when_neither_object_nor_array(payload):
    with pytest.raises(InvalidInput) as caught:
        parse_posthog(payload, query={})
    assert (caught.value.code, caught.value.field) == ("invalid_body", "body")
    assert "object or an array" in caught.value.message


def test_batch_is_invalid_when_not_an_array():
    with pytest.raises(InvalidInput) as caught:
        parse_posthog({"api_key": "k", "batch": {"event": "x"}}, query={})
    assert (caught.value.code, caught.value.field) == ("invalid_body", "batch")
    assert "an object" in caught.value.message


def test_engage_becomes_a_set_event():
    body = {"$token": "phc", "$distinct_id": "u1", "$set": {"email": "a@b.c"}}
    parsed = parse_engage(body)
    assert parsed.api_key == "phc" and parsed.rejected == []
    msg = parsed.messages[0]
    assert (msg.event, msg.distinct_id, msg.set) == ("$set", "u1", {"email": "a@b.c"})
    [verdict] = validate_all(parsed, received_us=NOW_US, limits=Limits(), source="web")
    assert isinstance(verdict, Accepted)
    assert verdict.person_set == {"email": "a@b.c"} and verdict.row["event"] == "$set"


def test_engage_is_rejected_when_the_operation_is_unsupported_or_absent():
    parsed = parse_engage(
        [
            {"$token": "phc", "$distinct_id": "u1", "$unset": ["a"]},
            {"$token": "phc", "$distinct_id": "u1"},
            "x",
        ]
    )
    assert [(r.index, r.code, r.field) for r in parsed.rejected] == [
        (0, "unsupported_operation", "$unset"),
        (1, "invalid_set", "$set"),
        (2, "not_an_object", "event"),
    ]
    assert "'$unset' is not supported" in parsed.rejected[0].message


# --- posthog-python on the wire -------------------------------------------------------------

NOW_US = time.time_ns() // 1000


def replay(seen: list) -> list[Accepted | Rejected]:
    verdicts = []
    for path, headers, body in seen:
        assert path == "/batch/"
        payload = decode_body(
            body,
            content_type=headers.get("Content-Type"),
            content_encoding=headers.get("Content-Encoding"),
            query={},
            max_body_bytes=5 * 1024 * 1024,
        )
        parsed = parse_posthog(payload, query={})
        assert parsed.api_key == "phc_wire" and parsed.historical is False
        verdicts += validate_all(
            parsed, received_us=time.time_ns() // 1000, limits=Limits(), source="backend"
        )
    return verdicts


@pytest.mark.parametrize("use_gzip", [False, True])
def test_posthog_python_requests_are_accepted_as_sent(wire_recorder, use_gzip):
    url, seen = wire_recorder
    client = posthog.Posthog("phc_wire", host=url, sync_mode=True, gzip=use_gzip)
    sent_uuid = client.capture(
        "order_paid",
        distinct_id="user-1",
        properties={"amount": 12.5, "$set": {"email": "a@b.c"}, "text": "🎉 שלום"},
        groups={"company": "acme"},
    )
    client.set(distinct_id="user-1", properties={"name": "Ann"})
    client.set_once(distinct_id="user-1", properties={"first_seen": "2024"})
    client.alias(previous_id="anon-1", distinct_id="user-1")
    client.group_identify("company", "acme", {"name": "Acme"})
    client.flush()
    assert len(seen) == 5
    assert all((h.get("Content-Encoding") == "gzip") == use_gzip for _, h, _ in seen)

    capture, set_, set_once, alias, group = replay(seen)
    assert all(isinstance(v, Accepted) for v in (capture, set_, set_once, alias, group))
    assert capture.row["id"] == sent_uuid
    assert (capture.row["event"], capture.row["distinct_id"]) == ("order_paid", "user-1")
    assert capture.row["tenant_id"] == "acme"
    assert abs(capture.row["timestamp"] - capture.row["received_at"]) < 60_000_000
    assert capture.person_set == {"email": "a@b.c"}
    assert '"text":"🎉 שלום"' in capture.row["properties"]
    assert set_.person_set == {"name": "Ann"} and set_.row["event"] == "$set"
    assert set_once.person_set_once == {"first_seen": "2024"}
    assert alias.merge == Merge("alias", keep="anon-1", other="user-1")
    assert group.group == GroupUpdate("company", "acme", {"name": "Acme"})
    assert group.row["tenant_id"] == "acme"
