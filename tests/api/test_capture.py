"""Capture over real HTTP: every path and body form, CORS, keys, limits and slow clients."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import time
import uuid
from urllib.parse import quote

import httpx
import pytest

POSTHOG_PATHS = ["/batch", "/e", "/i/v0/e", "/capture", "/track"]


def ev(name: str = "clicked", distinct_id: str = "u1", **props) -> dict:
    return {
        "event": name,
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "properties": props,
    }


def post(server, path: str, body: bytes | dict | list, **kw) -> httpx.Response:
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
        kw.setdefault("headers", {}).setdefault("content-type", "application/json")
    return httpx.post(server.url + path, content=body, timeout=30, **kw)


@pytest.mark.parametrize("path", POSTHOG_PATHS)
@pytest.mark.parametrize("slash", ["", "/"])
def test_posthog_paths_answer_exactly_200_with_and_without_slash(shared_server, path, slash):
    body = {"api_key": shared_server.key, "batch": [ev()]}
    response = post(shared_server, path + slash, body)
    assert response.status_code == 200
    assert response.json()["status"] == 1 and response.json()["accepted"] == 1


def test_gzip_is_detected_by_magic_bytes_when_sent_as_text_plain(shared_server):
    body = gzip.compress(json.dumps({"api_key": shared_server.key, "batch": [ev()]}).encode())
    response = post(shared_server, "/e/", body, headers={"content-type": "text/plain"})
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_gzip_js_query_and_content_encoding_are_both_decompressed(shared_server):
    body = gzip.compress(json.dumps([ev(token=shared_server.key)]).encode())
    by_query = post(shared_server, "/e/?compression=gzip-js&ver=1.130", body)
    by_header = post(shared_server, "/batch/", body, headers={"content-encoding": "gzip"})
    assert (by_query.status_code, by_header.status_code) == (200, 200)


def test_base64_form_body_is_decoded_when_compression_is_base64(shared_server):
    data = base64.b64encode(json.dumps([ev(token=shared_server.key)]).encode()).decode()
    response = post(
        shared_server,
        "/e/?compression=base64",
        f"data={quote(data)}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_lz64_is_refused_with_400_saying_so(shared_server):
    response = post(
        shared_server,
        "/e/?compression=lz64",
        b"data=abc",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unsupported_compression"


def test_valid_events_are_kept_when_neighbours_are_rejected(shared_server):
    body = {
        "api_key": shared_server.key,
        "batch": [ev("ok"), {"distinct_id": "u1"}, ev("ok-2"), "not an event"],
    }
    response = post(shared_server, "/batch/", body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 2
    assert [(r["index"], r["code"], r["field"]) for r in answer["rejected"]] == [
        (1, "missing_event", "event"),
        (3, "not_an_object", answer["rejected"][1]["field"]),
    ]


def test_batch_of_only_invalid_events_gets_400_with_every_verdict(shared_server):
    body = {"api_key": shared_server.key, "batch": [{"distinct_id": "x"}, {"event": "e"}]}
    response = post(shared_server, "/batch/", body)
    assert response.status_code == 400
    codes = [(e["index"], e["code"]) for e in response.json()["errors"]]
    assert codes == [(0, "missing_event"), (1, "missing_distinct_id")]


def test_unknown_or_missing_write_key_is_401(shared_server):
    unknown = post(shared_server, "/batch/", {"api_key": "phc_nope", "batch": [ev()]})
    missing = post(shared_server, "/batch/", {"batch": [ev()]})
    assert (unknown.status_code, missing.status_code) == (401, 401)
    assert unknown.json()["errors"][0]["code"] == "invalid_write_key"


def test_invalid_json_and_gzip_get_400_with_a_clear_message(shared_server):
    bad_json = post(
        shared_server, "/batch/", b'{"api_key": ', headers={"content-type": "application/json"}
    )
    bad_gzip = post(shared_server, "/batch/", b"\x1f\x8b\x08garbage")
    assert bad_json.status_code == 400 and bad_json.json()["errors"][0]["code"] == "invalid_json"
    assert bad_gzip.status_code == 400 and bad_gzip.json()["errors"][0]["code"] == "invalid_gzip"


def test_body_over_the_limit_is_413(shared_server):
    huge = b"[" + b" " * (21 * 1024 * 1024) + b"]"
    response = post(shared_server, "/batch/", huge, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "body_too_large"


def test_segment_calls_accept_basic_auth_and_one_letter_paths(shared_server):
    auth = "Basic " + base64.b64encode(f"{shared_server.key}:".encode()).decode()
    track = {"type": "track", "event": "Signed Up", "userId": "s1", "messageId": "ajs-1"}
    full = post(shared_server, "/v1/track", track, headers={"authorization": auth})
    letter = post(
        shared_server,
        "/v1/t",
        json.dumps({**track, "messageId": "ajs-2", "writeKey": shared_server.key}).encode(),
        headers={"content-type": "text/plain"},
    )
    unknown = post(shared_server, "/v1/frobnicate", track, headers={"authorization": auth})
    assert (full.status_code, letter.status_code) == (200, 200)
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["code"] == "unknown_segment_call"


def test_native_events_take_a_bearer_key(shared_server):
    response = post(
        shared_server,
        "/api/v1/events",
        {"events": [{"event": "native", "distinct_id": "n1", "id": "n-1"}]},
        headers={"authorization": f"Bearer {shared_server.key}"},
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_browser_preflight_echoes_origin_with_credentials(shared_server):
    response = httpx.options(
        shared_server.url + "/e/",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "content-type" in response.headers["access-control-allow-headers"]
    posted = post(
        shared_server,
        "/e/",
        [ev(token=shared_server.key)],
        headers={"Origin": "https://app.example", "content-type": "application/json"},
    )
    assert posted.headers["access-control-allow-origin"] == "https://app.example"


def test_sdk_startup_calls_get_the_answers_that_keep_sdks_quiet(shared_server):
    config_js = httpx.get(shared_server.url + f"/array/{shared_server.key}/config.js")
    config = httpx.get(shared_server.url + f"/array/{shared_server.key}/config")
    flags = httpx.post(shared_server.url + "/flags/?v=2", content=b"{}")
    decide = httpx.post(shared_server.url + "/decide/?v=3", content=b"{}")
    assert config_js.status_code == 404
    assert config.json()["supportedCompression"] == ["gzip", "gzip-js"]
    expected = {"flags": {}, "featureFlags": {}, "errorsWhileComputingFlags": False}
    assert flags.json() == expected and decide.json() == expected


def test_unknown_route_gets_json_404(shared_server):
    response = httpx.get(shared_server.url + "/nowhere")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_control_api_refuses_a_wrong_token(shared_server):
    response = httpx.get(shared_server.url + "/api/v1/info", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_credentials"


def test_accepted_events_are_stored_once_when_client_retries(live_server):
    batch = {"api_key": live_server.key, "batch": [ev("a"), ev("b")]}
    assert post(live_server, "/batch/", batch).status_code == 200
    assert post(live_server, "/batch/", batch).status_code == 200
    assert live_server.wait_rows(2) == 2
    time.sleep(0.3)
    assert live_server.rows() == 2


@pytest.mark.serial  # a latency bound: not beside another worker
def test_slow_body_gets_408_and_other_clients_are_served_meanwhile(server_factory):
    server = server_factory({"SEXTANT_BODY_TIMEOUT_SECONDS": "1"})
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as slow:
        slow.sendall(
            b"POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"api_key":'
        )
        started = time.monotonic()
        fast = post(server, "/batch/", {"api_key": server.key, "batch": [ev()]})
        assert fast.status_code == 200 and time.monotonic() - started < 1
        slow.settimeout(10)
        answer = slow.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 408")
    assert "body_timeout" in answer


def test_idle_connection_is_closed_by_the_server(shared_server):
    host, port = shared_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as idle:
        idle.settimeout(15)
        started = time.monotonic()
        assert idle.recv(1) == b""  # closed without a request
        assert time.monotonic() - started < 15


def test_oversized_headers_get_an_answer_not_a_hang(shared_server):
    response = httpx.post(
        shared_server.url + "/batch/",
        content=b"{}",
        headers={"x-big": "a" * 200_000},
        timeout=10,
    )
    assert 400 <= response.status_code < 500


def test_json_body_labelled_as_form_is_read_as_json(shared_server):
    body = json.dumps({"api_key": shared_server.key, "batch": [ev()]}).encode()
    response = post(
        shared_server,
        "/batch/",
        body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1
