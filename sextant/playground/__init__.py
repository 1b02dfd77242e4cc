"""The SQL playground: one read-only SELECT from an analyst, checked and scoped to their
tenants (guard), run in a locked-down worker process (worker, runner) on a snapshot that
holds only the rows they may see, PII masked for non-admins (snapshot, masking).

Names load on first use, so the worker process (`python -m sextant.playground.worker`)
starts without importing sqlglot and the rest of Sextant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sextant.playground.guard import check
    from sextant.playground.runner import MAX_ROWS, PlaygroundResult, run_sql
    from sextant.playground.snapshot import Snapshot, Snapshots
    from sextant.playground.tables import ALLOWED_TABLES, LEFT_OUT

_EXPORTS = {
    "check": "guard",
    "run_sql": "runner",
    "PlaygroundResult": "runner",
    "MAX_ROWS": "runner",
    "Snapshot": "snapshot",
    "Snapshots": "snapshot",
    "ALLOWED_TABLES": "tables",
    "LEFT_OUT": "tables",
}

__all__ = [
    "ALLOWED_TABLES",
    "LEFT_OUT",
    "MAX_ROWS",
    "PlaygroundResult",
    "Snapshot",
    "Snapshots",
    "check",
    "run_sql",
]


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"sextant.playground.{_EXPORTS[name]}"), name)
