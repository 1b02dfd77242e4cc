"""Sustained ingestion through `sextant serve`, durability on, loaded from a separate process.

Target (issue: ingestion): at least 50,000 events/s for PostHog batches of 100 on this
2-core machine. Cases: `/batch/` with 100 events, gzipped batches, one event per
`/capture/` request. Each case reports acknowledged events/s, requests/s, latency p50/p99,
and checks that the store ends up holding exactly what was acknowledged.

`python -m bench ingest [--quick]`; the load process is `python -m bench.ingest load ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

TARGET = 50_000  # events/s, batched
ROOT = Path(__file__).resolve().parents[1]
SEXTANT = str(Path(sys.executable).parent / "sextant")
REQUEST_MARK = b"RRRRRRRR"  # replaced in every request by its number, so every uuid differs


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    events: int  # per request
    connections: int
    gzip: bool = False


CASES = (
    Case("batch 100", "/batch/", 100, 8),
    Case("batch 100 gzip", "/batch/", 100, 8, gzip=True),
    Case("single event", "/capture/", 1, 32),
)


# --- the load process --------------------------------------------------------------------


def event(case_no: int, i: int, start: datetime) -> dict:
    """A posthog-python-like event: ~10 properties; its uuid carries the request mark."""
    return {
        "event": ("$pageview", "signed_up", "invoice_paid", "feature_used")[i % 4],
        "distinct_id": f"user-{i % 37}",
        "properties": {
            "$lib": "posthog-python",
            "$lib_version": "7.91.1",
            "$geoip_disable": True,
            "$current_url": f"https://app.example.com/projects/{i % 7}/settings",
            "$pathname": f"/projects/{i % 7}/settings",
            "$session_id": f"0190c0de-0000-7000-8000-{i // 10:012x}",
            "$groups": {"organization": f"org-{i % 5}"},
            "plan": ("free", "pro", "business")[i % 3],
            "amount": i * 1.25,
            "items": i % 4,
        },
        "timestamp": (start + timedelta(milliseconds=i)).isoformat(),
        "uuid": f"{REQUEST_MARK.decode()}-0000-4000-8000-{(case_no << 32) | i:012x}",
    }


def template(case: Case, case_no: int, key: str) -> bytes:
    start = datetime.now(UTC) - timedelta(minutes=1)
    sent_at = datetime.now(UTC).isoformat()
    if case.events == 1:
        body: dict = {"api_key": key, **event(case_no, 0, start), "sent_at": sent_at}
    else:
        batch = [event(case_no, i, start) for i in range(case.events)]
        body = {"api_key": key, "batch": batch, "sent_at": sent_at}
    return json.dumps(body, separators=(",", ":")).encode()


def request_bytes(host: str, path: str, body: bytes, gzipped: bool) -> bytes:
    extra = "Content-Encoding: gzip\r\n" if gzipped else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Counter:
    def __init__(self) -> None:
        self.next = 0

    def take(self) -> int:
        self.next += 1
        return self.next


async def connection(
    host: str,
    port: int,
    case: Case,
    body: bytes,
    numbers: Counter,
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> int:
    """Send requests back to back on one keep-alive connection until the deadline."""
    reader, writer = await asyncio.open_connection(host, port)
    acked = 0
    try:
        while time.perf_counter() < deadline:
            payload = body.replace(REQUEST_MARK, b"%08x" % numbers.take())
            if case.gzip:
                packer = zlib.compressobj(1, zlib.DEFLATED, 31)
                payload = packer.compress(payload) + packer.flush()
            began = time.perf_counter()
            writer.write(request_bytes(host, case.path, payload, case.gzip))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            answer = await reader.readexactly(length)
            latencies.append(time.perf_counter() - began)
            if status == 200:
                acked += case.events
            else:
                errors.append(f"{status} {answer[:200]!r}")
                if len(errors) > 100:
                    break
    finally:
        writer.close()
    return acked


async def load(url: str, key: str, case: Case, case_no: int, seconds: float) -> dict:
    host, port = url.removeprefix("http://").split(":")
    body = template(case, case_no, key)
    numbers, latencies, errors = Counter(), [], []
    started = time.perf_counter()
    deadline = started + seconds
    acked = await asyncio.gather(
        *(
            connection(host, int(port), case, body, numbers, deadline, latencies, errors)
            for _ in range(case.connections)
        )
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "acked": sum(acked),
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
        "errors": errors[:5],
        "error_count": len(errors),
    }


def load_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest load")
    parser.add_argument("url")
    parser.add_argument("key")
    parser.add_argument("case", type=int, help="index into CASES")
    parser.add_argument("seconds", type=float)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # plain asyncio is slower but measures the same thing
        pass
    result = asyncio.run(load(args.url, args.key, CASES[args.case], args.case, args.seconds))
    print(json.dumps(result))


# --- the server and the report -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readyz(url: str) -> dict:
    return httpx.get(url + "/readyz", timeout=30).json()


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 - the server process owns it
    process = subprocess.Popen(
        [SEXTANT, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {(data_dir / 'server.log').read_text()}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not become ready in 30 s")


def stored_events(url: str, data_dir: Path) -> int:
    token = json.loads((data_dir / "server.json").read_text())["token"]
    info = httpx.get(
        url + "/api/v1/info", headers={"Authorization": f"Bearer {token}"}, timeout=120
    ).json()
    return next(t["rows"] for t in info["tables"] if t["name"] == "events")


def wait_drained(url: str, timeout: float = 120) -> float:
    """Seconds until the server's backlog is empty."""
    started = time.monotonic()
    while readyz(url)["backlog"] and time.monotonic() - started < timeout:
        time.sleep(0.02)
    return time.monotonic() - started


