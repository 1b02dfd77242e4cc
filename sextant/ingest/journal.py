"""The durable journal: accepted events are on disk (fsync) before the client hears 2xx.

Records go into append-only segment files as `lsn | length | crc32 | payload`. Writers
from many requests are grouped into one write and one fsync (group commit). The store
records the last journal sequence number (lsn) it holds, in the same transaction as the
rows, so a restart replays exactly what the store lacks; a torn record at the tail (a
crash mid-write) is cut off on open, and it was never acknowledged.
"""

from __future__ import annotations

import os
import queue
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

HEADER = struct.Struct("<QII")  # lsn, payload length, crc32 of payload
SEGMENT_SUFFIX = ".journal"
MAX_RECORD_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Record:
    lsn: int
    payload: bytes


class Journal:
    """Append-only segments in `directory`; not thread-safe: `GroupCommitter` owns writes."""

    def __init__(self, directory: Path, *, segment_bytes: int = 64 * 1024 * 1024) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._segments = sorted(directory.glob(f"*{SEGMENT_SUFFIX}"))
        self.last_lsn = self._recover()
        self._file = None
        self._lock = threading.Lock()  # the committer appends while the flusher releases

    def append(self, payloads: list[bytes]) -> int:
        """Write records and fsync once; return the lsn of the last one."""
        with self._lock:
            return self._append(payloads)

    def _append(self, payloads: list[bytes]) -> int:
        f = self._writable()
        buf = bytearray()
        for payload in payloads:
            self.last_lsn += 1
            buf += HEADER.pack(self.last_lsn, len(payload), zlib.crc32(payload))
            buf += payload
        f.write(buf)
        f.flush()
        os.fsync(f.fileno())
        return self.last_lsn

    def replay(self, after: int) -> Iterator[Record]:
        """Records with lsn > `after`, oldest first."""
        for segment in self._segments:
            for record in _read(segment):
                if record.lsn > after:
                    yield record

    def release(self, upto: int) -> int:
        """Delete closed segments whose records all have lsn <= `upto`; return how many.

        A segment ends just before the next one starts, and its name is its first lsn.
        """
        with self._lock:
            return self._release(upto)

    def _release(self, upto: int) -> int:
        removed = 0
        for segment, following in zip(self._segments, self._segments[1:], strict=False):
            if _first_lsn(following) - 1 <= upto:
                segment.unlink()
                removed += 1
        self._segments = [s for s in self._segments if s.exists()]
        return removed

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None

    def _writable(self):
        if self._file is None or self._file.tell() >= self.segment_bytes:
            if self._file:
                self._file.close()
            path = self.directory / f"{self.last_lsn + 1:020d}{SEGMENT_SUFFIX}"
            self._file = open(path, "ab")  # noqa: SIM115 - kept open across appends
            self._segments.append(path)
            _fsync_dir(self.directory)
        return self._file

    def _recover(self) -> int:
        """Find the last whole record; cut a torn tail from the newest segment."""
        last = 0
        for segment in self._segments:
            good_end = 0
            for record, end in _read_with_offsets(segment):
                last, good_end = record.lsn, end
            if good_end < segment.stat().st_size:
                with open(segment, "r+b") as f:
                    f.truncate(good_end)
                    os.fsync(f.fileno())
        if not last and self._segments:
            last = _first_lsn(self._segments[-1]) - 1
        return last


class GroupCommitter:
    """One thread that writes every pending payload with a single fsync per round."""

    def __init__(self, journal: Journal, on_commit: Callable[[int, list[object]], None]) -> None:
        self.journal = journal
        self._on_commit = on_commit  # (last lsn, items) after fsync, in lsn order
        self._queue: queue.Queue[tuple[bytes, object, Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self._thread.start()

    def submit(self, payload: bytes, item: object) -> Future:
        """Queue one record; the future resolves with its lsn once it is on disk."""
        future: Future = Future()
        self._queue.put((payload, item, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while True:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[bytes, object, Future]]) -> None:
        try:
            last = self.journal.append([payload for payload, _, _ in batch])
        except OSError as exc:
            for _, _, future in batch:
                future.set_exception(exc)
            return
        first = last - len(batch) + 1
        self._on_commit(last, [item for _, item, _ in batch])
        for i, (_, _, future) in enumerate(batch):
            future.set_result(first + i)


def _read_with_offsets(segment: Path) -> Iterator[tuple[Record, int]]:
    with open(segment, "rb") as f:
        data = f.read()
    pos = 0
    while pos + HEADER.size <= len(data):
        lsn, length, crc = HEADER.unpack_from(data, pos)
        start, end = pos + HEADER.size, pos + HEADER.size + length
        if length > MAX_RECORD_BYTES or end > len(data):
            return
        payload = data[start:end]
        if zlib.crc32(payload) != crc:
            return
        yield Record(lsn, payload), end
        pos = end


def _read(segment: Path) -> Iterator[Record]:
    for record, _ in _read_with_offsets(segment):
        yield record


def _first_lsn(segment: Path) -> int:
    return int(segment.name.removesuffix(SEGMENT_SUFFIX))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
