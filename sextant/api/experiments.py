"""Experiment routes: the experiments the store has seen or defines, and one experiment's
readout (the `experiment` analysis, cached like the others). Access: a viewer or higher; the
SQL is for analysts and above (see `api/metrics.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from sextant.analyses import run_analysis
from sextant.api.auth import Caller, reader, without_sql
from sextant.experiments.listing import list_experiments, readout_body

router = APIRouter(prefix="/api/v1", dependencies=reader("experiments"))


def _listed(request: Request, tenants: list[str] | None) -> list[dict[str, Any]]:
    state = request.app.state
    return list_experiments(
        state.engine,
        state.catalogs.get(),
        state.settings.timezone,
        tenants=tenants,
        cache=state.result_cache,
    )


@router.get("/experiments")
def experiments(
    request: Request,
    tenants: Annotated[list[str] | None, Query(description="tenant ids to read")] = None,
) -> list[dict[str, Any]]:
    """Experiments seen in exposure events over the last year, or defined in the catalog:
    variants with persons and intended weights, dates, metrics."""
    return _listed(request, tenants)


@router.get("/experiments/{name}/readout")
def readout(
    name: str,
    request: Request,
    principal: Caller,
    date_from: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD")] = None,
    correction: Annotated[str | None, Query(description="holm, bh or none")] = None,
    effect: Annotated[float | None, Query(description="relative effect to size for")] = None,
    tenants: Annotated[list[str] | None, Query(description="tenant ids to read")] = None,
) -> dict[str, Any]:
    """One experiment's readout; dates default to its definition's, else its exposures'."""
    state = request.app.state
    today = datetime.now(ZoneInfo(state.settings.timezone)).date()
    params = {
        "from": date_from,
        "to": date_to,
        "correction": correction,
        "effect": effect,
        "tenants": tenants,
    }
    body = readout_body(_listed(request, tenants), name, params, today)
    result = run_analysis(
        state.engine,
        state.catalogs.get(),
        "experiment",
        body,
        settings=state.settings,
        cache=state.result_cache,
    )
    return without_sql(result.as_dict(), principal)
