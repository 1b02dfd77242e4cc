"""The catalog: every metric, dimension and event flag, looked up by name, checked as a whole
(references resolve, no cycles) and able to list a metric's dependencies in compile order.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sextant.catalog.dimensions import Dimension, EventFlags
from sextant.catalog.expressions import parse_source
from sextant.catalog.models import AdoptionMetric, Metric
from sextant.errors import NotFound, Problem


@dataclass(frozen=True)
class Origin:
    """Where a definition was read: file and 1-based line of its entry."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file} line {self.line}"


class Catalog:
    """Metrics, dimensions and event flags after loading and overrides."""

    def __init__(
        self,
        metrics: Mapping[str, Metric],
        dimensions: Mapping[str, Dimension],
        event_flags: EventFlags,
        origins: Mapping[str, Origin] | None = None,
        *,
        funnels: Mapping[str, dict] | None = None,
        experiments: Mapping[str, dict] | None = None,
    ) -> None:
        self.metrics = dict(sorted(metrics.items()))
        self.dimensions = dict(sorted(dimensions.items()))
        self.event_flags = event_flags
        # Saved funnel definitions from the catalog directory, as written (checked on use).
        self.funnels = dict(funnels or {})
        self.experiments = dict(experiments or {})  # configured experiments, as written
        # Keys are "metric:<name>", "dimension:<name>", "event:<name>", "funnel:<name>" and
        # "experiment:<name>".
        self.origins = dict(origins or {})
        self._aliases = {a: d.name for d in self.dimensions.values() for a in d.aliases}

    def metric(self, name: str) -> Metric:
        """The metric called `name`, or NotFound naming the closest ones."""
        try:
            return self.metrics[name]
        except KeyError:
            raise _not_found("metric", name, self.metrics) from None

    def dimension(self, name: str) -> Dimension:
        """A dimension by name or alias; a property path (`properties.$browser`,
        `person.properties.role`) gives an ad-hoc dimension on that path."""
        if name in self.dimensions:
            return self.dimensions[name]
        if name in self._aliases:
            return self.dimensions[self._aliases[name]]
        if "properties." in name:
            parse_source(name)  # raises catalog_source_invalid on a malformed path
            return Dimension(
                name=_slug(name), label=name, description=f"Property path {name}.", source=name
            )
        raise _not_found("dimension", name, [*self.dimensions, *self._aliases])

    def origin(self, kind: str, name: str) -> Origin | None:
        """Where the definition in force was read (the overriding file, if any)."""
        return self.origins.get(f"{kind}:{name}")

    def dependencies(self, name: str) -> tuple[str, ...]:
        """Metrics `name` is computed from, recursively, each before its users (compile order).

        Assumes a checked catalog (no cycles)."""
        order: dict[str, None] = {}

        def visit(current: str) -> None:
            for ref in self.metric(current).references:
                visit(ref)
                order.setdefault(ref)

        visit(name)
        return tuple(order)

    def problems(self) -> list[Problem]:
        """Everything wrong across definitions: unknown references, cycles, features."""
        return [
            *_unknown_references(self),
            *_cycles(self),
            *_unflagged_features(self),
            *_alias_clashes(self),
        ]


def _not_found(kind: str, name: str, known: Iterable[str]) -> NotFound:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else None
    message = f"unknown {kind} {name!r}" + (f"; {hint}" if hint else "")
    return NotFound(
        f"unknown_{kind}",
        f"{message}; known {kind}s: {', '.join(known)}",
        field=kind,
        hint=hint or f"`sextant metrics list` shows every {kind}",
    )


def _slug(path: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in path.lower()).strip("_")


def _where(catalog: Catalog, name: str, field: str) -> str:
    origin = catalog.origin("metric", name)
    return f"{origin or 'catalog'}, metric {name!r}, field {field!r}"


def _unknown_references(catalog: Catalog) -> list[Problem]:
    problems = []
    for metric in catalog.metrics.values():
        field = "expression" if metric.type == "derived" else "numerator/denominator"
        for ref in metric.references:
            if ref not in catalog.metrics:
                close = difflib.get_close_matches(ref, list(catalog.metrics), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(
                    Problem(
                        "catalog_unknown_metric",
                        f"{_where(catalog, metric.name, field)}: unknown metric {ref!r}{hint}; "
                        "expected the name of a metric in the catalog",
                        f"metrics.{metric.name}.{field}",
                    )
                )
    return problems


def _cycles(catalog: Catalog) -> list[Problem]:
    """One problem per distinct cycle in ratio/derived references, with its path."""
    seen: set[tuple[str, ...]] = set()
    problems = []
    for start in catalog.metrics:
        for cycle in _cycles_from(catalog, start, (start,)):
            key = _rotate(cycle[:-1])
            if key in seen:
                continue
            seen.add(key)
            name = key[0]
            path = " -> ".join((*key, name))
            problems.append(
                Problem(
                    "catalog_metric_cycle",
                    f"{_where(catalog, name, 'references')}: metrics refer to each other in "
                    f"a cycle: {path}; expected each metric to be computable from the others",
                    f"metrics.{name}",
                )
            )
    return problems


def _cycles_from(catalog: Catalog, current: str, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = []
    metric = catalog.metrics.get(current)
    for ref in metric.references if metric else ():
        if ref == path[0]:
            found.append((*path, ref))
        elif ref not in path:
            found.extend(_cycles_from(catalog, ref, (*path, ref)))
    return found


def _rotate(cycle: tuple[str, ...]) -> tuple[str, ...]:
    """The cycle starting at its smallest name, so each cycle is reported once.

    >>> _rotate(("b", "c", "a"))
    ('a', 'b', 'c')
    """
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


def _unflagged_features(catalog: Catalog) -> list[Problem]:
    features = set(catalog.event_flags.flagged("feature"))
    return [
        Problem(
            "catalog_feature_not_flagged",
            f"{_where(catalog, m.name, 'feature')}: event {m.feature!r} is not flagged feature; "
            f"expected one of {', '.join(sorted(features))}",
            f"metrics.{m.name}.feature",
        )
        for m in catalog.metrics.values()
        if isinstance(m, AdoptionMetric) and m.feature and m.feature not in features
    ]


def _alias_clashes(catalog: Catalog) -> list[Problem]:
    owners: dict[str, str] = {}
    problems = []
    for dim in catalog.dimensions.values():
        for alias in dim.aliases:
            other = owners.setdefault(alias, dim.name)
            if alias in catalog.dimensions or other != dim.name:
                origin = catalog.origin("dimension", dim.name) or "catalog"
                problems.append(
                    Problem(
                        "catalog_duplicate_name",
                        f"{origin}, dimension {dim.name!r}, field 'aliases': {alias!r} already "
                        "names another dimension; expected a name used once",
                        f"dimensions.{dim.name}.aliases",
                    )
                )
    return problems