def run_case(url: str, key: str, data_dir: Path, case_no: int, seconds: float) -> dict:
    before = stored_events(url, data_dir)
    answer = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "load", url, key, str(case_no), str(seconds)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    result = json.loads(answer.stdout)
    result["drain_seconds"] = wait_drained(url)
    result["stored"] = stored_events(url, data_dir) - before
    result["freshness_p95"] = readyz(url)["freshness_p95_seconds"]
    return result


def report(results: list[tuple[Case, dict]], seconds: float) -> None:
    table = Table(
        title=f"sextant serve ingestion: {seconds:g} s per case, fsync before every 200, "
        f"load from a separate process, {os.cpu_count()} cores",
        title_justify="left",
        caption=f"target: ≥ {TARGET:,} events/s (batched)",
        caption_justify="left",
    )
    for column in ("case", "conns", "events/s", "requests/s", "p50 ms", "p99 ms", "acked"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for column in ("stored", "errors", "target", "verdict"):
        table.add_column(column, justify="right")
    for case, r in results:
        rate = r["acked"] / r["seconds"]
        batched = case.events > 1 and not case.gzip
        verdict = ("met" if rate >= TARGET else "MISSED") if batched else "-"
        if r["stored"] != r["acked"]:
            verdict += ", stored != acked"
        table.add_row(
            case.name,
            str(case.connections),
            f"{rate:,.0f}",
            f"{r['requests'] / r['seconds']:,.0f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            f"{r['acked']:,}",
            f"{r['stored']:,}",
            str(r["error_count"]),
            f"≥ {TARGET:,}" if batched else "-",
            verdict,
        )
    console = Console(width=120)
    console.print(table)
    for case, r in results:
        if r["errors"]:
            console.print(f"{case.name}: first errors {r['errors']}", highlight=False)
        console.print(
            f"{case.name}: backlog drained {r['drain_seconds']:.2f} s after the load; "
            f"server accept->stored p95 {r['freshness_p95'] or 0:.3f} s",
            highlight=False,
        )


@contextmanager
def serving() -> Iterator[tuple[str, str, Path]]:
    """A fresh store with one source, served by `sextant serve`: (url, source key, data dir)."""
    with tempfile.TemporaryDirectory(prefix="sextant-bench-") as tmp:
        data_dir = Path(tmp)
        added = subprocess.run(
            [SEXTANT, "sources", "add", "bench", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        key = next(line for line in added.stdout.splitlines() if line.startswith("sx_"))
        process, url = start_server(data_dir)
        try:
            yield url, key, data_dir
        finally:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(quick: bool = False) -> None:
    seconds = 2.0 if quick else 10.0
    with serving() as (url, key, data_dir):
        results = [(case, run_case(url, key, data_dir, i, seconds)) for i, case in enumerate(CASES)]
    report(results, seconds)


if __name__ == "__main__":
    if sys.argv[1:2] == ["load"]:
        load_main(sys.argv[2:])
    else:
        main(quick="--quick" in sys.argv[1:])
