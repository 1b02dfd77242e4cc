"""Per-user copies of the store for the playground: a DuckDB file per scope (tenants, PII
seen or not) holding only the rows that scope may read, already masked.

The query process can read its whole file, even as raw bytes, so a snapshot must never
hold anything its user may not see. Rows go through Arrow in batches (`engine.reading`), so
this works for every engine, never needs the server's locked store file, holds a batch in
memory rather than a table, and (on DuckDB) copies every table as of one moment.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from sextant.playground import masking
from sextant.playground.tables import ALLOWED_TABLES, TENANT_COLUMN, scoped
from sextant.store.engine import Engine, Read
from sextant.store.engines.duckdb import DUCKDB_TYPES
from sextant.store.schema import ARROW_TYPES, TABLES, Column

SUFFIX = ".duckdb"
# A snapshot replaced by a newer build for its scope goes once no query can still be about
# to open it; an open file keeps being readable after it is unlinked.
SUPERSEDED_GRACE_SECONDS = 120


@dataclass(frozen=True)
class Snapshot:
    path: Path
    built_at: datetime  # when its rows were read from the store (UTC): "data as of"
    data_version: int  # the store's data version it was built from
    current: bool  # False: the store changed since, and this build is reused for a while

    @property
    def age_seconds(self) -> float:
        return (datetime.now(UTC) - self.built_at).total_seconds()


class Snapshots:
    """Builds, reuses and prunes snapshots under `folder`. With the store changed, a scope's
    newest snapshot is reused until it is `refresh_seconds` old; snapshots unused for
    `keep_seconds` are deleted."""

    def __init__(
        self,
        folder: Path,
        engine: Engine,
        *,
        refresh_seconds: float = 60,
        keep_seconds: float = 3600,
        key: bytes | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.engine = engine
        # Keys the email pseudonyms of masked snapshots: the install's secret keeps them
        # the same across restarts; without one they hold for this object's life.
        self.key = key if key is not None else secrets.token_bytes(32)
        self.refresh_seconds = refresh_seconds
        self.keep_seconds = keep_seconds
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def path(self, tenants: tuple[str, ...] | list[str] | None, sees_pii: bool) -> Snapshot:
        """The snapshot for a user limited to `tenants` (None: all) who does or does not see
        PII: reused when it holds the current data or is younger than `refresh_seconds`,
        built otherwise."""
        tenants = None if tenants is None else tuple(sorted(set(tenants)))
        scope = scope_key(tenants, sees_pii)
        with self._lock(scope):
            version = self.engine.data_version
            wanted = self.folder / f"{scope}.{version}{SUFFIX}"
            if wanted.exists():
                snapshot = _read(wanted, current=True)
            elif (newest := self._newest(scope)) and newest.age_seconds < self.refresh_seconds:
                snapshot = newest
            else:
                snapshot = self._build(wanted, version, tenants, sees_pii)
            _touch(snapshot)
        self.prune()
        return snapshot

    def prune(self) -> list[Path]:
        """Delete snapshots unused for `keep_seconds`, superseded ones after a short grace,
        and builds left half-done; return what was deleted."""
        deleted = []
        for scope in {p.name.split(".")[0] for p in self.folder.glob(f"*{SUFFIX}")}:
            lock = self._lock(scope)
            if lock.acquire(blocking=False):  # a scope being built is pruned next time
                try:
                    deleted += self._prune_scope(scope)
                finally:
                    lock.release()
        for path in self.folder.glob(".*.tmp*"):
            if time.time() - _mtime(path) > self.keep_seconds:
                deleted += _delete(path)
        return deleted

    def _prune_scope(self, scope: str) -> list[Path]:
        now = time.time()
        files = sorted(self.folder.glob(f"{scope}.*{SUFFIX}"), key=_mtime)
        deleted = []
        for path in files:
            idle = now - _last_used(path)
            if idle > self.keep_seconds or (path != files[-1] and idle > SUPERSEDED_GRACE_SECONDS):
                deleted += _delete(path)
        return deleted

    def _lock(self, scope: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(scope, threading.Lock())

    def _newest(self, scope: str) -> Snapshot | None:
        paths = sorted(self.folder.glob(f"{scope}.*{SUFFIX}"), key=_mtime)
        return _read(paths[-1], current=False) if paths else None

    def _build(
        self, path: Path, version: int, tenants: tuple[str, ...] | None, sees_pii: bool
    ) -> Snapshot:
        started = time.time()
        temp = self.folder / f".{path.name}.{uuid.uuid4().hex}.tmp"
        try:
            con = duckdb.connect(str(temp))
            try:
                stored = self.engine.schema_version()
                with self.engine.reading() as read:  # every table as of one moment
                    for name in ALLOWED_TABLES:
                        if TABLES[name].since <= stored:
                            _copy(con, read, name, stored, tenants, sees_pii, self.key)
            finally:
                con.close()
            os.chmod(temp, 0o600)
            # The file's time is when the rows were read: what "data as of" shows.
            os.utime(temp, (started, started))
            os.replace(temp, path)
        finally:
            for leftover in (temp, temp.with_name(temp.name + ".wal")):
                leftover.unlink(missing_ok=True)
        return Snapshot(path, datetime.fromtimestamp(started, UTC), version, current=True)


def scope_key(tenants: tuple[str, ...] | None, sees_pii: bool) -> str:
    """The file-name stem shared by every snapshot of one scope.

    >>> scope_key(("a", "b"), False) == scope_key(("a", "b"), False) != scope_key(None, False)
    True
    """
    text = json.dumps([None if tenants is None else list(tenants), bool(sees_pii)])
    return "pg" + hashlib.sha256(text.encode()).hexdigest()[:24]


def select_rows(name: str, version: int, tenants: tuple[str, ...] | None) -> exp.Select:
    """The store query for the rows of table `name` a scope may read.

    >>> print(select_rows("refunds", 2, ("t1",)).sql("duckdb").split(" FROM ")[1])
    refunds WHERE tenant_id IN ('t1')
    """
    columns = TABLES[name].columns_at(version)
    query = exp.select(*(exp.column(c.name, quoted=True) for c in columns)).from_(name)
    if tenants is not None and scoped(name):
        values = [exp.Literal.string(t) for t in tenants] or [exp.Null()]
        query = query.where(exp.In(this=exp.column(TENANT_COLUMN), expressions=values))
    return query


def _copy(
    con: duckdb.DuckDBPyConnection,
    read: Read,
    name: str,
    version: int,
    tenants: tuple[str, ...] | None,
    sees_pii: bool,
    key: bytes,
) -> None:
    """Stream the scope's rows of table `name` into the snapshot, a batch at a time (masked
    first unless the scope sees PII): memory holds a batch, not the table."""
    spec = TABLES[name]
    columns = spec.columns_at(version)
    schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in columns])

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in read(select_rows(name, version, tenants)):
            rows = pa.Table.from_batches([batch]).cast(schema)
            yield from (rows if sees_pii else masking.mask(spec, rows, key)).to_batches()

    data = pa.RecordBatchReader.from_batches(schema, batches())
    con.execute(f"CREATE TABLE {_q(name)} ({', '.join(_ddl(c) for c in columns)})")
    con.register("__rows", data)
    try:
        con.execute(f"INSERT INTO {_q(name)} SELECT * FROM __rows")
    finally:
        con.unregister("__rows")


def _ddl(column: Column) -> str:
    return f"{_q(column.name)} {DUCKDB_TYPES[column.type]}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read(path: Path, current: bool) -> Snapshot:
    version = int(path.name.split(".")[1])
    return Snapshot(path, datetime.fromtimestamp(_mtime(path), UTC), version, current)


def _touch(snapshot: Snapshot) -> None:
    # A file's access time says when a snapshot was last handed out (seen by every server
    # process sharing the folder); its modification time stays the build time.
    with contextlib.suppress(FileNotFoundError):
        built = snapshot.path.stat().st_mtime_ns
        os.utime(snapshot.path, ns=(time.time_ns(), built))


def _last_used(path: Path) -> float:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return 0.0
    return max(stat.st_atime, stat.st_mtime)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _delete(path: Path) -> list[Path]:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        return [path]
    return []
