"""The export cap, with the limit lowered so a small store crosses it: the CSV stops at the
limit and says so in a header, and the page shows the notice beside the download link. The
app runs in-process here (the limit is a module constant); everything else is real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from sextant.api.app import create_app
from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.synth.config import SynthConfig
from sextant.web import routes

TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("export-limit")
    settings = load_settings(data_dir=data_dir, timezone="UTC")
    config = SynthConfig(
        users=300, events=3_000, start=TODAY - timedelta(days=30), end=TODAY - timedelta(days=1)
    )
    build_dataset(settings, config)
    with TestClient(create_app(settings)) as client:
        yield client


def test_csv_stops_at_the_limit_and_says_so_when_rows_exceed_it(client, monkeypatch):
    full = client.get("/export/sessions/trend.csv?range=last_7_days")
    assert full.status_code == 200 and "x-sextant-notice" not in full.headers
    assert full.text.count("\r\n") == 8  # header and 7 days
    monkeypatch.setattr(routes, "EXPORT_LIMIT", 3)
    cut = client.get("/export/sessions/trend.csv?range=last_7_days")
    assert cut.headers["x-sextant-notice"] == "Export limited to 3 rows"
    assert cut.text.splitlines() == full.text.splitlines()[:4]
    page = client.get("/sessions?range=last_7_days").text
    assert "Export limited to 3 rows" in page
