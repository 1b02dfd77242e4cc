"""Freshness under sustained load: an accepted event is visible to queries within 1 s (p95).

One client sends batches of 100 at a steady rate for a few seconds; a poller reads the
server's stored count (/readyz `stored`, bumped right after the store's commit, so what it
counts is queryable) every few milliseconds. One sender means the journal, and so the
store, keeps the sending order: batch k is visible once 100·(k+1) events are stored.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pytest

from tests.conftest import LiveServer, readyz, wait_drained

BATCH = 100
# 20,000 events/s: 40% of the batched target, so the server keeps up on 2 cores shared with
# this process; measured p95 is ~0.1 s here, the 1 s bound leaves room for a loaded machine.
RATE = 20_000
SECONDS = 3.0
POLL_SECONDS = 0.01
LIMIT_P95 = 1.0  # the bound, measured conservatively (see `visible_after`)


@dataclass
class Sent:
    acked_at: list[float] = field(default_factory=list)  # monotonic time of each 200
    other: list[int] = field(default_factory=list)


@dataclass
class Polled:
    at: list[float] = field(default_factory=list)  # when the answer arrived
    stored: list[int] = field(default_factory=list)


def bodies(key: str, n: int) -> list[bytes]:
    """Every request body up front, so sending costs the client as little as possible."""
    return [
        json.dumps(
            {
                "api_key": key,
                "batch": [
                    {
                        "event": "fresh",
                        "distinct_id": f"user-{(k * BATCH + i) % 501}",
                        "uuid": str(uuid.UUID(int=(k << 16) | i)),
                        "properties": {"k": k, "i": i, "plan": "pro"},
                    }
                    for i in range(BATCH)
                ],
            }
        ).encode()
        for k in range(n)
    ]


def send(server: LiveServer, payloads: list[bytes], sent: Sent) -> None:
    interval = BATCH / RATE
    start = time.monotonic()
    with httpx.Client(timeout=10) as client:
        for k, payload in enumerate(payloads):
            delay = start + k * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            response = client.post(
                server.url + "/batch/",
                content=payload,
                headers={"Content-Type": "application/json"},
            )
            if response.status_code != 200:
                sent.other.append(response.status_code)
                return
            sent.acked_at.append(time.monotonic())


def poll(server: LiveServer, polled: Polled, done: threading.Event) -> None:
    with httpx.Client(timeout=10) as client:
        while not done.is_set():
            stored = client.get(server.url + "/readyz").json()["stored"]
            polled.at.append(time.monotonic())
            polled.stored.append(stored)
            time.sleep(POLL_SECONDS)


def visible_after(sent: Sent, polled: Polled) -> list[float]:
    """Seconds from each batch's 200 to the first poll answer counting it.

    An upper bound: the answer's arrival time stands for the moment it was counted.
    """
    delays, j = [], 0
    for k, acked in enumerate(sent.acked_at):
        need = BATCH * (k + 1)
        while j < len(polled.stored) and polled.stored[j] < need:
            j += 1
        assert j < len(polled.stored), f"batch {k} was never seen stored"
        delays.append(max(0.0, polled.at[j] - acked))
    return delays


@pytest.mark.serial  # a latency bound: not beside another worker
def test_accepted_events_are_queryable_within_a_second_when_load_is_sustained(live_server):
    payloads = bodies(live_server.key, int(RATE * SECONDS / BATCH))
    sent, polled, done = Sent(), Polled(), threading.Event()
    poller = threading.Thread(target=poll, args=(live_server, polled, done), daemon=True)
    poller.start()
    started = time.monotonic()
    send(live_server, payloads, sent)
    elapsed = time.monotonic() - started
    wait_drained(live_server)
    time.sleep(2 * POLL_SECONDS)  # one more poll after the last store
    done.set()
    poller.join(10)

    assert sent.other == []
    total = BATCH * len(sent.acked_at)
    assert total == BATCH * len(payloads)
    delays = sorted(visible_after(sent, polled))
    p95 = delays[int(0.95 * (len(delays) - 1))]
    load = f"under {total / elapsed:,.0f} events/s"  # how hard bench/ingest pushes: see README
    assert p95 < LIMIT_P95, f"p95 {p95:.3f} s, max {delays[-1]:.3f} s, {load}"
    # The server's own accept->stored measure agrees.
    server_p95 = readyz(live_server)["freshness_p95_seconds"]
    assert server_p95 is not None and server_p95 < LIMIT_P95
    # And queries see exactly what was acknowledged.
    assert live_server.rows() == total
