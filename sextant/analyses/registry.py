"""Analyses by kind. A module registers its query class with `@analysis(...)` and defines
`build(ctx) -> Statements`, `shape(query, rows, today) -> dict` and, optionally,
`resolve(query, catalog) -> query` and `validate(query, facts) -> list[Problem]`. The API
route, CLI command and cache are generic over the kind, so adding an analysis touches
nothing else.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Any

from sextant.analyses.base import AnalysisQuery, Facts, Rows, Statements
from sextant.catalog.definitions import Catalog
from sextant.errors import NotFound, Problem

# Modules of this package that hold no analysis.
_SUPPORT = {"base", "registry", "run"}


@dataclass(frozen=True)
class Analysis:
    kind: str
    label: str
    summary: str  # one or two sentences, shown in lists and tooltips
    noun: str  # what an empty result has none of: "No sessions in range"
    query: type[AnalysisQuery]

    @property
    def module(self) -> ModuleType:
        return sys.modules[self.query.__module__]

    def build(self, ctx: Any) -> Statements:
        return self.module.build(ctx)

    def shape(self, query: AnalysisQuery, rows: Rows, today: date) -> dict[str, Any]:
        return self.module.shape(query, rows, today)

    def resolve(self, query: AnalysisQuery, catalog: Catalog) -> AnalysisQuery:
        """The query with names it refers to filled in (a saved funnel's steps), so that
        validation, SQL and shaping all see the same steps."""
        fill = getattr(self.module, "resolve", None)
        return fill(query, catalog) if fill else query

    def validate(self, query: AnalysisQuery, facts: Facts) -> list[Problem]:
        check = getattr(self.module, "validate", None)
        return list(check(query, facts)) if check else []


_ANALYSES: dict[str, Analysis] = {}


def analysis(
    kind: str, *, label: str, summary: str, noun: str
) -> Callable[[type[AnalysisQuery]], type[AnalysisQuery]]:
    """Register the decorated query class as the analysis `kind`."""

    def register(query: type[AnalysisQuery]) -> type[AnalysisQuery]:
        if kind in _ANALYSES and _ANALYSES[kind].query.__qualname__ != query.__qualname__:
            raise ValueError(f"analysis kind {kind!r} is registered twice")
        query.kind = kind
        _ANALYSES[kind] = Analysis(kind, label, summary, noun, query)
        return query

    return register


def _load() -> None:
    package = sys.modules["sextant.analyses"]
    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in _SUPPORT:
            importlib.import_module(f"sextant.analyses.{info.name}")


def kinds() -> dict[str, Analysis]:
    """Every registered analysis, by kind, in name order."""
    _load()
    return dict(sorted(_ANALYSES.items()))


def get(kind: str) -> Analysis:
    """The analysis `kind`, or NotFound naming the closest kinds."""
    known = kinds()
    if kind in known:
        return known[kind]
    close = difflib.get_close_matches(kind, list(known), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else None
    raise NotFound(
        "unknown_analysis",
        f"no analysis called {kind!r}; known: {', '.join(known)}",
        field="kind",
        hint=hint,
    )
