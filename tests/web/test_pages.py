"""The dashboard over HTTP on a real server: every page and its headers, local assets with
long-lived caching, numbers checked against plain Python and against the JSON API, each
range message, filters in links, hostile names escaped on the page and neutralised in CSV,
and the catalog pages."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import plotly
import plotly.graph_objects as go
import pytest

from sextant.web.pages.overview import CARDS
from tests.analyses.reference_sessions import expected as expected_sessions
from tests.conftest import SEXTANT, wait_drained
from tests.web.conftest import TODAY

PAGES = ["/", "/sessions", "/funnels", "/retention", "/features", "/metrics", "/metrics/dau"]
WEEK = {"from": str(TODAY - timedelta(days=7)), "to": str(TODAY - timedelta(days=1))}


def kpis(html: str) -> dict[str, str]:
    """Headline values by KPI id, as the page states them in `data-value`."""
    found = re.findall(r'id="kpi-(\w+)".*?data-value="([^"]*)"', html, flags=re.S)
    return dict(found)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def same(cell: str, value) -> bool:
    """A CSV cell against an API value: numbers to 1e-9, None as empty."""
    if value is None:
        return cell == ""
    if isinstance(value, bool):
        return cell == str(value).lower()
    if isinstance(value, int | float):
        return abs(float(cell) - value) <= 1e-9 * max(1.0, abs(value))
    return cell == str(value)


def assert_csv_equals(text: str, api_rows: list[dict], keys: list[str]) -> None:
    got = rows_of(text)
    assert len(got) == len(api_rows)
    for row, want in zip(got, api_rows, strict=True):
        for key in keys:
            assert same(row[key], want[key]), (key, row[key], want[key])


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_html_with_security_headers_when_loaded(dashboard, path):
    response = dashboard.get(path)
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-encoding"] == "gzip"
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert '<html lang="en">' in html and 'href="#main"' in html
    # Nothing is fetched from elsewhere: every src and href stays on this server.
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert not re.match(r"^(https?:)?//", url), url


def test_plotly_is_served_compressed_and_cached_for_a_year_when_asked(dashboard):
    html = dashboard.get("/sessions").text
    src = re.search(r'<script src="(/static/plotly\.[0-9a-f]+\.min\.js)"', html).group(1)
    response = httpx.get(dashboard.url + src, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    shipped = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert response.content == shipped  # httpx decoded the gzip body
    assert int(response.headers["content-length"]) < len(shipped) / 3
    again = httpx.get(dashboard.url + src, headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    stale = httpx.get(dashboard.url + "/static/plotly.0000000000000000.min.js")
    assert stale.status_code == 404 and stale.json()["errors"][0]["code"] == "asset_not_found"
    css = re.search(r'href="(/static/app\.[0-9a-f]+\.css)"', html).group(1)
    assert httpx.get(dashboard.url + css).headers["content-type"].startswith("text/css")


def test_sessions_page_equals_plain_python_sessions_when_last_7_days(dashboard):
    data = SimpleNamespace(events=dashboard.events, who=dashboard.who)
    want = expected_sessions(data, {**WEEK, "timezone": "UTC"})[()]
    shown = kpis(dashboard.get("/sessions?range=last_7_days").text)
    assert int(shown["sessions"]) == want["sessions"]
    assert float(shown["session_duration_avg"]) == pytest.approx(want["avg"], rel=1e-9)
    assert float(shown["session_duration_p50"]) == pytest.approx(want["p50"], rel=1e-9)
    assert float(shown["session_duration_p95"]) == pytest.approx(want["p95"], rel=1e-9)
    assert float(shown["bounce_rate"]) == pytest.approx(want["bounced"] / want["sessions"])


def test_overview_numbers_follow_their_stated_rules_over_the_api_series(dashboard):
    both = {"from": str(TODAY - timedelta(days=14)), "to": WEEK["to"], "grain": "day"}
    results = dashboard.api("query", {"metrics": list(CARDS), **both, "timezone": "UTC"})
    series = {
        r["metric"]: [row["value"] for row in r["rows"] if row["bucket"] >= WEEK["from"]]
        for r in results["results"]
    }
    assert all(len(values) == 7 for values in series.values())
    activated = sum(
        rate * n for rate, n in zip(series["activation_rate"], series["signups"], strict=True)
    )
    want = {
        "north_star": series["north_star"][-1],
        "dau": sum(series["dau"]) / 7,
        "wau": series["wau"][-1],
        "mau": series["mau"][-1],
        "stickiness": sum(series["stickiness"]) / 7,
        "signups": sum(series["signups"]),
        "activation_rate": activated / sum(series["signups"]),
        "sessions": sum(series["sessions"]),
    }
    shown = kpis(dashboard.get("/?range=last_7_days").text)
    assert set(shown) == set(CARDS)
    for name, value in want.items():
        assert float(shown[name]) == pytest.approx(value, rel=1e-9), name


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2024-05-10&to=2024-05-01", "from", "Invalid date range"),
        (
            f"from={TODAY - timedelta(days=3)}&to={TODAY + timedelta(days=2)}",
            "to",
            "Cannot select future dates",
        ),
        ("from=banana&to=2024-05-01", "from", "Invalid date range"),
        ("range=custom&to=2024-05-01", "from", "Invalid date range"),
        ("tz=Mars/Olympus", "tz", "Unknown time zone"),
    ],
)
def test_bad_range_answers_400_with_the_message_beside_its_control(
    dashboard, query, field, message
):
    for path in ("/", "/sessions", "/funnels"):
        response = dashboard.get(f"{path}?{query}")
        assert response.status_code == 400
        html = response.text
        assert message in html
        assert 'role="alert"' in html
        if field in ("from", "to"):
            assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html, flags=re.S)
        assert 'class="panel ' not in html and 'class="kpi"' not in html  # nothing computed
    export = dashboard.get(f"/export/sessions/trend.csv?{query}")
    assert export.status_code == 400
    assert message in export.json()["errors"][0]["message"]


def test_range_without_data_says_no_sessions_in_range(dashboard):
    old = {"from": str(TODAY - timedelta(days=400)), "to": str(TODAY - timedelta(days=390))}
    for path in ("/", "/sessions", "/funnels", "/retention", "/features"):
        response = dashboard.get(path, params=old)
        assert response.status_code == 200
        assert "No " in response.text and "in range" in response.text
    assert "No sessions in range" in dashboard.get("/sessions", params=old).text
    assert "No sessions in range" in dashboard.get("/", params=old).text


def test_presets_and_custom_ranges_change_the_numbers(dashboard):
    week = kpis(dashboard.get("/sessions?range=last_7_days").text)["sessions"]
    month = kpis(dashboard.get("/sessions?range=last_30_days").text)["sessions"]
    custom = kpis(dashboard.get("/sessions", params=WEEK).text)["sessions"]
    assert int(month) > int(week) > 0
    assert custom == week  # the same dates, given as a custom range


def test_filters_narrow_the_numbers_and_stay_in_every_link(dashboard):
    everyone = kpis(dashboard.get("/sessions").text)["sessions"]
    html = dashboard.get("/sessions?plan=free&country=US").text
    filtered = kpis(html)["sessions"]
    assert 0 < int(filtered) < int(everyone)
    links = re.findall(r'href="(/[^"]*)"', html)
    for link in [x for x in links if x.startswith(("/sessions?", "/funnels?", "/export/"))]:
        assert "plan=free" in link and "country=US" in link, link
    api = dashboard.api(
        "analyses/sessions",
        {
            **dict(zip(("from", "to"), WEEK.values(), strict=True)),
            "where": ["country = 'US'", "plan = 'free'"],
        },
    )
    assert api["result"]["slices"][0]["sessions"] == int(filtered)


def test_chart_csv_equals_the_api_result_for_the_same_view(dashboard):
    api = dashboard.api("analyses/sessions", {**WEEK})
    trend = dashboard.get("/export/sessions/trend.csv", params=WEEK)
    assert trend.headers["content-type"].startswith("text/csv")
    assert 'filename="sextant-sessions-trend-' in trend.headers["content-disposition"]
    series = api["result"]["slices"][0]["series"]
    assert_csv_equals(
        trend.text, series, ["bucket", "sessions", "avg", "p50", "p95", "bounce_rate"]
    )
    durations = dashboard.get("/export/sessions/durations.csv", params=WEEK).text
    assert_csv_equals(
        durations, api["result"]["slices"][0]["durations"], ["bin", "sessions", "share"]
    )

    funnel = dashboard.api("analyses/funnel", {**WEEK, "saved": "activation"})
    got = rows_of(dashboard.get("/export/funnels/conversion.csv", params=WEEK).text)
    steps = funnel["result"]["total"]["steps"]
    assert [int(r["persons"]) for r in got] == [s["persons"] for s in steps]
    assert all(same(r["conversion"], s["conversion"]) for r, s in zip(got, steps, strict=True))

    adoption = dashboard.api("analyses/adoption", {**WEEK})
    top = dashboard.get("/export/features/top.csv", params=WEEK).text
    features = adoption["result"]["slices"][0]["features"]
    assert_csv_equals(top, features, ["rank", "feature", "users", "rate"])

    month = {"from": str(TODAY - timedelta(days=60)), "to": WEEK["to"]}
    retention = dashboard.api("analyses/retention", {**month, "period": "week", "periods": 8})
    cells = [
        {"cohort": c["cohort"], "size": c["size"], **cell}
        for c in retention["result"]["slices"][0]["cohorts"]
        for cell in c["cells"]
    ]
    cohorts = dashboard.get("/export/retention/cohorts.csv", params=month).text
    assert_csv_equals(cohorts, cells, ["cohort", "size", "period", "persons", "rate", "incomplete"])


def test_csv_of_an_unknown_chart_or_page_is_a_json_404(dashboard):
    chart = dashboard.get("/export/sessions/nope.csv")
    assert chart.status_code == 404 and chart.json()["errors"][0]["code"] == "chart_not_found"
    page = dashboard.get("/export/nope/trend.csv")
    assert page.status_code == 404 and page.json()["errors"][0]["code"] == "page_not_found"


def test_funnel_builder_and_breakdown_when_chosen_on_the_page(dashboard):
    query = "funnel=custom&step=signed_up&step=page_created&window=7&by=plan&range=last_30_days"
    html = dashboard.get(f"/funnels?{query}").text
    assert "Conversion by step: your funnel" in html
    got = rows_of(dashboard.get(f"/export/funnels/conversion.csv?{query}").text)
    api = dashboard.api(
        "analyses/funnel",
        {
            "range": "last_30_days",
            "steps": ["signed_up", "page_created"],
            "breakdown": ["plan"],
            "window": {"value": 7, "unit": "day"},
        },
    )["result"]
    assert [int(r["persons"]) for r in got[:2]] == [s["persons"] for s in api["total"]["steps"]]
    plans = Counter(r["plan"] for r in got[2:])
    assert set(plans) == {b["plan"] for b in api["breakdown"]} and set(plans.values()) == {2}
    # A funnel with one step, or a saved name that does not exist, is answered on the page.
    one = dashboard.get("/funnels?funnel=custom&step=signed_up")
    assert one.status_code == 400 and "a funnel needs at least 2 steps" in one.text
    assert 'id="p-step-2"' in one.text  # the builder stays on the page to fix it
    missing = dashboard.get("/funnels?funnel=nope")
    assert missing.status_code == 400 and "nope" in missing.text


def test_hostile_names_are_escaped_on_the_page_and_neutralised_in_csv(dashboard):
    now = datetime.now(UTC)
    names = ['=HYPERLINK("http://evil.example")', "<script>alert(1)</script>"]
    events = [
        {
            "event": name,
            "distinct_id": f"hostile-{i}",
            "id": f"hostile-{i}",
            "timestamp": (now - timedelta(minutes=5)).isoformat(),
        }
        for i, name in enumerate(names)
    ]
    response = httpx.post(
        dashboard.url + "/api/v1/events",
        json={"events": events},
        headers={"authorization": f"Bearer {dashboard.server.key}"},
    )
    assert response.json()["accepted"] == 2
    wait_drained(dashboard.server)
    today = {"from": str(TODAY), "to": str(TODAY)}
    html = dashboard.get("/sessions", params=today).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    exits = rows_of(dashboard.get("/export/sessions/exits.csv", params=today).text)
    cells = {r["event"] for r in exits}
    assert "'" + names[0] in cells and names[0] not in cells
    assert names[1] in cells  # not a formula: kept as text


def test_metric_catalog_lists_definitions_owners_sql_and_pages(dashboard):
    html = dashboard.get("/metrics").text
    catalog = httpx.get(
        dashboard.url + "/api/v1/metrics",
        headers={"Authorization": f"Bearer {dashboard.server.control_token}"},
    ).json()
    for metric in catalog:
        assert f'id="metric-{metric["name"]}"' in html
    row = re.search(r'id="metric-sessions".*?</tr>', html, flags=re.S).group(0)
    assert 'href="/"' in row and 'href="/sessions"' in row  # shown on both pages
    detail = dashboard.get("/metrics/stickiness").text
    assert "SQL for DuckDB" in detail and "SQL for ClickHouse" in detail
    assert 'href="/metrics/dau"' in detail and 'href="/metrics/mau"' in detail  # computed from
    missing = dashboard.get("/metrics/nope")
    assert missing.status_code == 404 and "No metric named" in missing.text


@pytest.mark.parametrize("path", [*PAGES[:5], "/funnels?by=plan", "/retention?by=plan"])
def test_every_embedded_figure_is_a_valid_plotly_figure(dashboard, path):
    html = dashboard.get(path + ("&" if "?" in path else "?") + "range=last_30_days").text
    figures = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', html)
    assert figures
    for text in figures:
        go.Figure(json.loads(text))  # graph_objects' validators reject any unknown property


def test_filter_values_are_the_dimension_values_api_ordered_by_sessions(dashboard):
    api = httpx.get(
        f"{dashboard.url}/api/v1/dimensions/plan/values",
        params={"range": "last_30_days"},
        headers={"Authorization": f"Bearer {dashboard.server.control_token}"},
    ).json()
    sliced = dashboard.api("analyses/sessions", {"range": "last_30_days", "breakdown": ["plan"]})
    per_plan = {s["plan"]: s["sessions"] for s in sliced["result"]["slices"] if s["plan"]}
    assert {v["value"]: v["sessions"] for v in api["values"]} == per_plan
    counts = [v["sessions"] for v in api["values"]]
    assert counts == sorted(counts, reverse=True)
    html = dashboard.get("/sessions?range=last_30_days").text
    offered = re.search(r'<select id="f-plan".*?</select>', html, flags=re.S).group(0)
    assert re.findall(r"<option>([^<]+)</option>", offered) == sorted(per_plan)
    unknown = httpx.get(
        f"{dashboard.url}/api/v1/dimensions/nope/values",
        headers={"Authorization": f"Bearer {dashboard.server.control_token}"},
    )
    assert unknown.status_code in (400, 404) and unknown.json()["ok"] is False


def test_server_refuses_to_bind_the_network_before_an_admin_exists(tmp_path):
    result = subprocess.run(
        [SEXTANT, "serve", "--data-dir", str(tmp_path), "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = "".join(result.stderr.split())
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "refusingtoserveon0.0.0.0:noadminexists" in said
    assert "sextantusersaddEMAIL--roleadmin" in said


def test_page_options_outside_the_lists_are_shown_or_refused_on_the_page(dashboard):
    for path in ("/funnels?by=device", "/retention?by=device", "/features?by=device"):
        response = dashboard.get(path + "&range=last_30_days")
        assert response.status_code == 200, path
        assert '<option value="device" selected>device</option>' in response.text
    for path in ("/funnels?by=nope", "/retention?by=nope", "/features?by=nope"):
        response = dashboard.get(path)
        assert response.status_code == 400 and "nope" in response.text, path
    html = dashboard.get("/funnels?by=plan&range=last_30_days").text
    features = re.search(r'href="(/features\?[^"]*)"', html).group(1)
    assert "range=last_30_days" in features and "by=" not in features  # options stay on a page
    builder = dashboard.get("/funnels?funnel=custom")  # starts from the default flow's steps
    assert builder.status_code == 200 and 'id="p-step-4"' in builder.text
