"""The journal: records survive reopen, a torn tail is cut, segments are released when stored."""

from __future__ import annotations

import threading

from sextant.ingest.journal import HEADER, GroupCommitter, Journal


def test_records_replay_in_order_when_journal_is_reopened(tmp_path):
    journal = Journal(tmp_path)
    assert journal.append([b"a", b"b"]) == 2
    assert journal.append([b"c"]) == 3
    journal.close()
    again = Journal(tmp_path)
    assert [(r.lsn, r.payload) for r in again.replay(0)] == [(1, b"a"), (2, b"b"), (3, b"c")]
    assert [r.payload for r in again.replay(2)] == [b"c"]
    assert again.append([b"d"]) == 4


def test_torn_tail_is_cut_when_crash_interrupted_a_write(tmp_path):
    journal = Journal(tmp_path)
    journal.append([b"kept-1", b"kept-2"])
    journal.close()
    segment = next(tmp_path.glob("*.journal"))
    with open(segment, "ab") as f:  # a header promising 100 bytes, then only 3 arrive
        f.write(HEADER.pack(3, 100, 0) + b"abc")
    size_with_tail = segment.stat().st_size
    again = Journal(tmp_path)
    assert again.last_lsn == 2
    assert segment.stat().st_size < size_with_tail
    assert again.append([b"next"]) == 3
    assert [r.payload for r in again.replay(0)] == [b"kept-1", b"kept-2", b"next"]


def test_corrupt_record_ends_replay_when_checksum_differs(tmp_path):
    journal = Journal(tmp_path)
    journal.append([b"good", b"flipped"])
    journal.close()
    segment = next(tmp_path.glob("*.journal"))
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF
    segment.write_bytes(bytes(data))
    assert [r.payload for r in Journal(tmp_path).replay(0)] == [b"good"]


def test_release_removes_only_segments_fully_stored(tmp_path):
    journal = Journal(tmp_path, segment_bytes=64)
    for i in range(6):
        journal.append([bytes(60) + str(i).encode()])  # each append fills a segment
    assert len(list(tmp_path.glob("*.journal"))) == 6
    assert journal.release(3) == 3
    assert [r.lsn for r in journal.replay(0)] == [4, 5, 6]
    assert journal.release(100) == 2  # the newest segment stays open for appends
    assert [r.lsn for r in journal.replay(0)] == [6]
    journal.close()
    assert Journal(tmp_path).last_lsn == 6


def test_group_commit_gives_every_writer_its_own_lsn_when_concurrent(tmp_path):
    journal = Journal(tmp_path)
    committed: list[tuple[int, int]] = []
    committer = GroupCommitter(journal, lambda last, items: committed.append((last, len(items))))
    futures = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(50):
            f = committer.submit(f"{n}-{i}".encode(), (n, i))
            with lock:
                futures.append(f)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lsns = sorted(f.result(timeout=10) for f in futures)
    committer.close()
    assert lsns == list(range(1, 401))
    assert sum(n for _, n in committed) == 400
    assert len(committed) < 400  # some rounds carried several records under one fsync
    assert [last for last, _ in committed] == sorted(last for last, _ in committed)
