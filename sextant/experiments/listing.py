"""The experiments a store knows: those seen in exposure events over the last year and those
defined (built-in or in the catalog directory), merged by key; and the analysis body of a
readout, whose dates default to the definition's or to the first and last exposure. The API
routes and the page both call these.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sextant.catalog.definitions import Catalog
from sextant.catalog.query import RangeQuery
from sextant.catalog.results import ResultCache
from sextant.errors import NotFound
from sextant.experiments.definitions import definitions
from sextant.experiments.exposures import discover
from sextant.store.engine import Engine

SEEN_RANGE = "last_365_days"


def list_experiments(
    engine: Engine,
    catalog: Catalog,
    timezone: str,
    *,
    tenants: list[str] | None = None,
    cache: ResultCache | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Every experiment: name, label, description, key, variants (seen persons, intended
    weight), defined or only seen, first and last exposure (local dates), metrics."""
    today = today or datetime.now(ZoneInfo(timezone)).date()
    window = RangeQuery.parse(
        {"range": SEEN_RANGE, "timezone": timezone, "tenants": tenants}, today=today
    )
    seen = {e["key"]: e for e in discover(engine, catalog, window, cache=cache, today=today)}
    defined = definitions(catalog)
    zone = ZoneInfo(timezone)
    out = []
    for key in sorted({d.key for d in defined.values()} | set(seen)):
        found = next((d for d in defined.values() if d.key == key), None)
        exposure = seen.get(key)
        weights = {v.key: v.weight for v in found.variants} if found else {}
        persons = {v["key"]: v["persons"] for v in exposure["variants"]} if exposure else {}
        out.append(
            {
                "name": found.name if found else key,
                "label": (found.label if found else None) or key,
                "description": found.description if found else "",
                "key": key,
                "defined": found is not None,
                "variants": [
                    {"key": v, "persons": persons.get(v, 0), "weight": weights.get(v)}
                    for v in sorted(set(weights) | set(persons), key=_variant_order)
                ],
                "first_seen": exposure["first_seen"].astimezone(zone).date() if exposure else None,
                "last_seen": exposure["last_seen"].astimezone(zone).date() if exposure else None,
                "start": found.start if found else None,
                "end": found.end if found else None,
                "metrics": [m.name for m in found.metrics] if found else [],
            }
        )
    return out


def _variant_order(key: str) -> tuple[int, str]:
    return (0 if key == "control" else 1, key)


def readout_body(
    experiments: list[dict[str, Any]], name: str, params: dict[str, Any], today: date
) -> dict[str, Any]:
    """The `experiment` analysis body for `name`: the given options, with dates defaulting to
    the definition's, else the first and last exposure (never after today)."""
    found = next((e for e in experiments if name in (e["name"], e["key"])), None)
    if found is None:
        known = ", ".join(e["name"] for e in experiments) or "none yet"
        raise NotFound(
            "experiment_not_found", f"no experiment {name!r}; known: {known}", field="experiment"
        )
    body = {"experiment": found["name"], **{k: v for k, v in params.items() if v is not None}}
    if not {"from", "to", "range"} & set(body):
        first = found["start"] or found["first_seen"] or today
        last = min(found["end"] or found["last_seen"] or today, today)
        body |= {"from": str(min(first, last)), "to": str(last)}
    return body
