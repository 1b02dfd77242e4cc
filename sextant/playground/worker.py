"""The playground's query process: one query on one snapshot, in a DuckDB that can read
nothing but that file and can change nothing, inside OS limits it sets on itself.

`python -m sextant.playground.worker` reads a JSON request on stdin ({"snapshot", "sql",
"max_rows", "memory_mb", "threads", "cpu_seconds"}) and writes the rows to stdout as an
Arrow IPC stream, or a JSON {"code", "message"} with a non-zero exit code. Imports are kept
to what that needs, for a fast start.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from typing import BinaryIO

import duckdb
import pyarrow as pa

EXIT_QUERY = 2
EXIT_MEMORY = 3
EXIT_REQUEST = 4
REQUEST_KEYS = ("snapshot", "sql", "max_rows", "memory_mb", "cpu_seconds")

# Address space beyond DuckDB's own memory limit: allocations it does not count, thread
# stacks and result buffers. The query stops cleanly at `memory_limit`; the OS limit is the
# backstop for what DuckDB does not track.
HEADROOM_MB = 256
BATCH_ROWS = 2048
TYPES_KEY = b"sextant.types"
TRUNCATED_KEY = b"sextant.truncated"


def settings(memory_mb: int, threads: int) -> dict[str, object]:
    """DuckDB settings given at connect time; `lock` then makes them final."""
    return {
        "memory_limit": f"{memory_mb}MB",
        "threads": threads,
        "enable_external_access": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "python_enable_replacements": False,  # else a table name could scan this process's objects
        "temp_directory": "",  # no spilling: the process may not write files
    }


def lock(con: duckdb.DuckDBPyConnection) -> None:
    # The time zone needs the icu extension, which is loaded only after connecting.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET lock_configuration = true")


def limit(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process: address space (what it maps now plus `memory_mb` and headroom), CPU
    time, file writes (none) and core dumps (none)."""
    if sys.platform == "linux":  # macOS does not enforce RLIMIT_AS; memory_limit still holds
        address_space = _mapped_bytes() + (memory_mb + HEADROOM_MB) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A write to a file then fails with an error instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def connect(request: dict) -> duckdb.DuckDBPyConnection:
    """The snapshot, opened read-only with every setting final, in a limited process."""
    memory_mb = int(request["memory_mb"])
    con = duckdb.connect(
        request["snapshot"],
        read_only=True,
        config=settings(memory_mb, int(request.get("threads", 1))),
    )
    lock(con)
    limit(memory_mb, int(request["cpu_seconds"]))
    return con


def run(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int) -> pa.Table:
    """The first `max_rows` rows of `sql`, with its DuckDB types and whether more rows
    existed in the schema metadata."""
    relation = con.sql(sql)
    if relation is None:
        raise duckdb.InvalidInputException("the statement returned no rows")
    reader = relation.to_arrow_reader(batch_size=BATCH_ROWS)
    batches, rows = [], 0
    for batch in reader:
        batches.append(batch)
        rows += batch.num_rows
        if rows > max_rows:
            break
    table = pa.Table.from_batches(batches, reader.schema).slice(0, max_rows)
    metadata = {
        TYPES_KEY: json.dumps([str(t) for t in relation.types]).encode(),
        TRUNCATED_KEY: b"true" if rows > max_rows else b"false",
    }
    return table.replace_schema_metadata(metadata)


def main() -> int:
    # Only the result goes to the real stdout; anything DuckDB prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        request = json.loads(sys.stdin.buffer.read())
    except ValueError as exc:
        return _fail(out, "playground_request", f"the request is not JSON: {exc}", EXIT_REQUEST)
    missing = [k for k in REQUEST_KEYS if not isinstance(request, dict) or k not in request]
    if missing:
        return _fail(out, "playground_request", f"the request lacks {missing}", EXIT_REQUEST)
    try:
        con = connect(request)
    except duckdb.Error as exc:
        return _fail(out, "playground_snapshot", str(exc), EXIT_REQUEST)
    try:
        table = run(con, request["sql"], int(request["max_rows"]))
        with pa.ipc.new_stream(out, table.schema) as writer:
            writer.write_table(table)
    except (duckdb.OutOfMemoryException, MemoryError) as exc:
        return _fail(out, "playground_memory", str(exc), EXIT_MEMORY)
    except duckdb.Error as exc:
        return _fail(out, "sql_error", str(exc), EXIT_QUERY)
    out.flush()
    return 0


def _fail(out: BinaryIO, code: str, message: str, exit_code: int) -> int:
    out.write(json.dumps({"code": code, "message": message}).encode())
    out.flush()
    return exit_code


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # /proc not mounted: assume a generous size for Python and DuckDB
        return 1024 * 1024 * 1024


if __name__ == "__main__":
    sys.exit(main())
