"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the real
server. Every page draws its charts with no console error and no failed request; presets,
custom dates and filters work through the controls and live in the URL; each seed message
appears for its case; the downloaded CSV equals the API; the keyboard reaches every control;
the layout holds at 600 px; text contrast meets WCAG AA. Screenshots of every page go to the
test artifacts folder (SEXTANT_TEST_ARTIFACTS, default test-artifacts/)."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.web.conftest import ARTIFACTS, TODAY

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = {
    "overview": "/",
    "sessions": "/sessions",
    "funnels": "/funnels",
    "funnel-builder": "/funnels?funnel=custom&step=signed_up&step=page_created&by=plan",
    "retention": "/retention?range=last_90_days&by=channel",
    "features": "/features?range=last_30_days&by=plan",
    "experiment": "/experiments?experiment=onboarding-checklist",
    "metrics": "/metrics",
    "metric": "/metrics/stickiness",
    "playground": "/playground",
}
SHOTS = ARTIFACTS / "screenshots"
FOCUSABLE = "a[href], button, input, select, summary, [tabindex='0']"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Chromium is not installed: `make test` installs Debian's chromium with apt when "
            "it runs as root; otherwise run `apt-get install chromium` and test again"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Watched:
    """A page that records console errors, uncaught exceptions and failed requests."""

    def __init__(self, browser, width: int = 1280):
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        self.page.on(
            "response",
            lambda r: self.problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
        )

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.rendered()

    def rendered(self) -> int:
        self.page.wait_for_selector("body[data-rendered]", timeout=20_000)
        return int(self.page.get_attribute("body", "data-rendered"))

    def value(self, kpi: str) -> str:
        return self.page.get_attribute(f"#kpi-{kpi} .kpi-value", "data-value")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser):
    opened = []

    def open_page(width: int = 1280) -> Watched:
        opened.append(Watched(browser, width))
        return opened[-1]

    yield open_page
    for w in opened:
        w.close()


@pytest.mark.parametrize("name", PAGES)
def test_every_page_draws_its_charts_without_console_errors_or_failed_requests(
    dashboard, watched, name
):
    w = watched()
    w.open(dashboard.url + PAGES[name])
    charts = w.page.locator("[data-figure]").count()
    assert w.rendered() == charts
    assert w.page.locator("[data-figure] .main-svg").count() >= charts  # Plotly drew them
    if name not in ("metrics", "metric", "playground"):  # the playground charts a result
        assert charts >= 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=SHOTS / f"{name}.png", full_page=True)
    assert w.problems == []


@pytest.mark.parametrize(
    "name", ["overview", "sessions", "funnel-builder", "metrics", "playground"]
)
def test_layout_fits_600_px_without_sideways_scrolling(dashboard, watched, name):
    w = watched(width=600)
    w.open(dashboard.url + PAGES[name])
    overflow = w.page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 600
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=SHOTS / f"{name}-600px.png", full_page=True)


def test_presets_and_custom_dates_change_the_numbers_through_the_controls(dashboard, watched):
    w = watched()
    w.open(dashboard.url + "/sessions")
    week = int(w.value("sessions"))
    with w.page.expect_navigation():
        w.page.get_by_label("Last 30 days").check()  # a preset submits itself
    w.rendered()
    assert "range=last_30_days" in w.page.url
    month = int(w.value("sessions"))
    assert month > week > 0
    first, last = TODAY - timedelta(days=14), TODAY - timedelta(days=8)
    w.page.fill("#from", str(first))
    w.page.fill("#to", str(last))
    with w.page.expect_navigation():
        w.page.get_by_role("button", name="Apply").click()
    w.rendered()
    assert f"from={first}" in w.page.url and f"to={last}" in w.page.url
    api = dashboard.api("analyses/sessions", {"from": str(first), "to": str(last)})
    assert int(w.value("sessions")) == api["result"]["slices"][0]["sessions"]
    assert w.page.is_checked("input[name=range][value=custom]")
    assert w.problems == []


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (TODAY - timedelta(days=3), TODAY - timedelta(days=10), "Invalid date range"),
        (TODAY - timedelta(days=3), TODAY + timedelta(days=3), "Cannot select future dates"),
        (TODAY - timedelta(days=400), TODAY - timedelta(days=390), "No sessions in range"),
    ],
)
def test_each_range_message_appears_for_its_case(dashboard, watched, first, last, message):
    w = watched()
    w.open(dashboard.url + "/sessions")
    w.page.fill("#from", str(first))
    w.page.fill("#to", str(last))
    with w.page.expect_navigation():
        w.page.get_by_role("button", name="Apply").click()
    w.rendered()
    shown = w.page.get_by_text(message)
    assert shown.first.is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=SHOTS / f"message-{message.split()[0].lower()}.png")


