"""Signing in, role-gated pages, the SQL playground and saved queries in a real browser:
Debian's Chromium driven by Playwright against one real server with a small generated store
and three users (admin, analyst, viewer), each signed in through the form."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from tests.access.signing import PASSWORD, add_user
from tests.conftest import add_source, start_server
from tests.web.test_browser import SHOTS, Watched, browser  # noqa: F401 - `browser` is a fixture

TODAY = datetime.now(UTC).date()
DATA = SynthConfig(
    users=300, events=5_000, start=TODAY - timedelta(days=40), end=TODAY - timedelta(days=1)
)
USERS = {"admin": "ada@example.com", "analyst": "ann@example.com", "viewer": "vic@example.com"}
TOP_TENANTS = "SELECT tenant_id, count(*) AS events FROM events GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
# Under the test artifacts, not docs/: a test run must not change tracked files (the README's
# picture is copied from here by hand).
SCREENSHOT = SHOTS / "playground.jpg"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The server, and the events per tenant read before it locks the store."""
    data_dir = tmp_path_factory.mktemp("browser-access")
    build_dataset(load_settings(data_dir=data_dir), DATA)
    engine = DuckDBEngine(data_dir / "sextant.duckdb", read_only=True)
    tenants = Counter(
        r["tenant_id"] for r in engine.execute("SELECT tenant_id FROM events").to_pylist()
    )
    engine.close()
    for role, email in USERS.items():
        add_user(data_dir, email, role)
    env = {"SEXTANT_PLAYGROUND_REFRESH_SECONDS": "0"}
    server = start_server(data_dir, add_source(data_dir), env)
    yield SimpleNamespace(url=server.url, tenants=tenants)
    server.stop()


@pytest.fixture
def as_user(browser, world):  # noqa: F811 - the imported fixture
    """Open a fresh browser context signed in through the form as one of USERS' roles."""
    opened: list[Watched] = []

    def sign_in(role: str, path: str = "/metrics") -> Watched:
        w = Watched(browser)
        opened.append(w)
        w.page.goto(f"{world.url}/login?next={path}")
        w.page.get_by_label("Email").fill(USERS[role])
        w.page.get_by_label("Password").fill(PASSWORD)
        with w.page.expect_navigation():
            w.page.get_by_role("button", name="Sign in").click()
        assert w.page.url == world.url + path
        w.rendered()
        return w

    yield sign_in
    for w in opened:
        w.close()


def run(w: Watched, sql: str) -> None:
    """Type `sql` into the playground editor and run it with Ctrl+Enter."""
    editor = w.page.locator("#sql")
    editor.fill(sql)
    with w.page.expect_navigation():
        editor.press("Control+Enter")
    w.rendered()


def column(w: Watched, n: int) -> list[str]:
    return w.page.locator(f"#result-table tbody tr td:nth-child({n})").all_inner_texts()


# Signing in.


