"""Versioned schema migrations, derived from the `since` markers in `schema.py`.

Version N creates the tables that appeared in N (with their columns as of N) and adds the
columns that appeared in N to older tables. Engines turn each step into their own DDL.
A fresh store applies every version in order; an old store applies only the missing ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from sextant.errors import StoreError
from sextant.store.schema import LATEST_VERSION, TABLES, Column, Table

DESCRIPTIONS = {
    1: "product events, persons and identity merges",
    2: "commerce: products, orders, order lines, refunds, inventory, reorder settings",
    3: "customer experience: customers, interactions, tickets, reviews",
    4: "ingestion sources and their write keys",
    5: "sessions, stored and kept up to date from events",
}


@dataclass(frozen=True)
class CreateTable:
    table: Table
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class AddColumn:
    table: Table
    column: Column


Step = CreateTable | AddColumn


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    steps: tuple[Step, ...]


def migration(version: int) -> Migration:
    steps: list[Step] = []
    for t in TABLES.values():
        if t.since == version:
            steps.append(CreateTable(t, t.columns_at(version)))
        elif t.since < version:
            for col in t.columns:
                if col.since == version:
                    if col.required:
                        raise ValueError(f"{t.name}.{col.name}: a column added later is optional")
                    steps.append(AddColumn(t, col))
    return Migration(version, DESCRIPTIONS[version], tuple(steps))


def pending(current: int, target: int = LATEST_VERSION) -> list[Migration]:
    """Migrations that take a store from `current` to `target`, in order."""
    return [migration(v) for v in range(current + 1, target + 1)]


def too_new_error(version: int) -> StoreError:
    return StoreError(
        "schema_too_new",
        f"the store is at schema version {version}, newer than this Sextant "
        f"(which knows up to {LATEST_VERSION})",
        field="data_dir",
        hint="upgrade Sextant",
    )
