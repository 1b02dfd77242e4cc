"""Metric descriptions shared by the API, the CLI and pages: list entries, one metric's
detail (definition, origin, dependencies, dimensions, SQL), the default query a definition's
SQL is shown for, and a catalog source that reloads when the user's definitions change.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sextant.catalog.compiler import compile_query
from sextant.catalog.definitions import Catalog, Origin
from sextant.catalog.loading import BUILTIN_DIR, load_catalog
from sextant.catalog.models import Metric
from sextant.catalog.query import MetricQuery
from sextant.config import Settings
from sextant.errors import SextantError

DEFAULT_RANGE = "last_30_days"  # the range `sql` and the definition's SQL are compiled for


class CatalogSource:
    """The catalog a server answers from, read again when a file in the user directory
    changes (added, removed, edited), so definitions apply without a restart. A load error
    is raised to the request that needs the catalog; capture keeps working meanwhile."""

    def __init__(self, user_dir: Path | None) -> None:
        self.user_dir = user_dir
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._catalog: Catalog | None = None
        self._dimensions: dict[str, list[str]] = {}  # per metric, for the catalog held

    def get(self) -> Catalog:
        stamp = _stamp(self.user_dir)
        with self._lock:
            if self._catalog is None or stamp != self._stamp:
                self._catalog = load_catalog(self.user_dir)
                self._stamp, self._dimensions = stamp, {}
            return self._catalog

    def dimensions_for(self, catalog: Catalog, name: str) -> list[str]:
        with self._lock:
            if catalog is self._catalog and name in self._dimensions:
                return self._dimensions[name]
        found = applicable_dimensions(catalog, name)
        with self._lock:
            if catalog is self._catalog:
                self._dimensions[name] = found
        return found


def _stamp(user_dir: Path | None) -> tuple | None:
    if user_dir is None or not user_dir.is_dir():
        return None
    files = sorted([*user_dir.glob("*.yaml"), *user_dir.glob("*.yml")])
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def metric_summary(metric: Metric) -> dict[str, Any]:
    """What a list of metrics shows: name, label, tooltip, unit, type and owner."""
    return {
        "name": metric.name,
        "label": metric.label,
        "description": metric.description,
        "unit": metric.unit,
        "type": metric.type,
        "owner": metric.owner,
    }


def metric_detail(
    catalog: Catalog,
    name: str,
    settings: Settings,
    *,
    dialects: list[str] | tuple[str, ...] = (),
    dimensions: list[str] | None = None,
) -> dict[str, Any]:
    """One metric: its definition, where it was read, what it is computed from, the
    dimensions it can be sliced by, and its SQL for each of `dialects` (last 30 days)."""
    metric = catalog.metric(name)
    origin = catalog.origin("metric", name)
    sql = {}
    if dialects:
        query = default_query(name, settings)
        sql = {dialect: compile_query(catalog, query, dialect).sql for dialect in dialects}
    return {
        **metric_summary(metric),
        "parameters": list(metric.parameters),
        "origin": None
        if origin is None
        else {"file": show_path(origin.file), "line": origin.line, "builtin": is_builtin(origin)},
        "dependencies": list(catalog.dependencies(name)),
        "dimensions": applicable_dimensions(catalog, name) if dimensions is None else dimensions,
        "definition": metric.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        "sql": sql,
    }


def is_builtin(origin: Origin) -> bool:
    return Path(origin.file).parent == BUILTIN_DIR


def show_path(file: str) -> str:
    """A built-in file as it is named in the source tree; a user file as it was found."""
    path = Path(file)
    if path.parent == BUILTIN_DIR:
        return f"sextant/catalog/builtin/{path.name}"
    return file


def applicable_dimensions(catalog: Catalog, name: str) -> list[str]:
    """Dimensions the metric can be sliced by: those its compiled form accepts (the
    compiler's own rules, such as person dimensions applying to events only)."""
    out = []
    for dimension in catalog.dimensions:
        query = MetricQuery.parse(
            {"metric": name, "from": "2000-01-01", "to": "2000-01-01", "breakdown": [dimension]}
        )
        try:
            compile_query(catalog, query, "duckdb")
        except SextantError:
            continue
        out.append(dimension)
    return out


def default_query(name: str, settings: Settings) -> MetricQuery:
    """The query a definition's SQL is shown for: the last 30 complete days by day, as
    `sextant metrics sql` gives without options."""
    return parse_query({"metric": name, "range": DEFAULT_RANGE}, settings)


def parse_query(body: dict[str, Any], settings: Settings) -> MetricQuery:
    """A query from an API body or CLI options; time zone and week start default to the
    settings."""
    defaults = {"timezone": settings.timezone, "week_start": settings.week_start}
    return MetricQuery.parse(defaults | {k: v for k, v in body.items() if v is not None})
