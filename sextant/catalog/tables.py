"""Tables and columns definitions may read: the stored schema, plus tables and columns the
compiler derives from it (sessions, an order's net total). Later issues materialise these.
"""

from __future__ import annotations

from sextant.store.schema import TABLES

__all__ = ["COMPUTED_COLUMNS", "DERIVED_TABLES", "TABLES", "table_columns"]

# Tables the compiler derives from stored ones; metrics may read them like stored tables.
DERIVED_TABLES: dict[str, dict[str, str]] = {
    "sessions": {
        "session_id": "SDK $session_id, or derived: new after > 30 min idle or 24 h long",
        "person_id": "resolved through identity merges",
        "tenant_id": "tenant of the first event",
        "started_at": "first event; the session counts on this local day",
        "ended_at": "last event",
        "duration_seconds": "ended_at - started_at; 0 for a single event",
        "events": "events in the session",
        "pageviews": "$pageview events in the session",
        "plan": "at the first event",
        "country": "at the first event",
        "channel": "at the first event",
        "device": "at the first event",
        "path": "entry path",
        "properties": "event properties of the first event",
    },
}
# Columns the compiler adds to a stored table.
COMPUTED_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {"net_total": "total_price - the order's refunds (sum of refunds.amount, or 0)"},
}


def table_columns(table: str) -> set[str]:
    """Columns a definition may use on `table`: stored, computed and derived ones."""
    if table in DERIVED_TABLES:
        return set(DERIVED_TABLES[table])
    return {c.name for c in TABLES[table].columns} | set(COMPUTED_COLUMNS.get(table, {}))