def test_filters_round_trip_through_the_url_and_the_navigation(dashboard, watched):
    w = watched()
    w.open(dashboard.url + "/sessions")
    everyone = int(w.value("sessions"))
    with w.page.expect_navigation():
        w.page.select_option("#f-plan", "free")
    w.rendered()
    assert "plan=free" in w.page.url
    filtered = int(w.value("sessions"))
    assert 0 < filtered < everyone
    shared = w.page.url
    again = watched()
    again.open(shared)  # the link alone restores the view
    assert again.page.input_value("#f-plan") == "free"
    assert int(again.value("sessions")) == filtered
    with again.page.expect_navigation():
        again.page.get_by_role("link", name="Funnels").click()
    again.rendered()
    assert "plan=free" in again.page.url
    assert again.page.input_value("#f-plan") == "free"
    assert w.problems == [] and again.problems == []


def test_downloaded_csv_equals_the_api_result(dashboard, watched):
    w = watched()
    w.open(dashboard.url + "/sessions?range=last_30_days")
    with w.page.expect_download() as caught:
        w.page.get_by_role("link", name="Download CSV of Session duration by day").click()
    download = caught.value
    assert download.suggested_filename.startswith("sextant-sessions-trend-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    api = dashboard.api("analyses/sessions", {"range": "last_30_days"})
    series = api["result"]["slices"][0]["series"]
    assert [r["bucket"] for r in rows] == [s["bucket"] for s in series]
    assert [int(r["sessions"]) for r in rows] == [s["sessions"] for s in series]
    for row, want in zip(rows, series, strict=True):
        assert float(row["p95"]) == pytest.approx(want["p95"], rel=1e-12)


def test_keyboard_alone_reaches_every_control_and_operates_them(dashboard, watched):
    w = watched()
    w.open(dashboard.url + PAGES["funnel-builder"])
    targets = w.page.evaluate(
        """(selector) => {
            // Shown controls; what a closed <details> holds is reached once it is opened.
            const folded = (el) => {
                for (let d = el.closest('details:not([open])'); d;
                     d = d.parentElement.closest('details:not([open])')) {
                    if (el !== d.querySelector(':scope > summary')) return true;
                }
                return false;
            };
            const all = [...document.querySelectorAll(selector)].filter(el =>
                el.offsetParent !== null && !el.closest('.chart, .spark') && !el.disabled
                && !folded(el));
            all.forEach((el, i) => el.setAttribute('data-kb', String(i)));
            // A radio group takes one tab stop: its checked button.
            return all.filter(el => el.type !== 'radio' || el.checked).length;
        }""",
        FOCUSABLE,
    )
    reached = set()
    for _ in range(targets * 3):  # charts add tab stops of their own (Plotly's mode bar)
        w.page.keyboard.press("Tab")
        mark = w.page.evaluate("document.activeElement.getAttribute('data-kb')")
        if mark is not None:
            reached.add(mark)
        if len(reached) == targets:
            break
    missing = w.page.evaluate(
        "(seen) => [...document.querySelectorAll('[data-kb]')].filter(el => !seen.includes("
        "el.getAttribute('data-kb')) && (el.type !== 'radio' || el.checked)).map(el => el.outerHTML"
        ".slice(0, 120))",
        sorted(reached),
    )
    assert missing == []
    # Operated by keyboard: a definition opens with Enter, a preset changes with the arrows.
    w.page.focus("#panel-conversion details.definition summary")
    w.page.keyboard.press("Enter")
    assert w.page.locator("#panel-conversion .tip").is_visible()
    w.page.focus("input[name=range]:checked")
    with w.page.expect_navigation():
        w.page.keyboard.press("ArrowRight")
    w.rendered()
    assert "range=last_30_days" in w.page.url and "step=page_created" in w.page.url


CONTRAST = """() => {
    const lum = (rgb) => {
        const [r, g, b] = rgb.map(v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const background = (el) => {
        for (; el; el = el.parentElement) {
            const c = parse(getComputedStyle(el).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const failures = [];
    for (const el of document.querySelectorAll('body *')) {
        if (el.closest('.chart, .spark, script, style') || el.offsetParent === null) continue;
        const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!text) continue;
        const style = getComputedStyle(el);
        const fg = lum(parse(style.color).slice(0, 3)), bg = lum(background(el));
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
        const large = size >= 24 || (bold && size >= 18.66);
        if (ratio < (large ? 3 : 4.5)) {
            failures.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)}`);
        }
    }
    return failures;
}"""


@pytest.mark.parametrize(
    "name", ["overview", "sessions", "funnel-builder", "metrics", "playground"]
)
def test_text_contrast_meets_wcag_aa(dashboard, watched, name):
    w = watched()
    w.open(dashboard.url + PAGES[name])
    assert w.page.evaluate(CONTRAST) == []