def test_sign_in_form_refuses_a_wrong_password_and_keyboard_sign_in_returns_to_the_page(
    browser,  # noqa: F811 - the imported fixture
    world,
):
    w = Watched(browser)
    page = w.page
    try:
        page.goto(world.url + "/sessions")
        assert page.url == world.url + "/login?next=%2Fsessions"
        assert page.get_by_role("heading", name="Sign in to Sextant").is_visible()

        page.get_by_label("Email").fill(USERS["analyst"])
        page.get_by_label("Password").fill("not the password")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        alert = page.get_by_role("alert")
        assert alert.is_visible() and alert.inner_text() == "email or password is wrong"
        assert page.url.startswith(world.url + "/login")
        assert page.get_by_label("Password").is_visible()

        # Keyboard only: Tab from the top of the page to the email field, then on.
        page.goto(world.url + "/login?next=%2Fsessions")
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "email":
                break
        assert page.evaluate("document.activeElement.id") == "email"
        page.keyboard.type(USERS["analyst"])
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "password"
        page.keyboard.type(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == world.url + "/sessions"
        assert w.rendered() >= 2  # the dashboard drew its charts
        assert page.locator("header .who span").inner_text() == f"{USERS['analyst']} · analyst"

        with page.expect_navigation():
            page.get_by_role("button", name="Sign out").click()
        assert page.url == world.url + "/login"
        page.goto(world.url + "/sessions")
        assert page.url == world.url + "/login?next=%2Fsessions"
        assert page.get_by_role("button", name="Sign out").count() == 0
        assert [p for p in w.problems if p.startswith(("console", "error"))] == [
            # the wrong password's 401 is the only failed load
            "console: Failed to load resource: the server responded with a status of 401 "
            "(Unauthorized)"
        ]
    finally:
        w.close()


def test_sign_in_after_a_wrong_password_still_returns_to_the_page_asked_for(
    browser,  # noqa: F811 - the imported fixture
    world,
):
    w = Watched(browser)
    try:
        w.page.goto(world.url + "/playground")
        for password in ("not the password", PASSWORD):
            w.page.get_by_label("Email").fill(USERS["analyst"])
            w.page.get_by_label("Password").fill(password)
            with w.page.expect_navigation():
                w.page.get_by_role("button", name="Sign in").click()
        assert w.page.url == world.url + "/playground"
    finally:
        w.close()


# Role-gated navigation.


@pytest.mark.parametrize(
    ("role", "links"),
    [("viewer", set()), ("analyst", {"Playground"}), ("admin", {"Playground", "Admin"})],
)
def test_navigation_shows_only_the_pages_the_role_may_open(as_user, role, links):
    w = as_user(role)
    nav = w.page.get_by_role("navigation", name="Pages")
    shown = {name for name in ("Playground", "Admin") if nav.get_by_role("link", name=name).count()}
    assert shown == links
    assert nav.get_by_role("link", name="Metrics").is_visible()
    assert w.problems == []


def test_viewer_opening_the_playground_is_told_it_needs_the_analyst_role(as_user, world):
    w = as_user("viewer")
    response = w.page.goto(world.url + "/playground")
    assert response.status == 403
    assert w.page.get_by_role("heading", name="Not allowed").is_visible()
    message = w.page.get_by_role("alert")
    assert message.is_visible()
    assert "needs the analyst role" in message.inner_text()
    assert w.page.locator("#sql").count() == 0


def test_admin_page_lists_every_user(as_user):
    w = as_user("admin")
    with w.page.expect_navigation():
        w.page.get_by_role("navigation", name="Pages").get_by_role("link", name="Admin").click()
    assert w.page.url.endswith("/admin/users")
    users = w.page.get_by_role("region", name="Users").get_by_role("rowheader")
    assert sorted(users.all_inner_texts()) == sorted(USERS.values())
    assert w.problems == []


# The playground.


def test_playground_runs_a_query_with_ctrl_enter_and_draws_table_chart_and_csv(as_user, world):
    w = as_user("analyst", "/playground")
    run(w, TOP_TENANTS)
    page = w.page
    assert page.locator("#result-table thead th").all_inner_texts() == ["tenant_id", "events"]
    assert page.locator("#result-table tbody tr").count() == 5
    top5 = sorted(world.tenants.values(), reverse=True)[:5]
    assert [int(n) for n in column(w, 2)] == top5
    for tenant, n in zip(column(w, 1), column(w, 2), strict=True):
        assert world.tenants[None if tenant == "∅" else tenant] == int(n)
    assert page.get_attribute("body", "data-rendered") == "1"
    assert page.locator("#chart-result .main-svg").count() >= 1  # Plotly drew the chart
    assert page.input_value("#sql") == TOP_TENANTS
    assert w.problems == []
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    table = page.locator("#result-table").bounding_box()  # the page down to the result's rows
    clip = {"x": 0, "y": 0, "width": 1280, "height": table["y"] + table["height"] + 24}
    page.screenshot(path=SCREENSHOT, type="jpeg", quality=70, full_page=True, clip=clip)

    with page.expect_download() as caught:
        page.get_by_role("button", name="Download CSV").click()
    download = caught.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert rows[0] == ["tenant_id", "events"]
    assert [int(r[1]) for r in rows[1:]] == top5


def test_playground_shows_a_refused_query_beside_the_editor_and_keeps_the_text(as_user):
    w = as_user("analyst", "/playground")
    run(w, "ATTACH 'x.db'")
    error = w.page.locator("#sql-error")
    assert error.is_visible() and error.get_attribute("role") == "alert"
    assert "SELECT" in error.inner_text()
    assert w.page.input_value("#sql") == "ATTACH 'x.db'"
    assert w.page.get_attribute("#sql", "aria-describedby") == "sql-error"
    assert w.page.locator("#result-table").count() == 0


def test_playground_notes_when_only_the_first_10000_rows_are_kept(as_user):
    w = as_user("analyst", "/playground")
    run(w, "SELECT range AS n FROM range(20000)")
    notice = w.page.locator(".result .notice")
    assert notice.is_visible()
    assert "first 10,000 rows" in notice.inner_text()
    assert w.page.locator("#result-facts").inner_text().startswith("10,000 row(s)")
    assert w.problems == []


# Saved queries.


def test_shared_query_is_listed_for_others_pinned_by_admin_and_deleted_by_its_owner(as_user, world):
    name, sql = "Events by name (browser)", "SELECT event, count(*) AS n FROM events GROUP BY 1"
    ann = as_user("analyst", "/playground")
    ann.page.locator("#sql").fill(sql)  # typed, not run: saving takes the editor's text
    ann.page.get_by_text("Save this query", exact=True).click()
    ann.page.get_by_label("Name", exact=True).fill(name)
    ann.page.get_by_label("Share with the team").check()
    with ann.page.expect_navigation():
        ann.page.get_by_role("button", name="Save", exact=True).click()
    ann.rendered()
    assert ann.page.get_by_role("status").inner_text() == f"Saved: {name}"
    mine = ann.page.locator(".saved-item", has_text=name)
    assert mine.get_by_role("link", name=name).is_visible()
    assert "shared · ann@example.com" in mine.inner_text()

    ada = as_user("admin", "/playground")
    run(ada, "SELECT 1 AS one")  # an admin's own query, listed before by name
    ada.page.get_by_text("Save this query", exact=True).click()
    ada.page.get_by_label("Name", exact=True).fill("A first by name")
    with ada.page.expect_navigation():
        ada.page.get_by_role("button", name="Save", exact=True).click()
    ada.rendered()
    items = ada.page.locator(".saved-item > a")
    assert items.all_inner_texts() == ["A first by name", name]
    with ada.page.expect_navigation():
        ada.page.get_by_role("link", name=name).click()
    ada.rendered()
    assert ada.page.input_value("#sql") == sql
    assert ada.page.get_by_role("heading", name=name).is_visible()
    with ada.page.expect_navigation():
        ada.page.locator(".saved-item", has_text=name).get_by_role("button", name="Pin").click()
    ada.rendered()
    assert ada.page.get_by_role("status").inner_text() == f"Pinned: {name}"
    assert items.all_inner_texts() == [name, "A first by name"]
    first = ada.page.locator(".saved-item").first
    assert first.locator(".badge-inline").inner_text() == "pinned"

    ann.page.reload()
    ann.rendered()
    with ann.page.expect_navigation():
        ann.page.get_by_role("button", name=f"Delete {name}").click()
    ann.rendered()
    assert ann.page.get_by_role("status").inner_text() == f"Deleted: {name}"
    assert ann.page.locator(".saved-item", has_text=name).count() == 0
    ada.open(world.url + "/playground")
    assert ada.page.locator(".saved-item > a").all_inner_texts() == ["A first by name"]
    assert ann.problems == [] and ada.problems == []
