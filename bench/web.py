"""The web dashboard in a real browser: time to full render (HTML, data and every chart drawn)
of each page, cold and warm, and the bytes its first load transfers, on a real `sextant serve`.

Targets (benchmark, not test), at 10M events: warm p95 under 1 s per page; first load under
3 s at 10 Mbit/s, estimated as bytes * 8 / 10e6 + the server time of the HTML.

The store is a copy of bench/metrics' cached one (`bench/.data/`) in a temporary data dir
(the server opens its store read-write), served with default settings (SEXTANT_* variables
are not passed on). Ranges are custom: the last 7, 30 and 90 days of the data, ending on its
last event day (UTC); the catalog page is loaded once (`--quick`: the 1M store, the 30-day
range only and 5 reloads, as a smoke run). Chromium (Debian's, driven by Playwright) loads
each view:
- cold: the view's first request to the server (its own results not cached; the DuckDB
  buffers, and queries pages share, such as a range's filter lists, may be warm from an
  earlier view: the overview, loaded first, pays for those) in a fresh browser context
  (empty HTTP cache): from `goto` to `body[data-rendered]`, the HTML's server time (request
  start to response end, as the browser timed it) and the encoded bytes (headers and
  bodies) of every response;
- warm: then `reload` in the same context, the server's result cache and the browser's
  cache warm: p50 and p95 (nearest rank: of 10, the slowest) of the time to
  `body[data-rendered]`, and the bytes a reload transferred (the HTML alone when the static
  files come from the cache, as their immutable headers ask).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, Request, Response, sync_playwright
from rich.console import Console
from rich.table import Table

from bench.metrics import SCALES, TARGET_SCALE, duckdb_store, last_day
from sextant.config import DATABASE_FILE
from sextant.store.engines.duckdb import DuckDBEngine

PAGES = ("/", "/sessions", "/funnels", "/retention", "/features")  # nav order, default options
CATALOG = "/metrics"
RANGE_DAYS = (7, 30, 90)
QUICK_RANGE_DAYS = (30,)
RELOADS = 10
QUICK_RELOADS = 5
BANDWIDTH_BITS = 10_000_000
TARGET_WARM_P95_S = 1.0
TARGET_FIRST_LOAD_S = 3.0
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SEXTANT = Path(sys.executable).parent / "sextant"
RENDERED = "body[data-rendered]"
TIMEOUT_MS = 120_000  # a cold 90-day view at 10M may take seconds; a hang should still end


@dataclass(frozen=True)
class View:
    path: str
    days: int | None  # None: the catalog page, which has no range
    query: str = ""

    @property
    def range(self) -> str:
        return f"{self.days} days" if self.days else "-"


@dataclass
class Measured:
    view: View
    cold_s: float
    html_server_s: float
    bytes: int
    charts: str
    warm_s: list[float] = field(default_factory=list)
    warm_bytes: list[int] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)  # the server log's, cold first

    @property
    def first_load_s(self) -> float:
        return self.bytes * 8 / BANDWIDTH_BITS + self.html_server_s

    def warm(self, q: float) -> float:
        ordered = sorted(self.warm_s)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def views(last: date, days: tuple[int, ...]) -> list[View]:
    ranged = [
        View(p, n, f"from={last - timedelta(days=n - 1)}&to={last}") for p in PAGES for n in days
    ]
    return [*ranged, View(CATALOG, None)]


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    last: date
    log: Path
    _offset: int = 0

    def requests(self) -> list[dict]:
        """The request lines the server logged since the last call."""
        with self.log.open("rb") as f:
            f.seek(self._offset)
            text = f.read()
        complete = text[: text.rfind(b"\n") + 1]
        self._offset += len(complete)
        lines = (json.loads(line) for line in complete.splitlines() if line.startswith(b"{"))
        return [e for e in lines if e.get("msg") == "request"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(store: Path, say: Callable[[str], None]) -> Iterator[Server]:
    """`sextant serve` on a copy of `store` in a temporary data dir; SIGTERM at the end."""
    data_dir = Path(tempfile.mkdtemp(prefix="sextant-bench-web-"))
    process = None
    try:
        started = time.perf_counter()
        copy = data_dir / DATABASE_FILE
        shutil.copyfile(store, copy)
        say(f"copied {store.name} to {data_dir} in {time.perf_counter() - started:.1f} s")
        duck = DuckDBEngine(copy, read_only=True)  # before the server locks the file
        last = last_day(duck)
        duck.close()
        port, log = free_port(), data_dir / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
        with log.open("w") as err:
            process = subprocess.Popen(
                [SEXTANT, "serve", "--data-dir", data_dir, "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
        server = Server(f"http://127.0.0.1:{port}", last, log)
        wait_ready(process, server)
        say(f"server ready at {server.url} in {time.perf_counter() - started:.1f} s")
        yield server
    finally:
        if process is not None:
            stop(process, say)
        shutil.rmtree(data_dir, ignore_errors=True)


def wait_ready(process: subprocess.Popen, server: Server, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}): {tail(server.log)}")
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server was not ready in {timeout:.0f} s: {tail(server.log)}")


def stop(process: subprocess.Popen, say: Callable[[str], None]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
        say("the server did not stop in 30 s after SIGTERM; killed")
    if code:
        say(f"the server exited with status {code}")


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- the browser -----------------------------------------------------------------------------


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        raise SystemExit(
            f"bench/web needs Chromium at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def until_rendered(page: Page, go: Callable[[], Response | None]) -> tuple[float, Response]:
    """Seconds from navigating (`go`, which returns at commit) to `body[data-rendered]`,
    and the document's response."""
    started = time.perf_counter()
    response = go()
    page.wait_for_selector(RENDERED, state="attached")
    seconds = time.perf_counter() - started
    if response is None or response.status != 200:
        raise RuntimeError(f"{page.url} answered {response and response.status}")
    return seconds, response


