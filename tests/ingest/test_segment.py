"""Segment bodies -> messages: calls and letters, write keys, the mapping of each call and of
context, and segment-analytics-python's real requests captured on the wire."""

from __future__ import annotations

import base64
import json
import time

import pytest
from segment.analytics import Client

from sextant.errors import InvalidInput
from sextant.ingest.decode import decode_body
from sextant.ingest.model import Accepted, GroupUpdate, Limits, Merge, Rejected
from sextant.ingest.segment import parse_segment
from sextant.ingest.validate import validate_all

NOW_US = time.time_ns() // 1000


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def one(message: dict, call: str | None = None, authorization: str | None = None):
    parsed = parse_segment(message, call=call or message.get("type"), authorization=authorization)
    assert parsed.rejected == [] and len(parsed.messages) == 1
    return parsed.messages[0]


def verdict_of(message: dict, call: str | None = None) -> Accepted | Rejected:
    parsed = parse_segment(message, call=call or message.get("type"), authorization=None)
    [verdict] = validate_all(parsed, received_us=NOW_US, limits=Limits(), source="segment")
    return verdict


def test_batch_gives_messages_with_sent_at_and_body_write_key():
    body = {
        "batch": [
            {"type": "track", "event": "A", "userId": "u1", "messageId": "m1"},
            {"type": "page", "anonymousId": "a1", "sentAt": "2024-03-01T09:00:09Z"},
        ],
        "sentAt": "2024-03-01T09:00:05Z",
        "writeKey": "wk_body",
    }
    parsed = parse_segment(body, call="batch", authorization=None)
    assert parsed.api_key == "wk_body" and parsed.sent_at == "2024-03-01T09:00:05Z"
    first, second = parsed.messages
    assert (first.event, first.distinct_id, first.uuid, first.library) == (
        "A",
        "u1",
        "m1",
        "segment",
    )
    assert first.sent_at == "2024-03-01T09:00:05Z"
    assert (second.event, second.distinct_id, second.sent_at) == (
        "$pageview",
        "a1",
        "2024-03-01T09:00:09Z",
    )


@pytest.mark.parametrize(
    ("letter", "event"),
    [("t", "Clicked"), ("p", "$pageview"), ("s", "$screen"), ("i", "$identify"),
     ("g", "$groupidentify"), ("a", "$create_alias")],
)  # fmt: skip
def test_one_letter_calls_map_to_their_call(letter, event):
    message = {"event": "Clicked", "userId": "u1", "previousId": "p", "groupId": "g"}
    assert one(message, call=letter).event == event


def test_b_is_the_batch_call_and_a_bare_array_is_accepted():
    body = {"batch": [{"type": "track", "event": "A", "userId": "u"}]}
    assert parse_segment(body, call="b", authorization=None).messages[0].event == "A"
    array = [{"type": "track", "event": "A", "userId": "u"}]
    assert parse_segment(array, call="batch", authorization=None).messages[0].event == "A"


def test_single_call_type_comes_from_the_path():
    assert one({"type": "identify", "event": "X", "userId": "u"}, call="track").event == "X"


def test_basic_authorization_wins_over_the_body_write_key():
    parsed = parse_segment(
        {"batch": [], "writeKey": "wk_body"}, call="batch", authorization=basic("wk_hdr")
    )
    assert parsed.api_key == "wk_hdr"


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer abc", "expected 'Basic"),
        ("Basic !!!notbase64", "not valid base64"),
        ("Basic " + base64.b64encode(b":").decode(), "no write key"),
        ("Basic", "expected 'Basic"),
    ],
)
def test_malformed_basic_authorization_is_rejected(header, detail):
    with pytest.raises(InvalidInput) as caught:
        parse_segment({"batch": []}, call="batch", authorization=header)
    assert (caught.value.code, caught.value.field) == ("invalid_authorization", "authorization")
    assert detail in caught.value.message


def test_unknown_types_and_non_objects_are_rejected_by_the_parser():
    body = {
        "batch": [
            {"type": "foo", "userId": "u"},
            {"userId": "u"},
            3,
            {"type": "track", "event": "ok", "userId": "u"},
        ]
    }
    parsed = parse_segment(body, call="batch", authorization=None)
    assert [m.index for m in parsed.messages] == [3]
    assert [(r.index, r.code, r.field) for r in parsed.rejected] == [
        (0, "unknown_type", "type"),
        (1, "unknown_type", "type"),
        (2, "not_an_object", "event"),
    ]
    assert "unknown Segment type 'foo'" in parsed.rejected[0].message
    assert "has no type" in parsed.rejected[1].message


