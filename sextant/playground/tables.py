"""Which store tables the playground offers, and why the others are left out.

Every offered table carries `tenant_id`, so a tenant-limited user's snapshot and the guard's
rewrite can both filter it by tenant.
"""

from __future__ import annotations

from sextant.store.schema import TABLES

TENANT_COLUMN = "tenant_id"

ALLOWED_TABLES: tuple[str, ...] = (
    "events",
    "sessions",
    "persons",
    "tenants",
    "orders",
    "order_lines",
    "products",
    "refunds",
    "inventory_levels",
    "customers",
    "interactions",
    "tickets",
    "reviews",
)

# Store tables the playground never copies. None of them can be tied to a tenant except
# reorder_settings, which is simply not on the list yet.
LEFT_OUT: dict[str, str] = {
    "person_distinct_ids": "raw distinct ids (often e-mail addresses) with no tenant_id",
    "person_overrides": "person merges with no tenant_id; persons and sessions already "
    "hold the merged persons",
    "identity_merges": "a log of raw distinct ids with no tenant_id",
    "sources": "event sources and write-key hashes: configuration, not data",
    "reorder_settings": "stock settings; tenant-scoped, but not offered in the playground",
}


def scoped(name: str) -> bool:
    """Whether rows of table `name` are filtered by tenant.

    >>> scoped("events"), scoped("sources")
    (True, False)
    """
    return any(c.name == TENANT_COLUMN for c in TABLES[name].columns)
