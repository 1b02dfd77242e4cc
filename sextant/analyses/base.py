"""What every analysis shares: its query base (range, zone, breakdown, filters, tenants), the
store facts validation checks names against, and small validation helpers."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from sqlglot import exp

from sextant.catalog.definitions import Catalog
from sextant.catalog.query import RangeQuery
from sextant.errors import Problem, SextantError

# Named statements an analysis runs; their rows come back to `shape` under the same names.
Statements = dict[str, exp.Select]
Rows = dict[str, list[dict]]


class AnalysisQuery(RangeQuery):
    """Base of every analysis query: the inclusive local dates `from`..`to` in `timezone`,
    grain (of trends over time), week start, breakdown, `where` conditions and tenants."""

    kind: ClassVar[str] = ""


@dataclass(frozen=True)
class Facts:
    """What validation may check a query against: the catalog and the event names the
    store holds (an unknown event is a typo far more often than a wish for zero)."""

    catalog: Catalog
    events: frozenset[str]


def unknown_event(name: str, field: str, facts: Facts) -> Problem | None:
    """A problem when no event called `name` is stored, naming the closest ones."""
    if name in facts.events:
        return None
    close = difflib.get_close_matches(name, sorted(facts.events), n=3, cutoff=0.6)
    message = f"{field}: no event named {name!r} has been stored"
    if close:
        message += f"; did you mean {' or '.join(repr(c) for c in close)}?"
    return Problem("unknown_event", message, field)


def unknown_breakdowns(query: AnalysisQuery, facts: Facts) -> list[Problem]:
    """A problem for each breakdown the catalog has no dimension for (the catalog's own
    refusal names the field `dimension`; in a query the field at fault is `breakdown`)."""
    problems = []
    for name in query.breakdown:
        try:
            facts.catalog.dimension(name)
        except SextantError as exc:
            problems.append(Problem(exc.code, f"breakdown: {exc.message}", "breakdown"))
    return problems


def slice_order(key: tuple) -> tuple:
    """Slices in value order, a slice without a value (None) last."""
    return tuple((v is None, str(v)) for v in key)


def unknown_events(names: Iterable[tuple[str, str]], facts: Facts) -> list[Problem]:
    """Problems for each (event name, field) not stored."""
    return [p for name, field in names if (p := unknown_event(name, field, facts)) is not None]
