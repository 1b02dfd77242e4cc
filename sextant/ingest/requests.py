"""A capture request as received, and its verdicts: shared by the HTTP routes and replay.

The journal keeps the request itself (body as sent plus what decoding needs), not the
accepted events: writing is cheaper, and replay re-derives exactly the same verdicts
because decoding, parsing and validation depend only on what is recorded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from sextant.ingest.batch import ParsedBody
from sextant.ingest.decode import decode_body
from sextant.ingest.model import Accepted, Limits, Rejected
from sextant.ingest.native import parse_native
from sextant.ingest.posthog import parse_engage, parse_posthog
from sextant.ingest.segment import parse_segment
from sextant.ingest.validate import validate

WIRES = ("posthog", "engage", "segment", "native")


@dataclass
class CaptureRequest:
    wire: str  # one of WIRES
    body: bytes
    received_us: int
    content_type: str | None = None
    content_encoding: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    call: str | None = None  # the Segment call of /v1/<call>
    authorization: str | None = None  # not journaled: it may hold the write key

    def parse(self, max_body_bytes: int) -> ParsedBody:
        payload = decode_body(
            self.body,
            content_type=self.content_type,
            content_encoding=self.content_encoding,
            query=self.query,
            max_body_bytes=max_body_bytes,
        )
        if self.wire == "posthog":
            return parse_posthog(payload, query=self.query)
        if self.wire == "engage":
            return parse_engage(payload, query=self.query)
        if self.wire == "segment":
            return parse_segment(payload, call=self.call, authorization=self.authorization)
        return parse_native(payload, authorization=self.authorization)


def verdicts(
    parsed: ParsedBody, request: CaptureRequest, limits: Limits, source: str
) -> tuple[list[Accepted], list[Rejected]]:
    accepted: list[Accepted] = []
    rejected: list[Rejected] = list(parsed.rejected)
    for msg in parsed.messages:
        verdict = validate(msg, received_us=request.received_us, limits=limits, source=source)
        (accepted if isinstance(verdict, Accepted) else rejected).append(verdict)
    rejected.sort(key=lambda r: r.index)
    return accepted, rejected


def to_record(request: CaptureRequest, source: str, limits: Limits, max_body_bytes: int) -> bytes:
    """Journal form: one JSON header line, then the body bytes as received."""
    header = {
        "wire": request.wire,
        "received_us": request.received_us,
        "content_type": request.content_type,
        "content_encoding": request.content_encoding,
        "query": request.query,
        "call": request.call,
        "source": source,
        "limits": [
            limits.max_event_bytes,
            limits.max_depth,
            limits.max_name_length,
            limits.max_future_seconds,
        ],
        "max_body_bytes": max_body_bytes,
    }
    return orjson.dumps(header) + b"\n" + request.body


def accepted_from_record(record: bytes) -> list[Accepted]:
    """The events a journaled request was accepted with, derived again."""
    head, _, body = record.partition(b"\n")
    h = orjson.loads(head)
    request = CaptureRequest(
        h["wire"],
        body,
        h["received_us"],
        h["content_type"],
        h["content_encoding"],
        h["query"],
        h["call"],
    )
    accepted, _ = verdicts(
        request.parse(h["max_body_bytes"]), request, Limits(*h["limits"]), h["source"]
    )
    return accepted
