"""Test helpers for access: a small generated store, users and keys made with the real CLI,
and browsers-without-a-browser (httpx clients with cookies) that sign in through the real
form, CSRF token and all."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from sextant.cli.generate import build_dataset
from sextant.config import load_settings
from sextant.store.engines.duckdb import DuckDBEngine
from sextant.synth.config import SynthConfig
from tests.conftest import SEXTANT

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
    args = [SEXTANT, "users", "add", email, "--role", role, "--password-stdin"]
    if tenants is not None:
        args += ["--tenants", tenants]
    subprocess.run(
        [*args, "--data-dir", str(data_dir)],
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


def add_key(data_dir: Path, name: str, role: str, tenants: str | None = None) -> str:
    """A new API key made with the real CLI; returns its secret."""
    args = [SEXTANT, "keys", "add", name, "--role", role, "--data-dir", str(data_dir)]
    if tenants:
        args += ["--tenants", tenants]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return next(line for line in out.splitlines() if line.startswith("sxk_"))


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