def test_unknown_call_and_bad_bodies_are_rejected():
    with pytest.raises(InvalidInput) as caught:
        parse_segment({}, call="x", authorization=None)
    assert (caught.value.code, caught.value.field) == ("unknown_segment_call", "path")
    with pytest.raises(InvalidInput) as caught:
        parse_segment({"batch": "no"}, call="batch", authorization=None)
    assert (caught.value.code, caught.value.field) == ("invalid_body", "batch")
    with pytest.raises(InvalidInput) as caught:
        parse_segment("text", call="track", authorization=None)
    assert caught.value.code == "invalid_body"


def test_context_that_is_not_an_object_is_rejected():
    parsed = parse_segment(
        {"type": "track", "event": "A", "userId": "u", "context": "x"},
        call="track",
        authorization=None,
    )
    assert [(r.code, r.field) for r in parsed.rejected] == [("invalid_context", "context")]


def test_distinct_id_is_the_user_id_else_the_anonymous_id():
    assert (
        one({"type": "track", "event": "A", "userId": "u", "anonymousId": "a"}).distinct_id == "u"
    )
    assert (
        one({"type": "track", "event": "A", "userId": None, "anonymousId": "a"}).distinct_id == "a"
    )
    assert one({"type": "track", "event": "A", "userId": "", "anonymousId": "a"}).distinct_id == "a"
    verdict = verdict_of({"type": "track", "event": "A", "userId": None, "anonymousId": None})
    assert (verdict.code, verdict.field) == ("missing_distinct_id", "distinct_id")
    assert "userId or anonymousId" in verdict.message


def test_track_keeps_event_properties_and_message_id():
    verdict = verdict_of(
        {"type": "track", "event": "Order Completed", "userId": "u", "messageId": "ajs-next-17-x",
         "properties": {"revenue": 10}, "timestamp": "2024-03-01T09:00:00.000Z"}
    )  # fmt: skip
    assert isinstance(verdict, Accepted)
    assert (verdict.row["event"], verdict.row["id"]) == ("Order Completed", "ajs-next-17-x")
    assert '"revenue":10' in verdict.row["properties"]


def test_page_becomes_a_pageview_with_url_and_path():
    msg = one(
        {"type": "page", "userId": "u", "name": "Pricing", "category": "Docs",
         "properties": {"url": "https://x.com/pricing?a=1", "path": "/pricing", "referrer": "https://g.co"}}
    )  # fmt: skip
    assert msg.event == "$pageview"
    props = msg.properties
    assert (props["name"], props["category"]) == ("Pricing", "Docs")
    assert (props["$current_url"], props["$pathname"], props["$referrer"]) == (
        "https://x.com/pricing?a=1",
        "/pricing",
        "https://g.co",
    )


def test_screen_becomes_a_screen_event_with_its_name():
    msg = one({"type": "screen", "userId": "u", "name": "Home", "category": "App"})
    assert msg.event == "$screen"
    assert (msg.properties["$screen_name"], msg.properties["category"]) == ("Home", "App")


def test_identify_sets_traits_and_merges_the_anonymous_id():
    verdict = verdict_of(
        {"type": "identify", "userId": "u", "anonymousId": "a", "traits": {"email": "a@b.c"}}
    )
    assert verdict.row["event"] == "$identify" and verdict.row["distinct_id"] == "u"
    assert verdict.merge == Merge("identify", keep="u", other="a")
    assert verdict.person_set == {"email": "a@b.c"}
    anonymous = verdict_of({"type": "identify", "anonymousId": "a", "traits": {"x": 1}})
    assert anonymous.row["distinct_id"] == "a" and anonymous.merge is None


def test_alias_links_the_previous_id_to_the_user_id():
    verdict = verdict_of({"type": "alias", "userId": "u", "previousId": "anon"})
    assert verdict.row["event"] == "$create_alias"
    assert verdict.merge == Merge("alias", keep="u", other="anon")
    missing = verdict_of({"type": "alias", "userId": "u"})
    assert (missing.code, missing.field) == ("invalid_alias", "properties.alias")


def test_group_gives_a_group_update_and_a_tenant():
    verdict = verdict_of(
        {"type": "group", "userId": "u", "groupId": "org-9", "traits": {"name": "Org"}}
    )
    assert verdict.row["event"] == "$groupidentify" and verdict.row["tenant_id"] == "org-9"
    assert verdict.group == GroupUpdate("organization", "org-9", {"name": "Org"})
    typed = verdict_of(
        {"type": "group", "userId": "u", "groupId": "w1", "traits": {"group_type": "workspace"}}
    )
    assert typed.group.group_type == "workspace"
    missing = verdict_of({"type": "group", "userId": "u", "traits": {}})
    assert (missing.code, missing.field) == ("invalid_group", "properties.$group_key")


