"""The ingestion pipeline: journal first (durable, then acknowledged), store in the background.

`submit` returns once the events are fsync'd in the journal; a flusher thread writes them
to the store in batches a few times a second, so an accepted event is queryable well
within a second. On start the journal's unstored tail is replayed; on stop everything
accepted is flushed. When the backlog passes its bound, `submit` refuses with a
retryable error instead of accepting what it could not keep.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from sextant.errors import Unavailable
from sextant.ingest.journal import GroupCommitter, Journal
from sextant.ingest.model import Accepted, GroupUpdate, Merge
from sextant.ingest.requests import accepted_from_record
from sextant.ingest.writer import store_events
from sextant.store.engine import Engine

log = logging.getLogger("sextant.ingest")


@dataclass
class Stats:
    accepted: int = 0
    stored: int = 0
    duplicates: int = 0
    flushes: int = 0
    replayed: int = 0
    last_flush_seconds: float = 0.0
    last_error: str | None = None
    freshness: deque = field(default_factory=lambda: deque(maxlen=2048))  # accept->stored s


class Ingestor:
    def __init__(
        self,
        engine: Engine,
        journal_dir: Path,
        *,
        max_backlog: int = 1_000_000,
        linger_seconds: float = 0.05,
        max_flush_events: int = 100_000,
    ) -> None:
        self.engine = engine
        self.journal = Journal(journal_dir)
        self.max_backlog = max_backlog
        self.linger_seconds = linger_seconds
        self.max_flush_events = max_flush_events
        self.stats = Stats()
        self._pending: deque[tuple[int, list[Accepted], float]] = deque()
        self._cond = threading.Condition()
        self._backlog = 0
        self._closing = False
        self._committer: GroupCommitter | None = None
        self._flusher: threading.Thread | None = None

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        self._replay()
        self._committer = GroupCommitter(self.journal, self._committed)
        self._flusher = threading.Thread(target=self._flush_loop, name="flusher", daemon=True)
        self._flusher.start()

    def stop(self) -> None:
        """Refuse new events, write everything accepted to the store, close the journal."""
        with self._cond:
            self._closing = True
        if self._committer:
            self._committer.close()
        with self._cond:
            self._cond.notify_all()
        if self._flusher:
            self._flusher.join()
        self.journal.release(self.engine.journal_lsn)
        self.journal.close()

    @property
    def backlog(self) -> int:
        return self._backlog

    @property
    def ready(self) -> bool:
        return self._flusher is not None and self._flusher.is_alive() and not self._closing

    # --- accepting -----------------------------------------------------------------------

    async def submit(self, accepted: list[Accepted], record: bytes | None = None) -> int:
        """Journal `accepted` durably; return its journal sequence number.

        `record` is what the journal keeps, from which replay derives `accepted` again
        (`requests.to_record`); without it the accepted rows themselves are kept.
        """
        future = self._enqueue(accepted, record)
        try:
            return await asyncio.wrap_future(future)
        except OSError as exc:
            raise self._journal_failed(accepted, exc) from None

    def submit_sync(self, accepted: list[Accepted], record: bytes | None = None) -> int:
        try:
            return self._enqueue(accepted, record).result()
        except OSError as exc:
            raise self._journal_failed(accepted, exc) from None

    def _journal_failed(self, accepted: list[Accepted], exc: OSError) -> Unavailable:
        """The journal could not keep the events (disk full...): refuse them, retryably."""
        log.error("journal write failed: %s", exc)
        with self._cond:
            self._backlog -= len(accepted)
        return Unavailable("journal_unavailable", f"the events could not be journaled: {exc}")

    def _enqueue(self, accepted: list[Accepted], record: bytes | None):
        with self._cond:
            if self._closing or self._committer is None:
                raise Unavailable("shutting_down", "the server is shutting down", retry_after=5)
            if self._backlog + len(accepted) > self.max_backlog:
                raise Unavailable(
                    "overloaded",
                    f"{self._backlog:,} events are waiting to be stored; try again shortly",
                )
            self._backlog += len(accepted)
        return self._committer.submit(record or encode(accepted), accepted)

    def _committed(self, last_lsn: int, items: list[object]) -> None:
        now = time.monotonic()
        first = last_lsn - len(items) + 1
        with self._cond:
            for i, item in enumerate(items):
                self._pending.append((first + i, item, now))  # type: ignore[arg-type]
                self.stats.accepted += len(item)  # type: ignore[arg-type]
            self._cond.notify_all()

    # --- storing -------------------------------------------------------------------------

    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending and self._closing:
                    return
            time.sleep(self.linger_seconds)  # let concurrent requests join this flush
            self._flush_once()

    def _flush_once(self) -> None:
        with self._cond:
            batch: list[tuple[int, list[Accepted], float]] = []
            size = 0
            while self._pending and (not batch or size < self.max_flush_events):
                item = self._pending.popleft()
                batch.append(item)
                size += len(item[1])
        if not batch:
            return
        events = [a for _, accepted, _ in batch for a in accepted]
        started = time.monotonic()
        try:
            stored = store_events(self.engine, events, lsn=batch[-1][0])
        except Exception as exc:  # the store failed: keep the batch and try again
            log.exception("storing %d events failed; will retry", len(events))
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            with self._cond:
                self._pending.extendleft(reversed(batch))
            time.sleep(1.0)
            return
        done = time.monotonic()
        with self._cond:
            self._backlog -= len(events)
            self.stats.stored += stored
            self.stats.duplicates += len(events) - stored
            self.stats.flushes += 1
            self.stats.last_flush_seconds = done - started
            self.stats.last_error = None
            self.stats.freshness.extend(done - t for _, _, t in batch)
        if self.stats.flushes % 50 == 0:
            self.journal.release(self.engine.journal_lsn)

    def _replay(self) -> None:
        """Store what the journal holds beyond the store's last recorded position."""
        chunk: list[Accepted] = []
        last = 0
        for record in self.journal.replay(self.engine.journal_lsn):
            chunk.extend(decode(record.payload))
            last = record.lsn
            if len(chunk) >= self.max_flush_events:
                self.stats.replayed += store_events(self.engine, chunk, lsn=last)
                chunk = []
        if chunk or last:
            self.stats.replayed += store_events(self.engine, chunk, lsn=last)
        if last:
            log.info("replayed the journal up to record %d", last)
        self.journal.release(self.engine.journal_lsn)


def encode(accepted: list[Accepted]) -> bytes:
    return orjson.dumps(
        [
            [
                a.index,
                a.row,
                a.person_set,
                a.person_set_once,
                [a.merge.kind, a.merge.keep, a.merge.other] if a.merge else None,
                [a.group.group_type, a.group.group_key, a.group.properties] if a.group else None,
            ]
            for a in accepted
        ]
    )


def decode(payload: bytes) -> list[Accepted]:
    """The accepted events of a journal record: a capture request, or encoded rows."""
    if payload[:1] != b"[":
        return accepted_from_record(payload)
    return [
        Accepted(
            index,
            row,
            person_set,
            person_set_once,
            Merge(*merge) if merge else None,
            GroupUpdate(*group) if group else None,
        )
        for index, row, person_set, person_set_once, merge, group in orjson.loads(payload)
    ]
