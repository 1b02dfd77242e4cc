"""Capture endpoints: native, PostHog- and Segment-compatible, per INTEGRATIONS.md.

Every path takes the same steps: read the body within size and time limits, decode it,
parse the wire format, check the write key, validate each message, journal the valid
ones durably, and answer 200 with each rejected message's verdict (400 when none was
valid). PostHog SDKs treat anything but 200 as failure, so success is always exactly 200.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sextant.api.errors import error_body
from sextant.errors import InvalidInput, RequestTimeout, TooLarge, Unauthorized
from sextant.ingest.requests import CaptureRequest, to_record, verdicts

router = APIRouter()

POSTHOG_PATHS = ("/batch", "/e", "/i/v0/e", "/capture", "/track")
SEGMENT_CALLS = ("batch", "track", "identify", "page", "screen", "group", "alias")
SEGMENT_LETTERS = ("b", "t", "i", "p", "s", "g", "a")
FLAGS_ANSWER = {"flags": {}, "featureFlags": {}, "errorsWhileComputingFlags": False}


async def read_body(request: Request) -> bytes:
    settings = request.app.state.settings
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)

    async def collect() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(collect(), settings.body_timeout_seconds)
    except TimeoutError:
        raise RequestTimeout(
            "body_timeout",
            f"the request body did not arrive within {settings.body_timeout_seconds:g} s",
        ) from None


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        "body_too_large",
        f"the request body is larger than {limit:,} bytes",
        hint="send smaller batches (setting SEXTANT_MAX_BODY_BYTES)",
    )


async def capture(request: Request, wire: str, call: str | None = None) -> Response:
    received_us = time.time_ns() // 1000
    state = request.app.state
    max_body = state.settings.max_body_bytes
    raw = CaptureRequest(
        wire,
        await read_body(request),
        received_us,
        content_type=request.headers.get("content-type"),
        content_encoding=request.headers.get("content-encoding"),
        query=dict(request.query_params),
        call=call,
        authorization=request.headers.get("authorization"),
    )
    parsed = raw.parse(max_body)
    source = state.keyring.source_for(parsed.api_key)
    if source is None:
        raise Unauthorized(
            "invalid_write_key",
            "missing or unknown write key" if parsed.api_key else "no write key was sent",
            field="api_key",
            hint="create one with `sextant sources add NAME`",
        )
    accepted, rejected = verdicts(parsed, raw, state.limits, source)
    if accepted:
        await state.ingestor.submit(accepted, to_record(raw, source, state.limits, max_body))
    if rejected and not accepted:
        return JSONResponse(error_body(400, [r.as_dict() for r in rejected]), status_code=400)
    body_out: dict = {"status": 1, "accepted": len(accepted)}
    if rejected:
        body_out["rejected"] = [r.as_dict() for r in rejected]
    return JSONResponse(body_out)


for path in POSTHOG_PATHS:

    @router.post(path, include_in_schema=path == "/batch")
    @router.post(path + "/", include_in_schema=False)
    async def posthog_capture(request: Request) -> Response:
        return await capture(request, "posthog")


@router.post("/engage", include_in_schema=False)
@router.post("/engage/", include_in_schema=False)
async def posthog_engage(request: Request) -> Response:
    return await capture(request, "engage")


@router.post("/v1/{call}")
@router.post("/v1/{call}/", include_in_schema=False)
async def segment_capture(call: str, request: Request) -> Response:
    if call not in SEGMENT_CALLS and call not in SEGMENT_LETTERS:
        raise InvalidInput(
            "unknown_segment_call",
            f"unknown Segment call {call!r}; use one of {', '.join(SEGMENT_CALLS)}",
            field="path",
        )
    return await capture(request, "segment", call)


@router.post("/api/v1/events")
async def native_capture(request: Request) -> Response:
    """Sextant's own capture: one event, `{"events": [...]}` or an array; Bearer write key."""
    return await capture(request, "native")


@router.get("/array/{token}/config.js", include_in_schema=False)
async def posthog_config_js(token: str) -> Response:
    return Response(status_code=404)  # posthog-js falls back to /config


@router.get("/array/{token}/config", include_in_schema=False)
@router.get("/array/{token}/config/", include_in_schema=False)
async def posthog_config(token: str) -> Response:
    return JSONResponse(
        {
            "supportedCompression": ["gzip", "gzip-js"],
            "sessionRecording": False,
            "autocapture_opt_out": False,
            "capturePerformance": False,
            "surveys": False,
            "heatmaps": False,
            "toolbarParams": {},
            "featureFlags": {},
        }
    )


@router.post("/flags", include_in_schema=False)
@router.post("/flags/", include_in_schema=False)
@router.post("/decide", include_in_schema=False)
@router.post("/decide/", include_in_schema=False)
async def posthog_flags(request: Request) -> Response:
    await read_body(request)
    return JSONResponse(FLAGS_ANSWER)
