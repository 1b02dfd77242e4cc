"""Sextant's own capture format (`POST /api/v1/events`) -> messages.

A body is one event object, `{"events": [...], "write_key"?, "sent_at"?}` or a bare array;
an event has `id`, `event`, `distinct_id`, `timestamp`, `properties`, `$set`, `$set_once`.
The write key is `Authorization: Bearer <key>` or `write_key` in the body (the header wins).
"""

from __future__ import annotations

from typing import Any

from sextant.ingest.batch import (
    ParsedBody,
    body_items,
    first_key,
    invalid_body,
    key_from_authorization,
    not_an_object,
)
from sextant.ingest.model import Incoming

LIBRARY = "native"


def parse_native(payload: Any, *, authorization: str | None) -> ParsedBody:
    header_key = key_from_authorization(authorization, "bearer")
    if isinstance(payload, dict) and "events" in payload:
        items, wrapper = body_items(payload, "events"), payload
    elif isinstance(payload, dict):
        items, wrapper = [payload], payload
    elif isinstance(payload, list):
        items, wrapper = payload, {}
    else:
        raise invalid_body('an event, {"events": [...]} or an array of events', payload)
    sent_at = wrapper.get("sent_at")
    parsed = ParsedBody([], sent_at=sent_at)
    for index, item in enumerate(items):
        if type(item) is dict:
            parsed.messages.append(_message(index, item, sent_at))
        else:
            parsed.rejected.append(not_an_object(index, item))
    parsed.api_key = header_key or first_key(
        wrapper.get("write_key"), *(m.token for m in parsed.messages)
    )
    return parsed


def _message(index: int, item: dict[str, Any], sent_at: Any) -> Incoming:
    return Incoming(
        index,
        event=item.get("event"),
        distinct_id=item.get("distinct_id"),
        timestamp=item.get("timestamp"),
        sent_at=item.get("sent_at") or sent_at,
        properties=item.get("properties"),
        uuid=item.get("id"),
        set=item.get("$set"),
        set_once=item.get("$set_once"),
        token=item.get("write_key"),
        library=LIBRARY,
    )
