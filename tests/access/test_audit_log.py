"""The audit log's store: a tenant-limited admin reads exactly what actors within their tenants
did (the SQL filter against the admins' own rule, on random entries), and a store made before
entries carried tenants opens with the column added and its old rows kept."""

from __future__ import annotations

import sqlite3
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from sextant.access.audit import AuditFilter, AuditLog
from sextant.access.roles import Principal, Role
from sextant.access.store import AccessStore
from sextant.api.admin import within_scope

TENANTS = ("acme", "globex", "it's")  # a quote, to show the values are bound, not pasted
limits = st.none() | st.lists(st.sampled_from(TENANTS), unique=True).map(tuple)


@settings(max_examples=60, deadline=None)
@given(actors=st.lists(limits, max_size=12), reader=limits)
def test_a_limited_reader_gets_exactly_the_entries_within_their_tenants(
    tmp_path_factory, actors, reader
):
    log = AuditLog(AccessStore(tmp_path_factory.mktemp("audit") / "access.sqlite"), 365)
    for i, tenants in enumerate(actors):
        log.record(Principal(f"user{i}@example.com", Role.VIEWER, tenants), "page_view", f"/{i}")
    admin = Principal("admin@example.com", Role.ADMIN, reader)
    got = {e.target for e in log.entries(AuditFilter(), within=reader)}
    expected = {f"/{i}" for i, tenants in enumerate(actors) if within_scope(admin, tenants)}
    assert got == expected
    assert all(e.tenants == actors[int(e.target[1:])] for e in log.entries(AuditFilter()))


def test_a_failed_sign_in_carries_the_limit_of_the_user_the_email_names(tmp_path):
    store = AccessStore(tmp_path / "access.sqlite")
    with store.connect() as db:
        db.execute(
            "INSERT INTO users (email, role, tenants, created_at) "
            "VALUES ('Vi@example.com', 'viewer', '[\"acme\"]', 0)"
        )
    log = AuditLog(store, 365)
    log.record("vi@example.com", "sign_in", outcome="sign_in_failed")
    log.record("stranger@example.com", "sign_in", outcome="sign_in_failed")
    entries = {e.actor: e.tenants for e in log.entries(AuditFilter())}
    assert entries == {"vi@example.com": ("acme",), "stranger@example.com": None}
    assert [e.actor for e in log.entries(AuditFilter(), within=("acme",))] == ["vi@example.com"]


def test_a_store_made_before_tenants_were_recorded_gains_the_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "access.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, at REAL NOT NULL, actor TEXT NOT NULL, "
            "role TEXT, action TEXT NOT NULL, target TEXT NOT NULL DEFAULT '', outcome TEXT NOT "
            "NULL DEFAULT 'ok', detail TEXT NOT NULL DEFAULT '{}', ip TEXT)"
        )
        db.execute(  # recent: older than the retention would be pruned on the first write
            "INSERT INTO audit (at, actor, action) VALUES (?, 'old@example.com', 'x')",
            (time.time() - 60,),
        )
    db.close()
    log = AuditLog(AccessStore(path), 365)
    log.record(Principal("new@example.com", Role.ADMIN, ("acme",)), "sign_in")
    entries = log.entries(AuditFilter())
    assert [(e.actor, e.tenants) for e in entries] == [
        ("new@example.com", ("acme",)),
        ("old@example.com", None),
    ]
    assert [e.actor for e in log.entries(AuditFilter(), within=("acme",))] == ["new@example.com"]
    AccessStore(path)  # opening again adds nothing twice
