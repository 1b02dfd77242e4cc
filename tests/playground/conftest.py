"""A small real store with two tenants, written row by row, plus playground snapshots of it;
the rows stay here as plain Python for the oracles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from sextant.playground.snapshot import Snapshot, Snapshots
from sextant.store.engines.duckdb import DuckDBEngine

ACME, BETA = "t_acme", "t_beta"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NAMES = ["signup", "$pageview", "match", "$pageview", "invite", "match"]

TENANTS = [
    {"tenant_id": ACME, "name": "Acme", "plan": "plus", "country": "FR"},
    {"tenant_id": BETA, "name": "Beta Hidden Works", "plan": "free", "country": "DE"},
]
# person_id, tenant, email, name; Beta's people are the ones Acme's users must never see.
PEOPLE = [
    (1, ACME, "ann@acme.test", "Ann Archer"),
    (2, ACME, "al@acme.test", "Al Ames"),
    (3, ACME, "ada@acme.test", "Ada Avery"),
    (4, BETA, "bob@beta.test", "Bob Brandt"),
    (5, BETA, "bea@beta.test", "Bea Baker"),
]


def person_rows() -> list[dict]:
    return [
        {
            "person_id": pid,
            "tenant_id": tenant,
            "created_at": T0 + timedelta(days=pid),
            "is_identified": True,
            "plan": "plus" if tenant == ACME else "free",
            "properties": json.dumps(
                {"email": email, "Name": name, "plan_name": "team", "$set": {"phone": "555"}}
            ),
        }
        for pid, tenant, email, name in PEOPLE
    ]


def event_rows() -> list[dict]:
    rows = []
    for pid, tenant, email, name in PEOPLE:
        for k in range(pid + 2):  # people send different numbers of events
            properties: dict = {"$current_url": f"/page/{k}", "feature": f"f{k % 3}"}
            if k == 0:
                properties["$email"] = email
            if k == 1:
                properties["$set"] = {"name": name, "plan": "x"}
            rows.append(
                {
                    "id": f"e-{pid}-{k}",
                    "event": NAMES[k % len(NAMES)],
                    "timestamp": T0 + timedelta(days=pid, minutes=7 * k),
                    "distinct_id": f"d{pid}",
                    "person_id": pid,
                    "tenant_id": tenant,
                    "device": "mobile" if k % 2 else "desktop",
                    "path": f"/page/{k}",
                    "properties": json.dumps(properties),
                }
            )
    return rows


def order_rows() -> tuple[list[dict], list[dict]]:
    orders, lines = [], []
    for pid, tenant, _, _ in PEOPLE:
        order_id = 100 + pid
        orders.append(
            {
                "tenant_id": tenant,
                "order_id": order_id,
                "person_id": pid,
                "customer_id": f"c{pid}",
                "created_at": T0 + timedelta(days=pid, hours=1),
                "total_price": Decimal(f"{10 * pid}.50"),
                "currency": "EUR",
            }
        )
        for n in range(2):
            lines.append(
                {
                    "tenant_id": tenant,
                    "line_id": order_id * 10 + n,
                    "order_id": order_id,
                    "sku": f"sku-{n}",
                    "quantity": n + pid,
                    "price": Decimal("2.25"),
                }
            )
    return orders, lines


def customer_rows() -> list[dict]:
    return [
        {
            "tenant_id": tenant,
            "customer_id": f"c{pid}",
            "person_id": pid,
            "name": name,
            "email": email,
            "segment": "smb",
            "created_at": T0,
        }
        for pid, tenant, email, name in PEOPLE
    ]


def fill(engine: DuckDBEngine) -> None:
    orders, lines = order_rows()
    for name, rows in [
        ("tenants", TENANTS),
        ("persons", person_rows()),
        ("events", event_rows()),
        ("orders", orders),
        ("order_lines", lines),
        ("customers", customer_rows()),
    ]:
        engine.append(name, pa.Table.from_pylist(rows))


@dataclass
class Store:
    engine: DuckDBEngine
    snapshots: Snapshots
    admin: Snapshot  # every tenant, PII shown
    acme: Snapshot  # Acme only, PII masked


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Store:
    folder: Path = tmp_path_factory.mktemp("playground")
    engine = DuckDBEngine(folder / "sextant.duckdb")
    fill(engine)
    snapshots = Snapshots(folder / "snapshots", engine)
    admin = snapshots.path(None, sees_pii=True)
    acme = snapshots.path((ACME,), sees_pii=False)
    return Store(engine, snapshots, admin, acme)
