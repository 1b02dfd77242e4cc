"""Capture request bodies -> JSON values: decompression, form/base64 wrappers and parsing.

Whole-body problems (bad gzip, bad JSON, too large) raise; problems inside one event (NaN,
lone surrogates) are left for per-event validation so one bad event never sinks a batch.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from sextant.errors import InvalidInput, TooLarge

GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_GZIP_NAMES = frozenset({"gzip", "x-gzip", "gzip-js"})
_DEFLATE_NAMES = frozenset({"deflate"})
_PLAIN_NAMES = frozenset({"", "identity", "none"})
_LZ64 = "lz64"
_BASE64 = "base64"
_FORM_TYPE = "application/x-www-form-urlencoded"
_FORM_START = re.compile(rb"(?:[A-Za-z_]\w*=[^&]*&)*data=")


class _NonStandardNumber:
    """Stands for NaN, Infinity, -Infinity or an out-of-range number in a parsed body."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NON_STANDARD_NUMBER"


NON_STANDARD_NUMBER: Any = _NonStandardNumber()


def decode_body(
    body: bytes,
    *,
    content_type: str | None,
    content_encoding: str | None,
    query: Mapping[str, str],
    max_body_bytes: int,
) -> Any:
    """The JSON value a capture request carries.

    Duplicated object keys keep their last value, as `JSON.parse` does in browsers.
    NaN, Infinity and numbers beyond a double come back as `NON_STANDARD_NUMBER` and
    strings may hold lone surrogates; validation rejects the events holding either.
    """
    _check_size(len(body), max_body_bytes)
    body = _content_decoded(body, content_encoding, max_body_bytes)
    compression = _compression(query.get("compression"))
    if body[:2] != GZIP_MAGIC and _is_form(body, content_type):
        body, compression = _form_data(body, compression)
    if compression == _BASE64:
        body = _base64(body)
    if body[:2] == GZIP_MAGIC:
        body = gunzip(body, max_body_bytes)
    elif compression in _GZIP_NAMES and not _looks_like_json(body):
        raise InvalidInput(
            "invalid_gzip",
            f"compression={compression} was given but the body is neither gzip nor JSON",
            field="body",
        )
    if not body.strip():
        raise InvalidInput("empty_body", "the request body is empty", field="body")
    return parse_json(body)


def parse_json(data: bytes) -> Any:
    """Parse JSON text: orjson first, the tolerant standard parser when orjson refuses."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _parse_tolerant(data)


def gunzip(data: bytes, limit: int) -> bytes:
    """Inflate gzip `data` (all members), stopping with 413 once more than `limit` bytes come."""
    return _inflate(data, zlib.MAX_WBITS | 16, limit, "gzip")


def _content_decoded(body: bytes, encoding: str | None, limit: int) -> bytes:
    name = (encoding or "").strip().lower()
    if name in _PLAIN_NAMES:
        return body
    if name in _GZIP_NAMES:
        return gunzip(body, limit)
    if name in _DEFLATE_NAMES:
        # HTTP deflate is zlib-wrapped, yet some clients send raw deflate.
        wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS
        return _inflate(body, wbits, limit, "deflate")
    raise InvalidInput(
        "unsupported_compression",
        f"Content-Encoding {encoding!r} is not supported; send gzip, deflate or plain JSON",
        field="content-encoding",
    )


def _compression(value: str | None) -> str:
    name = (value or "").strip().lower()
    if name == _LZ64:
        raise InvalidInput(
            "unsupported_compression",
            "lz64 compression is not supported; upgrade the PostHog SDK or send gzip",
            field="compression",
            hint="current posthog-js versions send gzip-js; or turn compression off",
        )
    if name in _PLAIN_NAMES or name in _GZIP_NAMES or name == _BASE64:
        return name
    raise InvalidInput(
        "unsupported_compression",
        f"compression {value!r} is not supported; use gzip, gzip-js, base64 or none",
        field="compression",
    )


def _is_form(body: bytes, content_type: str | None) -> bool:
    if content_type is not None and content_type.lower().startswith(_FORM_TYPE):
        # curl and some HTTP libraries label a JSON body as a form by default.
        return not _looks_like_json(body)
    # Old posthog-js posts forms as text/plain; JSON never starts with a letter.
    return body[:1].isalpha() and _FORM_START.match(body) is not None


def _form_data(body: bytes, compression: str) -> tuple[bytes, str]:
    """The `data` field of a form body (old posthog-js), and the compression it names."""
    # latin-1 maps bytes 1:1, so percent-escaped UTF-8 comes back as the bytes sent.
    fields = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1"))
    if "data" not in fields:
        raise InvalidInput(
            "invalid_form", "the form body has no 'data' field holding the events", field="data"
        )
    if "compression" in fields:
        compression = _compression(fields["compression"])
    data = fields["data"].encode("latin-1")
    if not compression and not _looks_like_json(data):
        compression = _BASE64  # old posthog-js sends base64 without saying so
    return data, compression


def _looks_like_json(data: bytes) -> bool:
    return data.lstrip()[:1] in (b"{", b"[")


def _base64(data: bytes) -> bytes:
    # Unencoded '+' turns into a space in form bodies; padding is often dropped.
    cleaned = data.strip().replace(b" ", b"+").replace(b"\n", b"").replace(b"\r", b"")
    cleaned += b"=" * (-len(cleaned) % 4)
    urlsafe = b"-" in cleaned or b"_" in cleaned
    try:
        return base64.b64decode(cleaned, altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(
            "invalid_base64", f"the 'data' field is not valid base64: {exc}", field="data"
        ) from None


def _inflate(data: bytes, wbits: int, limit: int, name: str) -> bytes:
    out: list[bytes] = []
    size = 0
    while data:
        inflater = zlib.decompressobj(wbits)
        try:
            chunk = inflater.decompress(data, limit + 1 - size)
        except zlib.error as exc:
            raise InvalidInput(
                f"invalid_{name}", f"the request body is not valid {name}: {exc}", field="body"
            ) from None
        size += len(chunk)
        _check_size(size, limit, after=name)
        out.append(chunk)
        if not inflater.eof:
            raise InvalidInput(
                f"invalid_{name}",
                f"the {name} request body is truncated ({len(data):,} compressed bytes)",
                field="body",
            )
        # gzip allows several members back to back; zlib streams have one.
        data = inflater.unused_data if name == "gzip" else b""
    return b"".join(out)


def _check_size(size: int, limit: int, *, after: str | None = None) -> None:
    if size > limit:
        where = f" once {after} is decompressed" if after else ""
        raise TooLarge(
            "body_too_large",
            f"the request body is larger than {limit:,} bytes{where}",
            field="body",
            hint="send smaller batches (setting SEXTANT_MAX_BODY_BYTES)",
        )


def _parse_tolerant(data: bytes) -> Any:
    if data[:3] == _BOM:
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "invalid_utf8",
            f"the request body is not valid UTF-8: byte {exc.start} ({data[exc.start]:#04x})",
            field="body",
        ) from None
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "invalid_json",
            f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column "
            f"{exc.colno} (character {exc.pos})",
            field="body",
        ) from None
    except RecursionError:
        raise InvalidInput(
            "too_deep", "the request body nests arrays and objects too deeply", field="body"
        ) from None


def _constant(name: str) -> Any:
    return NON_STANDARD_NUMBER


def _float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else NON_STANDARD_NUMBER
