"""The events table's denormalized columns, read from an event's properties.

Each column names where it comes from, first match wins: tenant_id from `$groups`, plan,
country, channel, device, path and session_id (see `add_derived`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sextant.ingest.batch import EventProblem, json_type

# With several group types, the tenant is the first of these present, else the first
# group type in sorted order, so the choice never depends on the client's key order.
TENANT_GROUP_TYPES = (
    "tenant",
    "organization",
    "company",
    "workspace",
    "team",
    "project",
    "account",
)


def add_derived(row: dict[str, Any], props: dict[str, Any]) -> None:
    """Set session_id, tenant_id, plan, country, channel, device and path of `row`."""
    get = props.get
    groups = get("$groups")
    device = text(get("$device_type")) or text(get("device"))
    row["session_id"] = text(get("$session_id"))
    row["tenant_id"] = None if groups is None else tenant_id(groups)
    row["plan"] = text(get("plan"))
    row["country"] = text(get("$geoip_country_code")) or text(get("country"))
    row["channel"] = text(get("$utm_source")) or text(get("utm_source")) or text(get("channel"))
    row["device"] = device.lower() if device else None
    row["path"] = (
        text(get("$pathname")) or _url_path(get("$current_url")) or text(get("$screen_name"))
    )


def text(value: Any) -> str | None:
    """A scalar property as column text: strings as sent, numbers in decimal; else None.

    >>> text("pro"), text(3), text(2.0), text(2.5), text(True), text(""), text({"a": 1})
    ('pro', '3', '2', '2.5', None, None, None)
    """
    kind = type(value)
    if kind is str:
        return value or None
    if kind is int:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def tenant_id(groups: Any) -> str | None:
    """The tenant an event belongs to, from PostHog's `$groups` {group type: group key}.

    >>> tenant_id({"company": "c1"}), tenant_id({"project": "p9", "organization": "o1"})
    ('c1', 'o1')
    >>> tenant_id({"b": "2", "a": "1"}), tenant_id({"company": None}), tenant_id(None)
    ('1', None, None)
    """
    if groups is None:
        return None
    if type(groups) is not dict:
        raise _bad_groups(f"got {json_type(groups)}")
    if len(groups) == 1:
        for only in groups.values():
            if type(only) is str:
                return only or None
    keys: dict[str, str] = {}
    for group_type, key in groups.items():
        if key is None or key == "":
            continue
        key_text = text(key)
        if key_text is None:
            raise _bad_groups(f"the key of group type {group_type!r} is {json_type(key)}")
        keys[group_type] = key_text
    if len(keys) <= 1:
        return next(iter(keys.values()), None)
    for group_type in TENANT_GROUP_TYPES:
        if group_type in keys:
            return keys[group_type]
    return keys[min(keys)]


def _bad_groups(detail: str) -> EventProblem:
    return EventProblem(
        "invalid_groups",
        "properties.$groups",
        f"properties.$groups must map group types to group keys (text or numbers); {detail}",
    )


def _url_path(url: Any) -> str | None:
    if type(url) is not str or not url:
        return None
    try:
        return urlsplit(url).path or None
    except ValueError:
        return None
