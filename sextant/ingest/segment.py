"""Segment wire format -> messages: `/v1/batch` and the single calls (INTEGRATIONS.md §3).

Calls map onto PostHog's event vocabulary so both feed one events table: track = event,
page = `$pageview`, screen = `$screen`, identify = `$identify`, alias = `$create_alias`,
group = `$groupidentify`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sextant.errors import InvalidInput
from sextant.ingest.batch import (
    ParsedBody,
    body_items,
    first_key,
    invalid_body,
    key_from_authorization,
    not_an_object,
)
from sextant.ingest.model import Incoming, Rejected

LIBRARY = "segment"
CALLS = ("track", "identify", "page", "screen", "group", "alias")
LETTERS = {"t": "track", "i": "identify", "p": "page", "s": "screen", "g": "group", "a": "alias"}
_CALL_NAMES = {**LETTERS, "b": "batch"}
DEFAULT_GROUP_TYPE = "organization"

# context.<section>.<field> -> property, named as PostHog's SDKs name them.
_CONTEXT_SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "library": (("name", "$lib"), ("version", "$lib_version")),
    "page": (
        ("url", "$current_url"),
        ("path", "$pathname"),
        ("referrer", "$referrer"),
        ("title", "$title"),
    ),
    "os": (("name", "$os"), ("version", "$os_version")),
    "app": (("name", "$app_name"), ("version", "$app_version"), ("build", "$app_build")),
    "device": (
        ("id", "$device_id"),
        ("manufacturer", "$device_manufacturer"),
        ("model", "$device_model"),
    ),
    "screen": (("width", "$screen_width"), ("height", "$screen_height")),
    "campaign": (
        ("source", "utm_source"),
        ("medium", "utm_medium"),
        ("name", "utm_campaign"),
        ("term", "utm_term"),
        ("content", "utm_content"),
    ),
}
_CONTEXT_FIELDS = {
    "ip": "$ip",
    "locale": "$locale",
    "timezone": "$timezone",
    "userAgent": "$user_agent",
}
# Segment's device.type is a platform (ios, android); PostHog's $device_type a form factor.
_DEVICE_TYPES = {
    "ios": "Mobile",
    "android": "Mobile",
    "mobile": "Mobile",
    "tablet": "Tablet",
    "desktop": "Desktop",
}
# Left out of `$context`: the ip has its own property; traits repeat person data (PII) on
# every event and reach the person through identify instead.
_CONTEXT_DROPPED = frozenset({"ip", "traits"})


def parse_segment(payload: Any, *, call: str | None, authorization: str | None) -> ParsedBody:
    """Messages of a Segment request; `call` is the path's call name or one-letter alias.

    The write key comes from `Authorization: Basic base64("<key>:")`, else `writeKey` in
    the body.
    """
    header_key = key_from_authorization(authorization, "basic")
    kind = _call_name(call)
    if isinstance(payload, dict) and (kind == "batch" or (kind is None and "batch" in payload)):
        items, wrapper, forced = body_items(payload, "batch"), payload, None
    elif isinstance(payload, list) and kind in ("batch", None):
        items, wrapper, forced = payload, {}, None
    elif isinstance(payload, dict) and kind != "batch":
        items, wrapper, forced = [payload], payload, kind
    else:
        raise invalid_body("an object (a message, or {batch: [...]})", payload)
    sent_at = wrapper.get("sentAt")
    parsed = ParsedBody([], sent_at=sent_at)
    for index, item in enumerate(items):
        verdict = _message(index, item, forced, sent_at)
        (parsed.messages if isinstance(verdict, Incoming) else parsed.rejected).append(verdict)
    parsed.api_key = header_key or first_key(
        wrapper.get("writeKey"), *(m.token for m in parsed.messages)
    )
    return parsed


def _call_name(call: str | None) -> str | None:
    if call is None:
        return None
    name = _CALL_NAMES.get(call, call)
    if name != "batch" and name not in CALLS:
        raise InvalidInput(
            "unknown_segment_call",
            f"unknown Segment call {call!r}; use one of batch, {', '.join(CALLS)}",
            field="path",
        )
    return name


def _message(index: int, item: Any, forced: str | None, sent_at: Any) -> Incoming | Rejected:
    if type(item) is not dict:
        return not_an_object(index, item)
    kind = forced or item.get("type")
    build = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if build is None:
        what = "has no type" if kind is None else f"has unknown Segment type {kind!r}"
        return Rejected(
            index, "unknown_type", "type", f"the message {what}; expected one of {', '.join(CALLS)}"
        )
    context = item.get("context")
    if context is not None and type(context) is not dict:
        return Rejected(index, "invalid_context", "context", "context must be a JSON object")
    user_id, anonymous_id = _present(item.get("userId")), _present(item.get("anonymousId"))
    msg = Incoming(
        index,
        distinct_id=user_id if user_id is not None else anonymous_id,
        timestamp=item.get("timestamp") or item.get("originalTimestamp"),
        sent_at=item.get("sentAt") or sent_at,
        uuid=item.get("messageId"),
        token=item.get("writeKey"),
        library=LIBRARY,
    )
    build(msg, item, user_id, anonymous_id)
    if type(msg.properties) is dict:
        fold_context(msg.properties, context or {})
    return msg


def _present(value: Any) -> Any:
    return None if value == "" else value


def _track(msg: Incoming, item: dict[str, Any], user_id: Any, anonymous_id: Any) -> None:
    msg.event = item.get("event")
    msg.properties = _copied(item.get("properties"))


def _page(msg: Incoming, item: dict[str, Any], user_id: Any, anonymous_id: Any) -> None:
    msg.event = "$pageview"
    props = msg.properties = _named(item)
    if type(props) is dict:
        for source, target in (
            ("url", "$current_url"),
            ("path", "$pathname"),
            ("referrer", "$referrer"),
            ("title", "$title"),
        ):
            if source in props:
                props.setdefault(target, props[source])


def _screen(msg: Incoming, item: dict[str, Any], user_id: Any, anonymous_id: Any) -> None:
    msg.event = "$screen"
    props = msg.properties = _named(item)
    if type(props) is dict and item.get("name") is not None:
        props.setdefault("$screen_name", item["name"])


def _identify(msg: Incoming, item: dict[str, Any], user_id: Any, anonymous_id: Any) -> None:
    msg.event = "$identify"
    msg.properties = {}
    if user_id is not None and anonymous_id is not None:
        msg.properties["$anon_distinct_id"] = anonymous_id
    msg.set = item.get("traits")


def _alias(msg: Incoming, item: dict[str, Any], user_id: Any, anonymous_id: Any) -> None:
    msg.event = "$create_alias"
    msg.distinct_id = user_id
    msg.properties = {"alias": item.get("previousId")}


def _group(msg: Incoming, item: dict[str, Any], user_id: Any, anonymous_id: Any) -> None:
    msg.event = "$groupidentify"
    traits = item.get("traits")
    group_type = DEFAULT_GROUP_TYPE
    if type(traits) is dict and isinstance(traits.get("group_type"), str) and traits["group_type"]:
        group_type = traits["group_type"]
    group_key = item.get("groupId")
    msg.properties = {
        "$group_type": group_type,
        "$group_key": group_key,
        "$group_set": {} if traits is None else traits,
        "$groups": {group_type: group_key},
    }


_BUILDERS: dict[str, Callable[[Incoming, dict[str, Any], Any, Any], None]] = {
    "track": _track,
    "page": _page,
    "screen": _screen,
    "identify": _identify,
    "alias": _alias,
    "group": _group,
}


def _copied(props: Any) -> Any:
    if props is None:
        return {}
    return dict(props) if type(props) is dict else props


def _named(item: dict[str, Any]) -> Any:
    props = _copied(item.get("properties"))
    if type(props) is dict:
        for key in ("name", "category"):
            if item.get(key) is not None:
                props.setdefault(key, item[key])
    return props


def fold_context(props: dict[str, Any], context: Mapping[str, Any]) -> None:
    """Add the useful parts of a Segment `context` to `props` under PostHog's names.

    Properties the message already has win. The rest of the context is kept whole under
    `$context`, except the ip (`$ip`) and traits (person data, sent by identify).
    """
    for section, value in context.items():
        if type(value) is dict and section in _CONTEXT_SECTIONS:
            for name, prop in _CONTEXT_SECTIONS[section]:
                if value.get(name) is not None:
                    props.setdefault(prop, value[name])
        elif section in _CONTEXT_FIELDS and value is not None:
            props.setdefault(_CONTEXT_FIELDS[section], value)
    device = context.get("device")
    if type(device) is dict and isinstance(device.get("type"), str):
        form = _DEVICE_TYPES.get(device["type"].lower())
        if form:
            props.setdefault("$device_type", form)
    group_id = context.get("groupId")
    if group_id is not None:
        props.setdefault("$groups", {DEFAULT_GROUP_TYPE: group_id})
    props.setdefault("$lib", LIBRARY)
    kept = {k: v for k, v in context.items() if k not in _CONTEXT_DROPPED}
    if kept:
        props.setdefault("$context", kept)
