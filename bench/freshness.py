"""Freshness under sustained load: seconds from an event's 200 to its being queryable.

Target (issue: ingestion): an accepted event is visible to queries within 1 s (p95) under
sustained load. One client sends batches of 100 at a steady rate; a poller reads the server's
stored count (/readyz `stored`, bumped right after the store's commit, so what it counts is
queryable) every few milliseconds. One sender means the journal, and so the store, keeps the
sending order: batch k is visible once 100·(k+1) events are stored. Sender and poller share
this process, and the machine's cores with the server, so the highest rates also measure
how a loaded machine copes.

`python -m bench freshness [--quick]`. `tests/e2e/test_freshness.py` runs the same
measurement at a gentle rate to check that events are stored while load goes on.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.table import Table

from bench.ingest import serving

BATCH = 100
POLL_SECONDS = 0.01
TARGET_P95 = 1.0  # seconds
RATES = (5_000, 10_000, 20_000)  # events/s asked for
QUICK_RATES = (10_000,)


@dataclass
class Sent:
    acked_at: list[float] = field(default_factory=list)  # monotonic time of each 200
    other: list[int] = field(default_factory=list)  # statuses other than 200


@dataclass
class Polled:
    at: list[float] = field(default_factory=list)  # when the answer arrived
    stored: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Freshness:
    rate: int  # events/s asked for
    achieved: float  # events/s acknowledged
    acked: int
    errors: list[int]
    delays: list[float]  # sorted, one per batch: 200 to first poll counting it

    def quantile(self, q: float) -> float:
        return self.delays[int(q * (len(self.delays) - 1))]


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


def send(url: str, payloads: list[bytes], rate: int, sent: Sent) -> None:
    interval = BATCH / rate
    start = time.monotonic()
    with httpx.Client(timeout=10) as client:
        for k, payload in enumerate(payloads):
            delay = start + k * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            response = client.post(
                url + "/batch/", content=payload, headers={"Content-Type": "application/json"}
            )
            if response.status_code != 200:
                sent.other.append(response.status_code)
                return
            sent.acked_at.append(time.monotonic())


def poll(url: str, polled: Polled, done: threading.Event) -> None:
    with httpx.Client(timeout=10) as client:
        while not done.is_set():
            stored = client.get(url + "/readyz").json()["stored"]
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
        if j == len(polled.stored):
            raise AssertionError(f"batch {k} was never seen stored")
        delays.append(max(0.0, polled.at[j] - acked))
    return delays


def measure(url: str, key: str, rate: int, seconds: float) -> Freshness:
    """Send `rate` events/s for `seconds` to a server whose store starts empty, wait until
    it has stored everything it accepted, and return each batch's delay."""
    payloads = bodies(key, int(rate * seconds / BATCH))
    sent, polled, done = Sent(), Polled(), threading.Event()
    poller = threading.Thread(target=poll, args=(url, polled, done), daemon=True)
    poller.start()
    started = time.monotonic()
    send(url, payloads, rate, sent)
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 60
    while httpx.get(url + "/readyz", timeout=10).json()["backlog"]:
        if time.monotonic() > deadline:
            raise AssertionError("the backlog did not drain in 60 s")
        time.sleep(0.02)
    time.sleep(2 * POLL_SECONDS)  # one more poll after the last store
    done.set()
    poller.join(10)
    acked = BATCH * len(sent.acked_at)
    return Freshness(rate, acked / elapsed, acked, sent.other, sorted(visible_after(sent, polled)))


def main(quick: bool = False) -> None:
    seconds = 3.0 if quick else 5.0
    results = []
    for rate in QUICK_RATES if quick else RATES:
        with serving() as (url, key, _):  # a fresh, empty store per rate
            results.append(measure(url, key, rate, seconds))
    table = Table(
        title=f"freshness under sustained load: one sender, batches of {BATCH}, {seconds:g} s "
        f"per rate, {os.cpu_count()} cores shared by sender, poller and server",
        title_justify="left",
        caption=f"target: p95 < {TARGET_P95:g} s from the 200 to queryable",
        caption_justify="left",
    )
    for column in ("asked ev/s", "achieved ev/s", "acked", "errors", "p50 s", "p95 s", "max s"):
        table.add_column(column, justify="right")
    table.add_column("verdict", justify="right")
    for r in results:
        met = not r.errors and r.quantile(0.95) < TARGET_P95
        table.add_row(
            f"{r.rate:,}",
            f"{r.achieved:,.0f}",
            f"{r.acked:,}",
            str(len(r.errors)),
            f"{r.quantile(0.5):.3f}",
            f"{r.quantile(0.95):.3f}",
            f"{r.delays[-1]:.3f}",
            "met" if met else "MISSED",
        )
    Console(width=120).print(table)
