"""Experiments on the real server: the list and readout routes, the readout checked against
plain Python on the raw events (first exposure, one variant, activation within 7 days), the
page showing the API's verdict, its CSV equal to the API, and refusals."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import datetime, timedelta

import httpx
import pytest

from tests.web.conftest import Dashboard

FLAG = "onboarding-checklist"


def get(dashboard: Dashboard, path: str, **params) -> httpx.Response:
    return httpx.get(
        dashboard.url + path,
        params=params,
        headers={"Authorization": f"Bearer {dashboard.server.control_token}"},
        timeout=60,
    )


def test_list_shows_the_exposed_and_defined_experiment(dashboard):
    listed = get(dashboard, "/api/v1/experiments").json()
    found = next(e for e in listed if e["key"] == FLAG)
    assert found["defined"] and found["metrics"][0] == "activation"
    assert [v["key"] for v in found["variants"]] == ["control", "test"]
    assert all(v["persons"] > 0 for v in found["variants"])
    wrong = {"Authorization": "Bearer wrong"}
    assert httpx.get(dashboard.url + "/api/v1/experiments", headers=wrong).status_code == 401


def activation_by_variant(dashboard: Dashboard, first: str, last: str) -> dict[str, tuple]:
    """Persons and activations per variant, in plain Python from the raw events (UTC)."""
    start = datetime.fromisoformat(first + "T00:00:00+00:00")
    end = datetime.fromisoformat(last + "T00:00:00+00:00") + timedelta(days=1)
    seen = defaultdict(list)
    for e in dashboard.events:
        if e.event == "$feature_flag_called" and start <= e.timestamp < end:
            props = json.loads(e.properties or "{}")
            if props.get("$feature_flag") == FLAG:
                seen[dashboard.who(e.person_id)].append(
                    (e.timestamp, props["$feature_flag_response"])
                )
    created = defaultdict(list)
    for e in dashboard.events:
        if e.event == "page_created":
            created[dashboard.who(e.person_id)].append(e.timestamp)
    out = defaultdict(lambda: [0, 0])
    for person, exposures in seen.items():
        if len({v for _, v in exposures}) > 1:
            continue
        at = min(t for t, _ in exposures)
        out[exposures[0][1]][0] += 1
        out[exposures[0][1]][1] += any(
            at <= t < min(at + timedelta(days=7), end) for t in created[person]
        )
    return {k: tuple(v) for k, v in out.items()}


def test_readout_equals_plain_python_on_the_raw_events(dashboard):
    readout = get(dashboard, f"/api/v1/experiments/{FLAG}/readout").json()
    first, last = readout["query"]["from"], readout["query"]["to"]
    want = activation_by_variant(dashboard, first, last)
    activation = readout["result"]["metrics"][0]
    assert activation["name"] == "activation"
    got = {
        v["key"]: (v["persons"], round(v["value"] * v["persons"])) for v in activation["variants"]
    }
    assert got == want
    assert readout["result"]["verdict"]["text"]


def test_readout_route_is_the_experiment_analysis(dashboard):
    via_route = get(dashboard, f"/api/v1/experiments/{FLAG}/readout", correction="bh").json()
    body = via_route["query"]
    direct = httpx.post(
        f"{dashboard.url}/api/v1/analyses/experiment",
        json={k: body[k] for k in ("from", "to", "experiment", "correction")},
        headers={"Authorization": f"Bearer {dashboard.server.control_token}"},
        timeout=60,
    ).json()
    assert direct["result"] == via_route["result"]


def test_unknown_experiment_is_a_404_naming_the_known_ones(dashboard):
    response = get(dashboard, "/api/v1/experiments/nope/readout")
    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["code"] == "experiment_not_found" and FLAG in error["message"]
    page = dashboard.get("/experiments?experiment=nope")
    assert page.status_code == 200 and "no experiment &#39;nope&#39;" in page.text


def test_page_shows_the_api_verdict_and_its_csv_equals_the_api(dashboard):
    readout = get(dashboard, f"/api/v1/experiments/{FLAG}/readout").json()["result"]
    only = dashboard.get("/experiments").text  # the one experiment opens directly
    assert f'<option value="{FLAG}" selected>' in only
    html = dashboard.get(f"/experiments?experiment={FLAG}").text
    verdict = readout["verdict"]["text"].replace("'", "&#39;")
    assert verdict in html
    rows = list(
        csv.DictReader(
            io.StringIO(dashboard.get(f"/export/experiments/lifts.csv?experiment={FLAG}").text)
        )
    )
    want = [(m["label"], v) for m in readout["metrics"] for v in m["variants"][1:]]
    assert len(rows) == len(want)
    for row, (label, v) in zip(rows, want, strict=True):
        assert row["metric"] == label and row["variant"] == v["key"]
        if v["lift"] is None:
            assert row["lift"] == ""
        else:
            assert float(row["lift"]) == pytest.approx(v["lift"], rel=1e-12)


def test_power_calculator_sizes_for_the_effect_chosen_on_the_page(dashboard):
    def needed(effect: str) -> int:
        text = dashboard.get(
            f"/export/experiments/power.csv?experiment={FLAG}&effect={effect}"
        ).text
        return int(next(csv.DictReader(io.StringIO(text)))["needed_per_variant"])

    assert needed("5") > needed("10") > 0
    refused = dashboard.get(f"/experiments?experiment={FLAG}&effect=lots")
    assert refused.status_code == 400 and "effect" in refused.text
    assert 'id="p-effect"' in refused.text  # the control stays there to fix it
