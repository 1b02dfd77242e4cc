"""What capture passes along: messages from any wire format, and each one's verdict.

A wire parser (PostHog, Segment, native) turns a request body into `Incoming` messages,
untouched; `validate` turns each into an `Accepted` event (a row for the events table plus
the identity, person and group updates it asks for) or a `Rejected` verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MergeKind = Literal["identify", "alias"]


@dataclass(slots=True)
class Incoming:
    """One message as the client sent it; any field may be missing or of the wrong type."""

    index: int  # position in the request, reported back in verdicts
    event: Any = None
    distinct_id: Any = None
    timestamp: Any = None  # ISO 8601 text (or epoch number) as sent
    sent_at: Any = None  # the batch's or message's sent_at, for clock-skew correction
    offset_ms: Any = None  # posthog-js `offset`: milliseconds before sending
    properties: Any = None
    uuid: Any = None  # PostHog uuid, Segment messageId, native id
    set: Any = None  # $set: person properties to overwrite
    set_once: Any = None  # $set_once: person properties to keep if already set
    token: Any = None  # write key carried inside the message, if any
    library: str = "native"  # posthog, segment or native
    size: int = 0  # bytes of this message in the body (0 when unknown)


@dataclass(slots=True)
class Merge:
    kind: MergeKind
    keep: str  # the id that is kept (user id)
    other: str  # the id merged into it (anonymous id, alias)


@dataclass(slots=True)
class GroupUpdate:
    group_type: str
    group_key: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Accepted:
    """A valid event. `row` holds the events columns except `person_id`, which the store
    assigns when it writes the row; times are UTC microseconds since the epoch."""

    index: int
    row: dict[str, Any]
    person_set: dict[str, Any] | None = None
    person_set_once: dict[str, Any] | None = None
    merge: Merge | None = None
    group: GroupUpdate | None = None


@dataclass(slots=True)
class Rejected:
    index: int
    code: str
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "code": self.code,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True)
class Limits:
    """Bounds on what one event may be; settings in `sextant.config` set them."""

    max_event_bytes: int = 1_000_000
    max_depth: int = 20  # nesting of objects and arrays inside properties
    max_name_length: int = 200  # event names, distinct ids and property keys
    max_future_seconds: int = 86_400  # after skew correction
