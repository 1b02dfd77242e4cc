"""Shared fixtures: a real `sextant serve` process on 127.0.0.1 with its own store; golden
files (`tests/golden/`, rewritten by `pytest --update-golden`)."""

from __future__ import annotations

import difflib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

SEXTANT = str(Path(sys.executable).parent / "sextant")
GOLDEN_DIR = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the files under tests/golden/ from the current output (read the diff)",
    )


@dataclass(frozen=True)
class Golden:
    """Compares output with a file under `root`; with `update`, rewrites the file instead."""

    root: Path
    update: bool

    def check(self, relative: str, text: str) -> None:
        path = self.root / relative
        if self.update:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"no golden file {relative}; run pytest --update-golden", pytrace=False)
        expected = path.read_text(encoding="utf-8")
        if text != expected:
            diff = difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"tests/golden/{relative}",
                tofile="current output",
            )
            pytest.fail(
                f"output differs from tests/golden/{relative} (pytest --update-golden rewrites "
                f"it; read the diff first):\n{''.join(diff)}",
                pytrace=False,
            )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """`golden.check("<metric>/<case>.<dialect>.sql", text)`: fails with a unified diff when
    `text` differs from the stored file, or rewrites it under --update-golden."""
    return Golden(GOLDEN_DIR, request.config.getoption("--update-golden"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_source(data_dir: Path, name: str = "test") -> str:
    result = subprocess.run(
        [SEXTANT, "sources", "add", name, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return next(line for line in result.stdout.splitlines() if line.startswith("sx_"))


@dataclass
class LiveServer:
    url: str
    key: str
    data_dir: Path
    process: subprocess.Popen
    log: Path

    @property
    def control_token(self) -> str:
        return json.loads((self.data_dir / "server.json").read_text())["token"]

    def info(self) -> dict:
        response = httpx.get(
            self.url + "/api/v1/info",
            headers={"Authorization": f"Bearer {self.control_token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def rows(self, table: str = "events") -> int:
        return next(t["rows"] for t in self.info()["tables"] if t["name"] == table)

    def wait_rows(self, n: int, table: str = "events", timeout: float = 10) -> int:
        deadline = time.monotonic() + timeout
        while (rows := self.rows(table)) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return rows

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def start_server(data_dir: Path, key: str, env: dict | None = None) -> LiveServer:
    port = free_port()
    log = data_dir / f"server-{port}.log"
    process = subprocess.Popen(
        [SEXTANT, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),  # noqa: SIM115 - the process owns it
        env={**os.environ, **(env or {})},
    )
    server = LiveServer(f"http://127.0.0.1:{port}", key, data_dir, process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(server.url + "/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not become ready: {log.read_text()}")


@pytest.fixture
def live_server(tmp_path):
    """A fresh store with one source, served on a free port; stopped after the test."""
    key = add_source(tmp_path)
    server = start_server(tmp_path, key)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for a module's read-mostly tests."""
    data_dir = tmp_path_factory.mktemp("served")
    key = add_source(data_dir)
    server = start_server(data_dir, key)
    yield server
    server.stop()


@pytest.fixture
def server_factory(tmp_path):
    """Start servers with extra environment (settings); all are stopped after the test."""
    started: list[LiveServer] = []

    def start(env: dict | None = None, name: str = "served") -> LiveServer:
        data_dir = tmp_path / f"{name}-{len(started)}"
        data_dir.mkdir()
        server = start_server(data_dir, add_source(data_dir), env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def readyz(server: LiveServer) -> dict:
    """The server's /readyz body (backlog, accepted, stored, freshness), even when 503."""
    return httpx.get(server.url + "/readyz", timeout=10).json()


def wait_drained(server: LiveServer, timeout: float = 10) -> dict:
    """Wait until every accepted event is stored (backlog 0); return the last /readyz body."""
    deadline = time.monotonic() + timeout
    while (body := readyz(server))["backlog"] and time.monotonic() < deadline:
        time.sleep(0.02)
    return body


class _Recorder(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.requests.append((self.path, dict(self.headers), body))
        reply = b'{"status": 1, "success": true}'  # what PostHog and Segment clients expect
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def wire_recorder():
    """(url, requests): an HTTP server on 127.0.0.1 that records what SDK clients send."""
    seen: list = []
    handler = type("Recorder", (_Recorder,), {"requests": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def store_holder():
    """Hold a store file open in another process, as a running server would."""
    holders: list[subprocess.Popen] = []

    def hold(path: Path) -> None:
        code = f"""
            import sys
            from sextant.store.engines.duckdb import DuckDBEngine
            e = DuckDBEngine({str(path)!r})
            print("ready", flush=True)
            sys.stdin.read()
            """
        holder = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout.readline().strip() == "ready"

    yield hold
    for holder in holders:
        holder.communicate("")
