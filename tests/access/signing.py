"""Test helpers for access: a small generated store, users and keys made through the access
store (what `sextant users add` and `sextant keys add` call, without a process start each:
tests/cli/test_users_cli.py runs the commands themselves), and browsers-without-a-browser
(httpx clients with cookies) that sign in through the real form, CSRF token and all."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from sextant.access.roles import Principal, Role
from sextant.access.service import Access
from sextant.access.users import parse_tenants
from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def generated_store(data_dir: Path, *, users: int, events: int, days: int) -> list[str]:
    """Generate a store whose history ends yesterday; return its tenants, busiest first."""
    today = datetime.now(UTC).date()
    cfg = SynthConfig(
        users=users, events=events, start=today - timedelta(days=days), end=today - timedelta(1)
    )
    build_dataset(load_settings(data_dir=data_dir), cfg)
    engine = DuckDBEngine(data_dir / "sextant.duckdb", read_only=True)
    rows = engine.execute("SELECT tenant_id FROM events WHERE tenant_id IS NOT NULL").to_pylist()
    engine.close()
    return [t for t, _ in Counter(r["tenant_id"] for r in rows).most_common()]


def add_user(
    data_dir: Path, email: str, role: str, tenants: str | None = None, password: str = PASSWORD
) -> None:
    Access(load_settings(data_dir=data_dir)).users.add(
        email, Role.parse(role), password=password, tenants=parse_tenants(tenants)
    )


def add_key(data_dir: Path, name: str, role: str, tenants: str | None = None) -> str:
    """A new API key; returns its secret."""
    creator = Principal("tests", Role.ADMIN)
    access = Access(load_settings(data_dir=data_dir))
    return access.keys.create(name, Role.parse(role), parse_tenants(tenants), creator)[1]


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def login_form(client: httpx.Client) -> str:
    """Open the sign-in page (setting the CSRF cookie) and return its token."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def sign_in(url: str, email: str, password: str = PASSWORD) -> httpx.Client:
    """A client signed in through the form; fails the test if sign-in fails."""
    client = httpx.Client(base_url=url, timeout=60)
    token = login_form(client)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text
    assert "sextant_session" in client.cookies
    return client


def page_token(client: httpx.Client, path: str = "/metrics") -> str:
    """The CSRF token the pages give this signed-in client."""
    return csrf_of(client.get(path).text)