def encoded_bytes(requests: list[Request]) -> int:
    """Headers and (compressed) bodies as received. A response from the cache reports its
    body as minus its headers' size: 0 in all."""
    sizes = (r.sizes() for r in requests)
    return sum(max(s["responseBodySize"] + s["responseHeadersSize"], 0) for s in sizes)


def measure(browser: Browser, server: Server, view: View, reloads: int) -> Measured:
    """The view's cold load in a fresh context, then `reloads` warm ones in that context."""
    url = f"{server.url}{view.path}" + (f"?{view.query}" if view.query else "")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        finished: list[Request] = []
        page.on("requestfinished", lambda r: finished.append(r))
        server.requests()  # skip what came before
        cold, response = until_rendered(page, lambda: page.goto(url, wait_until="commit"))
        page.wait_for_load_state("networkidle")  # late requests count as bytes too
        timing = response.request.timing
        result = Measured(
            view,
            cold,
            (timing["responseEnd"] - timing["requestStart"]) / 1000,
            encoded_bytes(finished),
            page.get_attribute("body", "data-rendered") or "?",
        )
        result.server_ms.extend(server_ms(server, view))
        for _ in range(reloads):
            finished.clear()
            seconds, _ = until_rendered(page, lambda: page.reload(wait_until="commit"))
            result.warm_s.append(seconds)
            page.wait_for_load_state("load")
            result.warm_bytes.append(encoded_bytes(finished))
            result.server_ms.extend(server_ms(server, view))
        return result
    finally:
        context.close()


def server_ms(server: Server, view: View) -> list[float]:
    return [e["ms"] for e in server.requests() if e.get("path") == view.path]


# --- the report --------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "[green]met[/green]" if met else "[red]MISSED[/red]"


def report(
    console: Console, scale: str, events: int, reloads: int, results: list[Measured]
) -> None:
    table = Table(
        title=f"bench/web: {scale} ({events:,} events), Chromium, {os.cpu_count()} cores; warm "
        f"= {reloads} reloads; first load @10 Mbit/s = KB * 8 / 10 Mbit + HTML server s",
        title_justify="left",
    )
    columns = (
        "page", "range", "charts", "cold render s", "HTML server s (cold)", "first load KB",
        "first load @10 Mbit/s s", "warm p50 s", "warm p95 s", "warm KB", "server ms cold/warm",
        "first load", "warm p95",
    )  # fmt: skip
    for col in columns:
        table.add_column(col, justify="left" if col in ("page", "range") else "right")
    for i, r in enumerate(results):
        warm_server = statistics.median(r.server_ms[1:]) if len(r.server_ms) > 1 else float("nan")
        following = results[i + 1].view.path if i + 1 < len(results) else r.view.path
        table.add_row(
            r.view.path,
            r.view.range,
            r.charts,
            f"{r.cold_s:.3f}",
            f"{r.html_server_s:.3f}",
            f"{r.bytes / 1000:,.0f}",
            f"{r.first_load_s:.2f}",
            f"{r.warm(0.5):.3f}",
            f"{r.warm(0.95):.3f}",
            f"{statistics.median(r.warm_bytes) / 1000:,.1f}",
            f"{r.server_ms[0]:.0f}/{warm_server:.0f}" if r.server_ms else "-",
            verdict(r.first_load_s < TARGET_FIRST_LOAD_S),
            verdict(r.warm(0.95) < TARGET_WARM_P95_S),
            end_section=following != r.view.path,  # a rule between pages
        )
    console.print(table)
    console.print(
        "warm KB: median bytes a reload transferred (the HTML; static files from the cache); "
        "server ms: the server log's time for the HTML, cold / median of the reloads",
        highlight=False,
    )
    summarize(console, scale, results)


def summarize(console: Console, scale: str, results: list[Measured]) -> None:
    where = f"at {scale}" if scale == TARGET_SCALE else f"at {scale} (--quick: indicative only)"
    checks = (
        (f"warm p95 under {TARGET_WARM_P95_S:g} s per page", lambda r: r.warm(0.95),
         TARGET_WARM_P95_S),
        (f"first load under {TARGET_FIRST_LOAD_S:g} s at 10 Mbit/s", lambda r: r.first_load_s,
         TARGET_FIRST_LOAD_S),
    )  # fmt: skip
    for what, value, limit in checks:
        worst = max(results, key=value)
        met = sum(value(r) < limit for r in results)
        console.print(
            f"target {where}: {what}: {met} of {len(results)} views; worst {worst.view.path} "
            f"{worst.view.range} {value(worst):.3f} s: {verdict(met == len(results))}",
            highlight=False,
        )


def main(quick: bool = False) -> None:
    console = Console(width=170)

    def say(text: str) -> None:
        console.print(f"[dim]{text}[/dim]", highlight=False)

    scale = "1M" if quick else TARGET_SCALE
    days, reloads = (QUICK_RANGE_DAYS, QUICK_RELOADS) if quick else (RANGE_DAYS, RELOADS)
    store, build = duckdb_store(scale, dict(SCALES)[scale], say)
    results = []
    with chromium() as browser, served(store, say) as server:
        todo = views(server.last, days)
        say(f"{scale}: data ends on {server.last}; loading {len(todo)} views ...")
        for view in todo:
            results.append(measure(browser, server, view, reloads))
            say(f"{view.path} {view.range}: cold {results[-1].cold_s:.2f} s")
    report(console, scale, build.events, reloads, results)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
