"""The error table, envelopes and secret hygiene, against a tiny scripted server."""

from __future__ import annotations

import asyncio
import socket
from typing import cast

import pytest
from aiohttp import web

from bot.vocu import VocuClient
from bot.vocu import errors as E
from tests.vocu.conftest import TinyServer, envelope, error

KEY = "sk-" + "t" * 32

TABLE = [
    (400, "VALIDATION_BAD_PARAMS", E.BadRequest),
    (400, "VALIDATION_INVALID_VALUE", E.BadRequest),
    (400, "TTS_CONTENTS_INVALID", E.BadRequest),
    (400, "VOICE_CREATE_FAILED", E.BadRequest),
    (400, "STREAM_TIMEOUT", E.BadRequest),
    (400, "SAFETY_CONTENT_REJECTED", E.BadRequest),
    (401, "AUTH_UNAUTHORIZED", E.Unauthorized),
    (403, "AUTH_FORBIDDEN", E.Forbidden),
    (403, "BILLING_INSUFFICIENT_CREDIT", E.InsufficientCredit),
    (403, "BILLING_QUOTA_EXCEEDED", E.Forbidden),
    (403, "TTS_PAID_ONLY", E.PaidOnly),
    (403, "TTS_SESSION_TOKEN_NOT_ALLOWED", E.PaidOnly),
    (403, "GENERATE_DELETE_IN_PROGRESS", E.Forbidden),
    (404, "VOICE_NOT_FOUND", E.NotFound),
    (404, "RESOURCE_NOT_FOUND", E.NotFound),
    (404, "GENERATE_NOT_FOUND", E.NotFound),
    (409, "VOICE_CREATING", E.VoiceCreating),
    (413, "UPLOAD_TOO_LARGE", E.TooLarge),
    (413, "VOICE_PROMPT_TOO_LARGE", E.TooLarge),
    (429, "RATE_LIMIT_EXCEEDED", E.RateLimited),
    (429, "RATE_LIMIT_CONCURRENT", E.RateLimited),
    (500, "SYSTEM_INTERNAL_ERROR", E.ServerError),
    (500, "TTS_GENERATE_FAILED", E.ServerError),
    (503, "VOICE_UNAVAILABLE", E.ServerError),
    (503, "NO_WORKER_AVAILABLE", E.ServerError),
    (503, "STORAGE_UNAVAILABLE", E.ServerError),
    (418, "SOMETHING_NEW", E.VocuStatusError),
]


@pytest.mark.parametrize(("status", "code", "cls"), TABLE)
async def test_error_table(tiny: TinyServer, status: int, code: str, cls: type) -> None:
    async def handler(_: web.Request) -> web.Response:
        return error(status, code, **({"Retry-After": "99"} if status == 429 else {}))

    tiny.route("GET", "/api/account/info", handler)
    await tiny.start()
    async with tiny.client(max_retries=0) as vocu:
        with pytest.raises(cls) as info:
            await vocu.account.info()
    err = cast(E.VocuStatusError, info.value)
    assert type(err) is cls
    assert (err.status, err.code, err.request_id) == (status, code, "rid-body")
    assert err.message == f"boom {code}"
    assert KEY not in str(err) and KEY not in repr(err)
    if isinstance(err, E.RateLimited):
        assert err.retry_after == 99


async def test_request_id_falls_back_to_header(tiny: TinyServer) -> None:
    tiny.route("GET", "/api/voice", lambda _: _async(error(404, "VOICE_NOT_FOUND", rid=None)))
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.NotFound) as info:
            await vocu.voices.list()
    assert info.value.request_id == "rid-header"


async def test_body_status_error_on_http_200(tiny: TinyServer) -> None:
    body = {"status": 403, "code": "TTS_PAID_ONLY", "message": "paid only"}
    tiny.route("GET", "/api/voice", lambda _: _async(web.json_response(body)))
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.PaidOnly) as info:
            await vocu.voices.list()
    assert info.value.status == 403


async def test_legacy_error_shape_and_plain_text_error(tiny: TinyServer) -> None:
    legacy = {"status": 400, "message": "请求参数错误"}
    tiny.route("GET", "/api/voice", lambda _: _async(web.json_response(legacy, status=400)))
    tiny.route("GET", "/api/tts/presets", lambda _: _async(web.Response(status=502, text="<html>")))
    await tiny.start()
    async with tiny.client(max_retries=0) as vocu:
        with pytest.raises(E.BadRequest) as info:
            await vocu.voices.list()
        assert info.value.code is None and info.value.message == "请求参数错误"
        with pytest.raises(E.ServerError) as info2:
            await vocu.tts.presets()
        assert info2.value.status == 502


@pytest.mark.parametrize(
    "reply",
    [
        web.Response(text="not json"),
        web.json_response([1, 2]),
        web.json_response({"status": 200, "message": "OK"}),  # no `data`
        web.json_response({"status": 200, "data": {"no": "id"}}),  # shape mismatch
    ],
)
async def test_bad_envelopes_raise_response_error(tiny: TinyServer, reply: web.Response) -> None:
    tiny.route("GET", "/api/voice/v1", lambda _: _async(reply))
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuResponseError):
            await vocu.voices.get("v1")


async def test_connection_refused_is_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with VocuClient(KEY, base_url=f"http://127.0.0.1:{port}", backoff_base=0.01) as vocu:
        with pytest.raises(E.VocuConnectionError) as info:
            await vocu.account.info()
    assert KEY not in str(info.value)


async def test_timeout_is_vocu_timeout(tiny: TinyServer) -> None:
    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return envelope([])

    tiny.route("GET", "/api/voice", slow)
    await tiny.start()
    async with tiny.client(timeout=0.2) as vocu:
        with pytest.raises(E.VocuTimeout):
            await vocu.voices.list()
    assert tiny.count("/api/voice") == 1  # a timeout is never re-sent


async def test_key_never_in_repr_and_auth_header_sent(tiny: TinyServer) -> None:
    tiny.route("GET", "/api/voice", lambda _: _async(envelope([])))
    await tiny.start()
    vocu = tiny.client(user_agent="ua-test/1")
    assert KEY not in repr(vocu) and KEY not in str(vars(vocu))
    async with vocu:
        assert await vocu.voices.list() == []
    request = tiny.hits[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["User-Agent"] == "ua-test/1"


def test_empty_api_key_rejected() -> None:
    with pytest.raises(E.VocuValidationError):
        VocuClient("  ")


def test_trace_id() -> None:
    body = {"status": 400, "code": "SAFETY_CONTENT_REJECTED", "traceId": "tr-1"}
    err = E.error_from_response(400, body)
    assert err.trace_id == "tr-1"
    assert E.error_from_response(400, {}).trace_id is None


def test_error_from_response_without_body() -> None:
    err = E.error_from_response(502, None, request_id="r")
    assert isinstance(err, E.ServerError) and err.request_id == "r"
    assert "status=502" in str(err) and "request_id=r" in str(err)


async def _async(value: web.Response) -> web.Response:
    return value
