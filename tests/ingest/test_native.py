"""Sextant's own capture body -> messages: its three forms and where the write key comes from."""

from __future__ import annotations

import pytest

from sextant.errors import InvalidInput
from sextant.ingest.model import Accepted, Incoming, Limits
from sextant.ingest.native import parse_native
from sextant.ingest.validate import validate_all

EVENT = {
    "id": "evt-1",
    "event": "signed_up",
    "distinct_id": "u1",
    "timestamp": "2024-03-01T09:00:00Z",
    "properties": {"plan": "pro"},
    "$set": {"name": "Ann"},
    "$set_once": {"first": "2024"},
}


def test_one_event_object_is_one_message_with_every_field():
    parsed = parse_native(EVENT, authorization="Bearer sx_key")
    assert parsed.api_key == "sx_key" and parsed.rejected == []
    assert parsed.messages == [
        Incoming(
            0,
            event="signed_up",
            distinct_id="u1",
            timestamp="2024-03-01T09:00:00Z",
            properties={"plan": "pro"},
            uuid="evt-1",
            set={"name": "Ann"},
            set_once={"first": "2024"},
            library="native",
        )
    ]


def test_events_wrapper_gives_write_key_and_sent_at_from_the_body():
    body = {"write_key": "sx_body", "sent_at": "2024-03-01T09:00:05Z", "events": [EVENT, EVENT]}
    parsed = parse_native(body, authorization=None)
    assert parsed.api_key == "sx_body" and parsed.sent_at == "2024-03-01T09:00:05Z"
    assert [m.index for m in parsed.messages] == [0, 1]
    assert parsed.messages[1].sent_at == "2024-03-01T09:00:05Z"


def test_bare_array_is_a_batch_and_bad_items_are_rejected_alone():
    parsed = parse_native([EVENT, 7, EVENT], authorization="Bearer k")
    assert [m.index for m in parsed.messages] == [0, 2]
    assert [(r.index, r.code, r.field) for r in parsed.rejected] == [(1, "not_an_object", "event")]


def test_bearer_key_wins_over_the_body_key():
    parsed = parse_native({"write_key": "body", "events": []}, authorization="Bearer header")
    assert parsed.api_key == "header"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer   ", "token"])
def test_malformed_authorization_is_rejected(header):
    with pytest.raises(InvalidInput) as caught:
        parse_native(EVENT, authorization=header)
    assert (caught.value.code, caught.value.field) == ("invalid_authorization", "authorization")
    assert "Bearer <credentials>" in caught.value.message


def test_missing_key_is_none_for_the_route_to_answer_401():
    assert parse_native(EVENT, authorization=None).api_key is None


def test_body_and_events_are_invalid_when_of_the_wrong_type():
    with pytest.raises(InvalidInput) as caught:
        parse_native("x", authorization=None)
    assert (caught.value.code, caught.value.field) == ("invalid_body", "body")
    with pytest.raises(InvalidInput) as caught:
        parse_native({"events": {"event": "x"}}, authorization=None)
    assert (caught.value.code, caught.value.field) == ("invalid_body", "events")
    assert "'events' must be an array" in caught.value.message


def test_native_events_validate_into_rows():
    parsed = parse_native({"events": [EVENT, {"event": "x"}]}, authorization="Bearer k")
    ok, missing = validate_all(
        parsed, received_us=1_709_283_600_000_000, limits=Limits(), source="api"
    )
    assert isinstance(ok, Accepted)
    assert (ok.row["id"], ok.row["source"], ok.person_set) == ("evt-1", "api", {"name": "Ann"})
    assert (missing.code, missing.field, missing.message) == (
        "missing_distinct_id",
        "distinct_id",
        "distinct_id is missing",
    )
