"""Tables and columns definitions may read: the stored schema (sessions included, kept up
to date by store/sessions.py), plus columns the compiler derives from it (an order's net
total).
"""

from __future__ import annotations

from sextant.store.schema import TABLES

__all__ = ["COMPUTED_COLUMNS", "TABLES", "table_columns"]

# Columns the compiler adds to a stored table.
COMPUTED_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {"net_total": "total_price - the order's refunds (sum of refunds.amount, or 0)"},
}


def table_columns(table: str) -> set[str]:
    """Columns a definition may use on `table`: stored and computed ones."""
    return {c.name for c in TABLES[table].columns} | set(COMPUTED_COLUMNS.get(table, {}))
