"""Retry policy with counted attempts (tiny scripted server, short back-offs)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiohttp import web

from bot.vocu import errors as E
from tests.vocu.conftest import Handler, TinyServer, envelope, error

VOICE = {"id": "v1", "name": "n", "status": "pending", "metadata": {"prompts": []}}
SYNC = {"id": "a1", "audio": "http://x/a.mp3", "credit_used": 3}


def script(*replies: Callable[[], web.StreamResponse]) -> Handler:
    """A handler answering with the given replies in turn (the last one repeats)."""
    calls = {"n": 0}

    async def handler(_: web.Request) -> web.StreamResponse:
        index = min(calls["n"], len(replies) - 1)
        calls["n"] += 1
        return replies[index]()

    return handler


async def test_429_honours_retry_after_then_succeeds(tiny: TinyServer) -> None:
    tiny.route(
        "GET",
        "/api/voice/v1",
        script(
            lambda: error(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "0.3"}),
            lambda: envelope(VOICE),
        ),
    )
    await tiny.start()
    async with tiny.client() as vocu:
        started = time.monotonic()
        voice = await vocu.voices.get("v1")
        elapsed = time.monotonic() - started
    assert voice.id == "v1"
    assert tiny.count("/api/voice/v1") == 2
    assert elapsed >= 0.3


async def test_retry_after_beyond_cap_is_raised_at_once(tiny: TinyServer) -> None:
    tiny.route(
        "GET",
        "/api/voice/v1",
        script(lambda: error(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "120"})),
    )
    await tiny.start()
    async with tiny.client(retry_after_cap=5) as vocu:
        with pytest.raises(E.RateLimited) as info:
            await vocu.voices.get("v1")
    assert info.value.retry_after == 120
    assert tiny.count("/api/voice/v1") == 1


async def test_retry_after_http_date(tiny: TinyServer) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past: retry at once
    tiny.route(
        "GET",
        "/api/voice/v1",
        script(
            lambda: error(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": date}),
            lambda: envelope(VOICE),
        ),
    )
    await tiny.start()
    async with tiny.client() as vocu:
        await vocu.voices.get("v1")
    assert tiny.count("/api/voice/v1") == 2


@pytest.mark.parametrize(
    ("status", "code"), [(503, "NO_WORKER_AVAILABLE"), (500, "SYSTEM_INTERNAL_ERROR"), (502, None)]
)
async def test_5xx_retried_at_most_twice(tiny: TinyServer, status: int, code: str | None) -> None:
    tiny.route("GET", "/api/voice/v1", script(lambda: error(status, code)))
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.ServerError):
            await vocu.voices.get("v1")
    assert tiny.count("/api/voice/v1") == 3


async def test_max_retries_zero(tiny: TinyServer) -> None:
    tiny.route("GET", "/api/voice/v1", script(lambda: error(503, "VOICE_UNAVAILABLE")))
    await tiny.start()
    async with tiny.client(max_retries=0) as vocu:
        with pytest.raises(E.ServerError):
            await vocu.voices.get("v1")
    assert tiny.count("/api/voice/v1") == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "VALIDATION_BAD_PARAMS"),
        (401, "AUTH_UNAUTHORIZED"),
        (403, "AUTH_FORBIDDEN"),
        (404, "VOICE_NOT_FOUND"),
        (409, "VOICE_CREATING"),
    ],
)
async def test_other_4xx_never_retried(tiny: TinyServer, status: int, code: str) -> None:
    tiny.route("GET", "/api/voice/v1", script(lambda: error(status, code)))
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuStatusError):
            await vocu.voices.get("v1")
    assert tiny.count("/api/voice/v1") == 1


async def test_billable_generation_not_resent_after_500(tiny: TinyServer) -> None:
    tiny.route(
        "POST", "/api/tts/simple-generate", script(lambda: error(500, "TTS_GENERATE_FAILED"))
    )
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.ServerError):
            await vocu.tts.generate(voice_id="v1", text="hello")
    assert tiny.count("/api/tts/simple-generate") == 1


async def test_billable_generation_retried_after_429_and_503(tiny: TinyServer) -> None:
    tiny.route(
        "POST",
        "/api/tts/simple-generate",
        script(
            lambda: error(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "0"}),
            lambda: error(503, "VOICE_UNAVAILABLE"),
            lambda: envelope(SYNC),
        ),
    )
    await tiny.start()
    async with tiny.client() as vocu:
        result = await vocu.tts.generate(voice_id="v1", text="hello")
    assert result.credit_used == 3
    assert tiny.count("/api/tts/simple-generate") == 3


async def _drop(request: web.Request) -> web.StreamResponse:
    assert request.transport is not None
    request.transport.close()
    await asyncio.sleep(0.05)
    return web.Response()


async def test_dropped_connection_retried_for_idempotent_get(tiny: TinyServer) -> None:
    calls = {"n": 0}

    async def handler(request: web.Request) -> web.StreamResponse:
        calls["n"] += 1
        if calls["n"] <= 2:
            return await _drop(request)
        return envelope(VOICE)

    tiny.route("GET", "/api/voice/v1", handler)
    await tiny.start()
    async with tiny.client() as vocu:
        assert (await vocu.voices.get("v1")).id == "v1"
    assert calls["n"] == 3


async def test_dropped_connection_never_resends_generation(tiny: TinyServer) -> None:
    tiny.route("POST", "/api/tts/simple-generate", _drop)
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuConnectionError):
            await vocu.tts.generate(voice_id="v1", text="hello")
    assert tiny.count("/api/tts/simple-generate") == 1


async def test_cancelled_call_is_not_retried(tiny: TinyServer) -> None:
    started = asyncio.Event()

    async def slow(_: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(5)
        return envelope(SYNC)

    tiny.route("POST", "/api/tts/simple-generate", slow)
    await tiny.start()
    async with tiny.client() as vocu:
        call = asyncio.create_task(vocu.tts.generate(voice_id="v1", text="hello"))
        await started.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.sleep(0.1)
    assert tiny.count("/api/tts/simple-generate") == 1


async def test_cancel_during_backoff_stops_retrying(tiny: TinyServer) -> None:
    tiny.route(
        "GET",
        "/api/voice/v1",
        script(lambda: error(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "5"})),
    )
    await tiny.start()
    async with tiny.client() as vocu:
        call = asyncio.create_task(vocu.voices.get("v1"))
        await asyncio.sleep(0.2)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    assert tiny.count("/api/voice/v1") == 1


async def test_connect_failure_is_retried(
    tiny: TinyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused connection reached nobody: retried (then it succeeds once the server is up)."""
    tiny.route("GET", "/api/voice/v1", script(lambda: envelope(VOICE)))
    await tiny.start()
    vocu = tiny.client()
    real = vocu.session.request
    attempts = {"n": 0}

    async def flaky(*args: object, **kw: object) -> object:
        attempts["n"] += 1
        if attempts["n"] == 1:
            import aiohttp
            from aiohttp.client_reqrep import ConnectionKey

            key = ConnectionKey("127.0.0.1", 1, False, True, None, None, None)
            raise aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
        return await real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(vocu.session, "request", flaky)
    async with vocu:
        assert (await vocu.voices.get("v1")).id == "v1"
    assert attempts["n"] == 2 and tiny.count("/api/voice/v1") == 1
