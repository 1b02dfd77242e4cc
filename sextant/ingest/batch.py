"""What the wire parsers share: the parsed body, per-message problems and write-key helpers."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from sextant.errors import InvalidInput
from sextant.ingest.model import Incoming, Rejected


@dataclass(slots=True)
class ParsedBody:
    """A request body as messages, plus what the body says about all of them.

    `rejected` holds verdicts the parser already knows (an item that is not an object, an
    unknown Segment type); the caller merges them with `validate`'s verdicts by index.
    """

    messages: list[Incoming]
    api_key: str | None = None
    sent_at: Any = None
    historical: bool = False
    rejected: list[Rejected] = field(default_factory=list)


class EventProblem(Exception):
    """One message is invalid; carries its verdict's code, field and message."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message

    def rejected(self, index: int) -> Rejected:
        return Rejected(index, self.code, self.field, self.message)


def non_standard_number(field: str) -> EventProblem:
    return EventProblem(
        "non_standard_number",
        field,
        f"{field} is NaN, Infinity or a number beyond a double, which is not valid JSON",
    )


def not_an_object(index: int, value: Any) -> Rejected:
    return Rejected(
        index,
        "not_an_object",
        "event",
        f"event must be a JSON object, got {json_type(value)}",
    )


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages.

    >>> json_type([1]), json_type(None), json_type(True), json_type(1.5)
    ('an array', 'null', 'a boolean', 'a number')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "NaN or Infinity"


def body_items(payload: Any, key: str) -> list[Any]:
    """The list under `key` of a wrapper object, refusing anything but an array."""
    items = payload.get(key)
    if not isinstance(items, list):
        raise InvalidInput(
            "invalid_body", f"'{key}' must be an array of events, got {json_type(items)}", field=key
        )
    return items


def invalid_body(expected: str, payload: Any) -> InvalidInput:
    return InvalidInput(
        "invalid_body",
        f"the request body must be {expected}, got {json_type(payload)}",
        field="body",
    )


def first_key(*candidates: Any) -> str | None:
    """The first candidate that is a non-empty string: where the write key was found."""
    for value in candidates:
        if isinstance(value, str) and value:
            return value
    return None


def key_from_authorization(header: str | None, scheme: str) -> str | None:
    """The write key in an `Authorization` header: `Bearer <key>` or `Basic base64(<key>:)`.

    >>> key_from_authorization("Basic " + base64.b64encode(b"wk:").decode(), "basic")
    'wk'
    >>> key_from_authorization("Bearer sk_1", "bearer")
    'sk_1'
    """
    if header is None or not header.strip():
        return None
    given, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if given.lower() != scheme or not credentials:
        raise _bad_authorization(f"expected '{scheme.title()} <credentials>'")
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _bad_authorization("the Basic credentials are not valid base64") from None
        credentials = decoded.partition(":")[0]
        if not credentials:
            raise _bad_authorization("the Basic credentials hold no write key before ':'")
    return credentials


def _bad_authorization(detail: str) -> InvalidInput:
    return InvalidInput(
        "invalid_authorization",
        f"the Authorization header is malformed: {detail}",
        field="authorization",
    )
