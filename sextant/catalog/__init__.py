"""Metric and dimension definitions -> SQL for any dialect.

Definitions are YAML (the built-in files in `catalog/builtin/`, plus a user directory that
adds or overrides by name), validated on load into the models of `catalog/models.py`.
`load_catalog()` returns the checked `Catalog`; the compiler turns a metric into sqlglot.

File format (any *.yaml may hold any of the three sections)::

    metrics:
      - name: signups                    # snake_case, unique
        label: Sign-ups
        description: Distinct persons who signed up ...   # the tooltip users see
        owner: growth
        unit: persons                    # models.Unit
        type: count_distinct             # models.METRIC_TYPES
        of: person_id                    # type parameters, flat beside the common fields
        events: [signed_up]
        filter: "plan = 'free'"          # optional SQL condition (duckdb dialect)
        parameters: []                   # fields a query may set (Metric.with_parameters)
    dimensions:
      - name: role
        label: Role
        description: The person's role, from their profile.
        source: person.properties.role   # column, person./tenant. column, or property path
        aliases: []
    events:
      $pageleave: [inactive]             # flags: inactive, feature, collaboration
"""

from __future__ import annotations

from sextant.catalog.definitions import Catalog, Origin
from sextant.catalog.dimensions import Dimension, EventFlags
from sextant.catalog.loading import BUILTIN_DIR, load_catalog
from sextant.catalog.models import METRIC_TYPES, EventSelector, Metric

__all__ = [
    "BUILTIN_DIR",
    "METRIC_TYPES",
    "Catalog",
    "Dimension",
    "EventFlags",
    "EventSelector",
    "Metric",
    "Origin",
    "load_catalog",
]
