"""`sextant users` and `sextant keys` as an admin types them: users added (the first admin
too), listed, changed and protected (the last admin), API keys shown once; every mistake is
a one-line error without a traceback, and every change is in the audit log."""

from __future__ import annotations

import sqlite3
import subprocess

from sextant.access.service import Access
from sextant.config import load_settings
from tests.cli.test_cli import assert_clean_error
from tests.conftest import SEXTANT


def run(data_dir, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SEXTANT, *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_users_are_added_listed_changed_and_the_last_admin_kept(tmp_path):
    added = run(
        tmp_path,
        "users",
        "add",
        "ada@example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    assert "Added ada@example.com as admin, reading every tenant." in added.stdout
    limited = run(tmp_path, "users", "add", "pm@example.com", "--tenants", "ws_1, ws_2", "--sso")
    assert "Added pm@example.com as viewer, reading ws_1, ws_2." in limited.stdout
    listed = run(tmp_path, "users", "list").stdout
    assert "ada@example.com" in listed and "ws_1, ws_2" in listed
    assert "single sign-on" in listed and "password" in listed
    users = Access(load_settings(data_dir=tmp_path)).users
    assert users.find("pm@example.com").tenants == ("ws_1", "ws_2")

    changed = run(tmp_path, "users", "set", "pm@example.com", "--role", "analyst", "--all-tenants")
    assert changed.returncode == 0 and users.find("pm@example.com").tenants is None
    assert users.find("pm@example.com").role.value == "analyst"
    assert_clean_error(
        run(tmp_path, "users", "set", "ada@example.com", "--role", "viewer"), "last admin"
    )
    assert_clean_error(run(tmp_path, "users", "set", "ada@example.com", "--disable"), "last admin")
    audit = (
        sqlite3.connect(tmp_path / "access.sqlite")
        .execute("SELECT actor, target FROM audit WHERE action = 'user_change'")
        .fetchall()
    )
    assert {t for _, t in audit} == {"ada@example.com", "pm@example.com"}
    assert all(actor.startswith("cli:") for actor, _ in audit)


def test_user_mistakes_are_one_line_errors(tmp_path):
    good = ("--password-stdin",)
    cases = [
        (("users", "add", "not-an-email", *good), "correct horse battery\n", "not an email"),
        (
            ("users", "add", "a@b.io", "--role", "boss", *good),
            "correct horse battery\n",
            "unknown role 'boss'",
        ),
        (("users", "add", "a@b.io", *good), "short\n", "at least 10 characters"),
        (("users", "add", "a@b.io"), "", "no terminal to ask for a password"),
        (("users", "set", "ghost@b.io", "--role", "admin"), None, "no user 'ghost@b.io'"),
    ]
    for args, stdin, phrase in cases:
        assert_clean_error(run(tmp_path, *args, stdin=stdin), phrase)
    run(tmp_path, "users", "add", "a@b.io", *good, stdin="correct horse battery\n")
    again = run(tmp_path, "users", "add", "A@B.io", *good, stdin="correct horse battery\n")
    assert_clean_error(again, "already exists")


def test_api_keys_are_shown_once_listed_by_prefix_and_revoked(tmp_path):
    created = run(
        tmp_path, "keys", "add", "nightly report", "--role", "analyst", "--tenants", "ws_9"
    )
    assert created.returncode == 0, created.stderr
    secret = next(line for line in created.stdout.splitlines() if line.startswith("sxk_"))
    listed = run(tmp_path, "keys", "list").stdout
    assert "nightly report" in listed and secret[:10] in listed and secret not in listed
    keys = Access(load_settings(data_dir=tmp_path)).keys
    principal = keys.principal(secret)
    assert principal.role.value == "analyst" and principal.tenants == ("ws_9",)
    assert run(tmp_path, "keys", "revoke", "1").returncode == 0
    assert keys.principal(secret) is None
    assert_clean_error(run(tmp_path, "keys", "revoke", "7"), "no API key with id 7")
