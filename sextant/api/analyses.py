"""Analysis routes: the kinds (with their options as JSON Schema) and `POST
/api/v1/analyses/{kind}`, which runs one and answers the result, its SQL and timing, cached
like metric queries. Access: a viewer or higher; the SQL of a result is for analysts and
above (see `api/metrics.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from sextant.analyses import get, kinds, run_analysis
from sextant.api.auth import Caller, reader, without_sql

router = APIRouter(prefix="/api/v1", dependencies=reader("analyses"))


def describe(kind: str) -> dict[str, Any]:
    """An analysis as lists show it, with its options as JSON Schema."""
    found = get(kind)
    return {
        "kind": found.kind,
        "label": found.label,
        "summary": found.summary,
        "options": found.query.model_json_schema(by_alias=True),
    }


@router.get("/analyses")
def list_analyses() -> list[dict[str, Any]]:
    """Every analysis kind, what it answers and its options."""
    return [describe(kind) for kind in kinds()]


@router.get("/analyses/{kind}")
def show_analysis(kind: str) -> dict[str, Any]:
    """One analysis kind and its options."""
    return describe(kind)


@router.post("/analyses/{kind}")
def run(
    kind: str,
    request: Request,
    principal: Caller,
    body: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {"range": "last_30_days", "steps": [{"event": "signup"}, {"event": "activated"}]}
            ],
            description="from/to or range, timezone, week_start, breakdown, where, tenants, "
            "and the analysis's own options (GET /api/v1/analyses/{kind} lists them)",
        ),
    ],
) -> dict[str, Any]:
    """Run an analysis; a repeat on unchanged data is served from the result cache."""
    state = request.app.state
    result = run_analysis(
        state.engine,
        state.catalogs.get(),
        kind,
        body,
        settings=state.settings,
        cache=state.result_cache,
    )
    return without_sql(result.as_dict(), principal)
