"""Capture bodies -> JSON: compression, form/base64 wrappers, limits and tolerant parsing."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from urllib.parse import quote

import pytest

from sextant.errors import InvalidInput, TooLarge
from sextant.ingest.decode import NON_STANDARD_NUMBER, decode_body

LIMIT = 1_000_000
EVENTS = [{"event": "signed_up", "distinct_id": "u1", "properties": {"plan": "pro"}}]
EVENTS_JSON = json.dumps(EVENTS).encode()


def decode(body, *, content_type="application/json", encoding=None, query=None, limit=LIMIT):
    return decode_body(
        body,
        content_type=content_type,
        content_encoding=encoding,
        query=query or {},
        max_body_bytes=limit,
    )


def rejection(exc_type, body, **kwargs):
    with pytest.raises(exc_type) as caught:
        decode(body, **kwargs)
    return caught.value


def test_plain_json_is_parsed_when_no_compression_is_named():
    assert decode(EVENTS_JSON) == EVENTS
    assert decode(b'{"a": 1}') == {"a": 1}


def test_gzip_is_inflated_when_content_encoding_says_gzip():
    assert decode(gzip.compress(EVENTS_JSON), encoding="gzip") == EVENTS
    assert decode(gzip.compress(EVENTS_JSON), encoding="GZIP") == EVENTS


def test_gzip_is_inflated_when_the_body_starts_with_the_magic_bytes():
    # posthog-js sends gzip as text/plain without Content-Encoding.
    assert decode(gzip.compress(EVENTS_JSON), content_type="text/plain") == EVENTS


@pytest.mark.parametrize("flag", ["gzip-js", "gzip"])
def test_gzip_is_inflated_when_the_compression_query_names_it(flag):
    body = gzip.compress(EVENTS_JSON)
    assert decode(body, content_type="text/plain", query={"compression": flag}) == EVENTS


def test_plain_json_is_parsed_when_the_query_names_gzip_but_the_body_is_json():
    assert decode(EVENTS_JSON, query={"compression": "gzip-js"}) == EVENTS


def test_every_gzip_member_is_inflated_when_members_are_concatenated():
    body = gzip.compress(b'[{"a": 1},') + gzip.compress(b'{"b": 2}]')
    assert decode(body) == [{"a": 1}, {"b": 2}]


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
def test_deflate_is_inflated_when_zlib_wrapped_or_raw(wbits):
    packer = zlib.compressobj(wbits=wbits)
    body = packer.compress(EVENTS_JSON) + packer.flush()
    assert decode(body, encoding="deflate") == EVENTS


def test_base64_form_is_decoded_when_compression_is_base64():
    data = quote(base64.b64encode(EVENTS_JSON).decode(), safe="")
    body = f"data={data}".encode()
    form = "application/x-www-form-urlencoded"
    assert decode(body, content_type=form, query={"compression": "base64"}) == EVENTS


def test_base64_form_is_decoded_when_no_compression_is_named():
    # Old posthog-js: `data=<base64>` and nothing else; '+' unencoded and padding dropped.
    encoded = base64.b64encode(b'{"k": "~~~>>>"}').decode().rstrip("=")
    assert "+" in encoded or "/" in encoded
    assert decode(f"data={encoded}".encode(), content_type="text/plain") == {"k": "~~~>>>"}


def test_form_compression_field_is_honoured_when_in_the_body():
    data = quote(base64.b64encode(EVENTS_JSON).decode(), safe="")
    assert decode(f"compression=base64&data={data}".encode(), content_type=None) == EVENTS


def test_form_json_data_is_parsed_when_not_base64():
    body = ("data=" + quote(json.dumps({"event": "é"}))).encode()
    assert decode(body, content_type="application/x-www-form-urlencoded") == {"event": "é"}


def test_form_without_data_is_rejected():
    error = rejection(InvalidInput, b"foo=1", content_type="application/x-www-form-urlencoded")
    assert (error.code, error.field) == ("invalid_form", "data")
    assert "'data'" in error.message


def test_lz64_is_rejected_with_advice_to_upgrade():
    error = rejection(InvalidInput, b"data=xyz", query={"compression": "lz64"})
    assert error.status == 400
    assert (error.code, error.field) == ("unsupported_compression", "compression")
    assert "lz64" in error.message and "upgrade" in error.message and "gzip" in error.message


def test_lz64_is_rejected_when_named_in_the_form():
    error = rejection(InvalidInput, b"compression=lz64&data=xyz", content_type=None)
    assert error.code == "unsupported_compression"


def test_unknown_content_encoding_is_rejected():
    error = rejection(InvalidInput, b"{}", encoding="br")
    assert (error.code, error.field) == ("unsupported_compression", "content-encoding")
    assert "'br'" in error.message


def test_body_is_too_large_when_over_the_limit_before_decompression():
    error = rejection(TooLarge, b"[" + b"1," * 600 + b"1]", limit=1024)
    assert error.status == 413
    assert error.code == "body_too_large"
    assert "1,024 bytes" in error.message
    assert "SEXTANT_MAX_BODY_BYTES" in error.hint


def test_gzip_bomb_is_too_large_once_inflated():
    bomb = gzip.compress(b" " * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    error = rejection(TooLarge, bomb, limit=LIMIT)
    assert error.code == "body_too_large"
    assert "once gzip is decompressed" in error.message and "1,000,000" in error.message


def test_gzip_bomb_is_too_large_when_sent_with_content_encoding():
    bomb = gzip.compress(b"[" + b"0," * 2_000_000 + b"0]")
    assert rejection(TooLarge, bomb, encoding="gzip").code == "body_too_large"


def test_invalid_gzip_is_rejected_when_the_stream_is_corrupt():
    error = rejection(
        InvalidInput, b"\x1f\x8b\x08\x00garbage-not-deflate", content_type="text/plain"
    )
    assert (error.code, error.field) == ("invalid_gzip", "body")
    assert "not valid gzip" in error.message


def test_invalid_gzip_is_rejected_when_the_stream_is_truncated():
    body = gzip.compress(EVENTS_JSON * 20)[:-30]
    error = rejection(InvalidInput, body)
    assert error.code == "invalid_gzip"
    assert "truncated" in error.message


def test_invalid_gzip_is_rejected_when_the_query_says_gzip_but_the_body_is_neither():
    error = rejection(InvalidInput, b"\x00\x01binary", query={"compression": "gzip-js"})
    assert error.code == "invalid_gzip"
    assert "neither gzip nor JSON" in error.message


def test_invalid_base64_is_rejected():
    error = rejection(InvalidInput, b"data=@@@@", query={"compression": "base64"})
    assert (error.code, error.field) == ("invalid_base64", "data")
    assert "base64" in error.message


def test_invalid_json_is_rejected_with_its_position():
    error = rejection(InvalidInput, b'{"batch": [\n  {"event": "a",}\n]}')
    assert (error.code, error.field) == ("invalid_json", "body")
    assert "line 2 column 17" in error.message and "character 28" in error.message


def test_invalid_utf8_is_rejected_with_its_byte_offset():
    error = rejection(InvalidInput, b'{"event": "caf\xe9"}')
    assert (error.code, error.field) == ("invalid_utf8", "body")
    assert "byte 14" in error.message and "0xe9" in error.message


# mtime=0: a clock in a parameter's id would differ between the workers collecting it
@pytest.mark.parametrize("body", [b"", b"  \n", gzip.compress(b"", mtime=0)])
def test_empty_body_is_rejected(body):
    error = rejection(InvalidInput, body)
    assert (error.code, error.field) == ("empty_body", "body")


def test_deep_nesting_is_rejected_when_beyond_what_the_parser_can_hold():
    error = rejection(InvalidInput, b"[" * 5000 + b"]" * 5000)
    assert error.code == "too_deep"


def test_nan_and_infinity_become_the_sentinel_when_present():
    value = decode(b'[{"a": NaN}, {"a": Infinity}, {"a": -Infinity}, {"a": 1e400}, {"a": 1.5}]')
    assert [v["a"] for v in value[:4]] == [NON_STANDARD_NUMBER] * 4
    assert value[4] == {"a": 1.5}


def test_lone_surrogates_are_parsed_into_text_when_escaped():
    value = decode(b'{"a": "x\\ud800y", "b": "\\ud83c\\udf89"}')
    assert value == {"a": "x\ud800y", "b": "🎉"}


@pytest.mark.parametrize("rest", [b"", b', "c": NaN'])
def test_duplicated_keys_keep_the_last_value_on_both_parsers(rest):
    value = decode(b'{"a": 1, "b": 2, "a": 3' + rest + b"}")
    assert value["a"] == 3 and value["b"] == 2


def test_byte_order_mark_is_ignored_when_present():
    assert decode(b"\xef\xbb\xbf" + EVENTS_JSON) == EVENTS


def test_emoji_rtl_and_nul_survive_decoding():
    text = "🎉 שלום مرحبا a\x00b"
    assert decode(json.dumps({"t": text}).encode()) == {"t": text}
    assert decode(json.dumps({"t": text}, ensure_ascii=False).encode()) == {"t": text}