def test_context_is_folded_into_posthog_named_properties():
    context = {
        "library": {"name": "analytics.js", "version": "next-1.70"},
        "page": {"url": "https://x.com/a?b=1", "path": "/a", "referrer": "", "title": "A"},
        "device": {"type": "ios", "id": "dev-1", "model": "iPhone15,2"},
        "os": {"name": "iOS", "version": "17.1"},
        "campaign": {"source": "newsletter", "medium": "email", "name": "spring"},
        "ip": "203.0.113.9",
        "locale": "he-IL",
        "userAgent": "Mozilla/5.0",
        "traits": {"email": "a@b.c"},
        "groupId": "org-1",
        "custom": {"k": 1},
    }
    verdict = verdict_of(
        {
            "type": "track",
            "event": "A",
            "userId": "u",
            "context": context,
            "properties": {"$os": "mine"},
        }
    )
    row, props = verdict.row, json.loads(verdict.row["properties"])
    assert (props["$lib"], props["$lib_version"]) == ("analytics.js", "next-1.70")
    assert (props["$current_url"], props["$pathname"]) == ("https://x.com/a?b=1", "/a")
    assert (props["$device_type"], props["$device_id"], props["$device_model"]) == (
        "Mobile",
        "dev-1",
        "iPhone15,2",
    )
    assert props["$os"] == "mine" and props["$os_version"] == "17.1"
    assert (props["utm_source"], props["utm_medium"], props["utm_campaign"]) == (
        "newsletter",
        "email",
        "spring",
    )
    assert (props["$ip"], props["$locale"], props["$user_agent"]) == (
        "203.0.113.9",
        "he-IL",
        "Mozilla/5.0",
    )
    assert set(props["$context"]) == set(context) - {"ip", "traits"}
    assert (row["path"], row["device"], row["channel"], row["tenant_id"]) == (
        "/a",
        "mobile",
        "newsletter",
        "org-1",
    )


def test_lib_is_segment_when_the_context_names_no_library():
    assert one({"type": "track", "event": "A", "userId": "u"}).properties["$lib"] == "segment"


# --- segment-analytics-python on the wire ------------------------------------------------------


def replay(seen: list) -> list[Accepted | Rejected]:
    verdicts = []
    for path, headers, body in seen:
        assert path == "/v1/batch"
        payload = decode_body(
            body,
            content_type=headers.get("Content-Type"),
            content_encoding=headers.get("Content-Encoding"),
            query={},
            max_body_bytes=500 * 1024,
        )
        parsed = parse_segment(payload, call="batch", authorization=headers.get("Authorization"))
        assert parsed.api_key == "wk_wire" and parsed.rejected == []
        verdicts += validate_all(
            parsed, received_us=time.time_ns() // 1000, limits=Limits(), source="segment"
        )
    return verdicts


@pytest.mark.parametrize("use_gzip", [False, True])
def test_segment_python_requests_are_accepted_as_sent(wire_recorder, use_gzip):
    url, seen = wire_recorder
    client = Client("wk_wire", host=url, sync_mode=True, gzip=use_gzip)
    client.track("user-1", "Order Completed", {"revenue": 10, "text": "🎉 שלום"}, message_id="m-1")
    client.identify("user-1", {"email": "a@b.c"}, anonymous_id="anon-1")
    client.page("user-1", "Docs", "Intro", {"url": "https://x.com/docs?q=1", "path": "/docs"})
    client.screen("user-1", "App", "Home")
    client.group("user-1", "org-9", {"name": "Org"})
    client.alias("anon-1", "user-1")
    client.flush()
    assert len(seen) == 6
    assert all(h.get("Authorization") == basic("wk_wire") for _, h, _ in seen)
    assert all((h.get("Content-Encoding") == "gzip") == use_gzip for _, h, _ in seen)

    track, identify, page, screen, group, alias = replay(seen)
    assert all(isinstance(v, Accepted) for v in (track, identify, page, screen, group, alias))
    assert (track.row["event"], track.row["id"], track.row["distinct_id"]) == (
        "Order Completed",
        "m-1",
        "user-1",
    )
    assert '"$lib":"analytics-python"' in track.row["properties"]
    assert '"text":"🎉 שלום"' in track.row["properties"]
    assert abs(track.row["timestamp"] - track.row["received_at"]) < 60_000_000
    assert identify.merge == Merge("identify", keep="user-1", other="anon-1")
    assert identify.person_set == {"email": "a@b.c"}
    assert (page.row["event"], page.row["path"]) == ("$pageview", "/docs")
    assert (screen.row["event"], screen.row["path"]) == ("$screen", "Home")
    assert group.group == GroupUpdate("organization", "org-9", {"name": "Org"})
    assert group.row["tenant_id"] == "org-9"
    assert alias.merge == Merge("alias", keep="user-1", other="anon-1")
