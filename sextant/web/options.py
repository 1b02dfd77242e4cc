"""The choices the filter controls offer: the values of each filter's dimension among the
people active in the view's range (the largest first), from the catalog's `active_persons`
metric broken down by the dimension, so they come through the same compiler and cache as
every number.
"""

from __future__ import annotations

from dataclasses import replace

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
    """Each filter's values (and the workspace list), the chosen value always among them."""
    state = ctx.state
    unfiltered = replace(state, filters={}, tenant=None)
    dimensions = {"tenant": "tenant", **{name: dim for name, (_, dim) in FILTERS.items()}}
    out = {}
    for name, dimension in dimensions.items():
        try:
            result = ctx.metrics(
                ["active_persons"], state=unfiltered, breakdown=[dimension], grain="month"
            )[0]
        except SextantError:  # a catalog without the metric or dimension: free text only
            out[name] = []
            continue
        totals: dict[str, int] = {}
        for row in result.rows:
            if row.get(dimension) is not None:
                key = str(row[dimension])
                totals[key] = totals.get(key, 0) + (row["value"] or 0)
        ranked = sorted(totals, key=lambda k: (-totals[k], k))
        out[name] = ranked[:MAX_TENANTS] if name == "tenant" else sorted(ranked)
    for name, value in [("tenant", state.tenant), *state.filters.items()]:
        if value is not None and value not in out[name]:
            out[name].insert(0, value)
    return out


def zones(current: str, default: str) -> list[str]:
    return list(dict.fromkeys([current, default, *ZONES]))
