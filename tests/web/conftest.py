"""One real server for the dashboard tests: a generated store whose history ends yesterday (so
the presets hold data), served on 127.0.0.1 by `sextant serve`; and the raw events, read
before the server locks the file, for plain-Python checks of what the pages show."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from tests.conftest import LiveServer, add_source, start_server

TODAY = datetime.now(UTC).date()
DATA = SynthConfig(
    users=3_000, events=60_000, start=TODAY - timedelta(days=120), end=TODAY - timedelta(days=1)
)
ARTIFACTS = Path(os.environ.get("SEXTANT_TEST_ARTIFACTS", "test-artifacts"))


@dataclass
class Dashboard:
    server: LiveServer
    events: list  # each with id, event, person_id, tenant_id, timestamp, session_id, properties
    overrides: dict[int, int]

    @property
    def url(self) -> str:
        return self.server.url

    def who(self, person_id: int) -> int:
        return self.overrides.get(person_id, person_id)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kwargs)

    def api(self, route: str, body: dict) -> dict:
        response = httpx.post(
            f"{self.url}/api/v1/{route}",
            json=body,
            headers={"Authorization": f"Bearer {self.server.control_token}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory) -> Dashboard:
    data_dir = tmp_path_factory.mktemp("dashboard")
    build_dataset(load_settings(data_dir=data_dir), DATA)
    engine = DuckDBEngine(data_dir / "sextant.duckdb", read_only=True)
    events = [
        SimpleNamespace(**row)
        for row in engine.execute(
            "SELECT id, event, person_id, tenant_id, timestamp, session_id, properties FROM events"
        ).to_pylist()
    ]
    merged = engine.execute("SELECT old_person_id, person_id FROM person_overrides")
    overrides = {r["old_person_id"]: r["person_id"] for r in merged.to_pylist()}
    engine.close()
    server = start_server(data_dir, add_source(data_dir), {"SEXTANT_TIMEZONE": "UTC"})
    yield Dashboard(server, events, overrides)
    server.stop()
