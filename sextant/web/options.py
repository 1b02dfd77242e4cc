"""The choices the filter controls offer: the values of each filter's dimension in the view's
range, the most frequent first (`catalog/values.py`, as `GET /api/v1/dimensions/{name}/values`
answers), with the chosen value always among them.
"""

from __future__ import annotations

from dataclasses import replace

from sextant.catalog.query import RangeQuery
from sextant.catalog.values import dimension_values
from sextant.errors import SextantError
from sextant.web.context import PageContext
from sextant.web.state import FILTERS

MAX_TENANTS = 300  # workspaces offered in the list; any other can be typed
ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def filter_values(ctx: PageContext) -> dict[str, list[str]]:
    """Each filter's values (and the workspace list) over the view's range, unfiltered."""
    state = ctx.state
    query = RangeQuery.parse(replace(state, filters={}, tenant=None).body(), today=state.today)
    dimensions = {"tenant": "tenant", **{name: dim for name, (_, dim) in FILTERS.items()}}
    out: dict[str, list[str]] = {}
    for name, dimension in dimensions.items():
        try:
            found = dimension_values(
                ctx.engine,
                ctx.catalog,
                query,
                dimension,
                limit=MAX_TENANTS,
                cache=ctx.cache,
                today=state.today,
            )
        except SextantError:  # a catalog without the dimension: free text only
            out[name] = []
            continue
        values = [v["value"] for v in found["values"]]
        out[name] = values if name == "tenant" else sorted(values)
    for name, value in [("tenant", state.tenant), *state.filters.items()]:
        if value is not None and value not in out[name]:
            out[name].insert(0, value)
    return out


def zones(current: str, default: str) -> list[str]:
    return list(dict.fromkeys([current, default, *ZONES]))
