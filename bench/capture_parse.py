"""Capture parsing cost: decode + parse + validate of a posthog-python-like batch, in µs/event.

The server's budget is 50,000 events/s on one core for everything, so this stage must stay
well under 10 µs per event.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sextant.ingest.decode import decode_body
from sextant.ingest.model import Accepted, Limits
from sextant.ingest.posthog import parse_posthog
from sextant.ingest.validate import validate

BATCH_SIZE = 100
LIMITS = Limits()
MAX_BODY = 20 * 1024 * 1024


def posthog_python_batch(n: int = BATCH_SIZE, *, start: datetime | None = None) -> bytes:
    """A `/batch/` body shaped like posthog-python's: ~10 properties per event."""
    start = start or datetime.now(UTC) - timedelta(minutes=5)
    events = [
        {
            "event": ("$pageview", "signed_up", "invoice_paid", "feature_used")[i % 4],
            "distinct_id": f"user-{i % 37}",
            "properties": {
                "$lib": "posthog-python",
                "$lib_version": "7.9.1",
                "$geoip_disable": True,
                "$current_url": f"https://app.example.com/projects/{i % 7}/settings",
                "$pathname": f"/projects/{i % 7}/settings",
                "$session_id": str(uuid.UUID(int=i // 10)),
                "$groups": {"organization": f"org-{i % 5}"},
                "plan": ("free", "pro", "business")[i % 3],
                "amount": i * 1.25,
                "items": i % 4,
            },
            "timestamp": (start + timedelta(seconds=i)).isoformat(),
            "uuid": str(uuid.uuid4()),
        }
        for i in range(n)
    ]
    body = {"api_key": "phc_bench", "batch": events, "sent_at": datetime.now(UTC).isoformat()}
    return json.dumps(body).encode()


def run_once(body: bytes, encoding: str | None) -> int:
    received_us = time.time_ns() // 1000
    payload = decode_body(
        body,
        content_type="application/json",
        content_encoding=encoding,
        query={},
        max_body_bytes=MAX_BODY,
    )
    parsed = parse_posthog(payload, query={})
    accepted = 0
    for msg in parsed.messages:
        verdict = validate(msg, received_us=received_us, limits=LIMITS, source="bench")
        accepted += isinstance(verdict, Accepted)
    return accepted


def per_event_us(fn: Callable[[], int], repeats: int) -> float:
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(repeats):
            assert fn() == BATCH_SIZE
        best = min(best, (time.perf_counter() - began) / repeats / BATCH_SIZE)
    return best * 1e6


def main(quick: bool = False) -> None:
    repeats = 20 if quick else 200
    plain = posthog_python_batch()
    zipped = gzip.compress(plain)
    print(
        f"capture parse: {BATCH_SIZE}-event posthog-python batch, {len(plain):,} bytes "
        f"({len(zipped):,} gzipped)"
    )
    print(f"{'body':<8}{'µs/event':>10}{'events/s':>12}")
    for name, body, encoding in (("plain", plain, None), ("gzip", zipped, "gzip")):
        us = per_event_us(lambda b=body, e=encoding: run_once(b, e), repeats)
        print(f"{name:<8}{us:>10.2f}{1e6 / us:>12,.0f}")


if __name__ == "__main__":
    main()
