"""PostHog wire format -> messages: `/batch/`, `/e/`, `/capture/` bodies and legacy `/engage/`.

Body forms: the wrapper `{api_key|token, batch, sent_at, historical_migration}`, a bare
array of events or one bare event. See INTEGRATIONS.md §2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sextant.ingest.batch import ParsedBody, body_items, first_key, invalid_body, not_an_object
from sextant.ingest.model import Incoming, Rejected

LIBRARY = "posthog"
# /engage/ fields that describe the update rather than ask for one.
_ENGAGE_META = frozenset({"$token", "$distinct_id", "$time", "$ip", "$ignore_time", "$device_id"})
_ENGAGE_SUPPORTED = frozenset({"$set", "$set_once"})


def parse_posthog(payload: Any, *, query: Mapping[str, str] | None = None) -> ParsedBody:
    """Messages of a PostHog capture body; posthog-js's `_` query (send time, ms) is sent_at."""
    query = query or {}
    if isinstance(payload, dict) and "batch" in payload:
        items = body_items(payload, "batch")
        wrapper: Mapping[str, Any] = payload
    elif isinstance(payload, dict):
        items, wrapper = [payload], payload
    elif isinstance(payload, list):
        items, wrapper = payload, {}
    else:
        raise invalid_body("an object or an array of events", payload)
    sent_at = wrapper.get("sent_at")
    if sent_at is None:
        sent_at = _query_sent_at(query)
    parsed = ParsedBody([], historical=wrapper.get("historical_migration") is True)
    parsed.sent_at = sent_at
    for index, item in enumerate(items):
        if type(item) is dict:
            parsed.messages.append(_message(index, item, sent_at))
        else:
            parsed.rejected.append(not_an_object(index, item))
    parsed.api_key = first_key(
        wrapper.get("api_key"), wrapper.get("token"), *(m.token for m in parsed.messages)
    )
    return parsed


def _message(index: int, item: dict[str, Any], sent_at: Any) -> Incoming:
    get = item.get
    props = get("properties")
    distinct_id = get("distinct_id")
    token = get("api_key") or get("token")
    if type(props) is dict:
        if distinct_id is None:
            distinct_id = props.get("distinct_id")  # posthog-js puts it here
        if token is None:
            token = props.get("token")
    # Positional, in Incoming's field order: keywords cost twice as much on this hot path.
    return Incoming(
        index,
        get("event"),
        distinct_id,
        get("timestamp"),
        get("sent_at") or sent_at,
        get("offset"),
        props,
        get("uuid"),
        get("$set"),
        get("$set_once"),
        token,
        LIBRARY,
    )


def _query_sent_at(query: Mapping[str, str]) -> int | None:
    value = query.get("_", "")
    return int(value) if value.isdigit() else None


def parse_engage(payload: Any, *, query: Mapping[str, str] | None = None) -> ParsedBody:
    """Legacy `/engage/` person updates (`$distinct_id`, `$set`, `$set_once`, `$token`).

    Each update becomes a `$set` event carrying the person properties; other operations
    (`$unset`, `$add`, `$append`, ...) are rejected by name.
    """
    if isinstance(payload, dict):
        items = [payload]
    elif isinstance(payload, list):
        items = payload
    else:
        raise invalid_body("an object or an array of person updates", payload)
    parsed = ParsedBody([], sent_at=_query_sent_at(query or {}))
    for index, item in enumerate(items):
        verdict = _engage_message(index, item, parsed.sent_at)
        (parsed.messages if isinstance(verdict, Incoming) else parsed.rejected).append(verdict)
    parsed.api_key = first_key(*(m.token for m in parsed.messages))
    return parsed


def _engage_message(index: int, item: Any, sent_at: Any) -> Incoming | Rejected:
    if type(item) is not dict:
        return not_an_object(index, item)
    unsupported = sorted(k for k in item if k not in _ENGAGE_META and k not in _ENGAGE_SUPPORTED)
    if unsupported:
        return Rejected(
            index,
            "unsupported_operation",
            unsupported[0],
            f"/engage/ operation {unsupported[0]!r} is not supported; only $set and $set_once",
        )
    if not _ENGAGE_SUPPORTED.intersection(item):
        return Rejected(index, "invalid_set", "$set", "an /engage/ update needs $set or $set_once")
    return Incoming(
        index,
        event="$set",
        distinct_id=item.get("$distinct_id"),
        timestamp=item.get("$time"),
        sent_at=sent_at,
        properties={},
        set=item.get("$set"),
        set_once=item.get("$set_once"),
        token=item.get("$token"),
        library=LIBRARY,
    )
