"""Simulator fault knobs, directly and through the `/_sim` control endpoints."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from bot.vocu.simulator import Simulator
from tests.conftest import SimApi


async def test_latency_and_generation_latency(sim_api: SimApi, simulator: Simulator) -> None:
    voice_id = await sim_api.voice_id()
    simulator.faults.latency = 0.15
    start = time.perf_counter()
    await sim_api.call("GET", "/api/account/info")
    assert time.perf_counter() - start >= 0.15
    simulator.faults.latency = 0
    simulator.faults.generation_latency = 0.2
    start = time.perf_counter()
    await sim_api.call("GET", "/api/tts/presets")
    assert time.perf_counter() - start < 0.15
    await sim_api.call("POST", "/api/tts/simple-generate", json={"voiceId": voice_id, "text": "a"})
    assert time.perf_counter() - start >= 0.2


async def test_fail_next_with_retry_after_and_filter(sim_api: SimApi, simulator: Simulator) -> None:
    simulator.faults.fail_next(2, path_contains="/account")
    simulator.faults.fail_next(1, status=503, code="NO_WORKER_AVAILABLE")
    voices = await sim_api.call("GET", "/api/voice")
    assert voices.status == 503 and voices.body["code"] == "NO_WORKER_AVAILABLE"
    assert "Retry-After" not in voices.headers
    for _ in range(2):
        limited = await sim_api.call("GET", "/api/account/info")
        assert limited.status == 429 and limited.headers["Retry-After"] == "1"
        assert limited.body["code"] == "RATE_LIMIT_EXCEEDED"
        assert limited.body["requestId"] == limited.headers["X-Vocu-App-Request-Id"]
    assert (await sim_api.call("GET", "/api/account/info")).status == 200
    statuses = [r.status for r in simulator.request_log]
    assert statuses == [503, 429, 429, 200]


async def test_forced_failure_still_counts_generation(
    sim_api: SimApi, simulator: Simulator, api_key: str
) -> None:
    voice_id = await sim_api.voice_id()
    simulator.faults.fail_next(1, status=500, code="SYSTEM_INTERNAL_ERROR")
    body = {"voiceId": voice_id, "text": "hello"}
    reply = await sim_api.call("POST", "/api/tts/simple-generate", json=body)
    assert reply.status == 500
    assert simulator.generation_calls(api_key) == 1
    assert simulator.account(api_key).balance == 10000


async def test_drop_next(sim_api: SimApi, simulator: Simulator, api_key: str) -> None:
    voice_id = await sim_api.voice_id()
    simulator.faults.drop_next(1, path_contains="simple-generate")
    assert (await sim_api.call("GET", "/api/account/info")).status == 200
    body = {"voiceId": voice_id, "text": "hello"}
    with pytest.raises(aiohttp.ClientConnectionError):
        await sim_api.call("POST", "/api/tts/simple-generate", json=body)
    assert (await sim_api.call("POST", "/api/tts/simple-generate", json=body)).status == 200
    assert [r.status for r in simulator.request_log][-3:] == [200, 0, 200]
    assert simulator.generation_calls(api_key) == 2


async def test_hang_next(sim_api: SimApi, simulator: Simulator) -> None:
    simulator.faults.hang_next(1, 2.0)
    timeout = aiohttp.ClientTimeout(total=0.2)
    with pytest.raises(asyncio.TimeoutError):
        await sim_api.call("GET", "/api/account/info", timeout=timeout)
    # only the next request hangs: this one answers (within the session's usual timeout, not
    # 0.2 s, which a loaded CI machine can exceed for a request that does not hang)
    assert (await sim_api.call("GET", "/api/account/info")).status == 200


async def test_truncated_streams(sim_api: SimApi, simulator: Simulator) -> None:
    voice_id = await sim_api.voice_id()
    text = "A fairly long sentence so that the audio is several kilobytes long. " * 3
    ok = await sim_api.data(
        "POST", "/api/tts/simple-generate", json={"voiceId": voice_id, "text": text}
    )
    simulator.faults.truncate_streams_after = 1000
    body = {"voiceId": voice_id, "text": text, "direct_stream": True}
    received = bytearray()
    with pytest.raises(aiohttp.ClientPayloadError):
        async with sim_api.session.post(
            sim_api.base_url + "/api/tts/simple-generate", json=body, headers=sim_api.headers()
        ) as response:
            assert response.status == 200
            async for chunk in response.content.iter_any():
                received += chunk
    assert len(received) == 1000
    with pytest.raises(aiohttp.ClientPayloadError):
        await sim_api.call("GET", ok["audio"], auth=False)


async def test_zero_credits_and_control_endpoint(sim_api: SimApi, simulator: Simulator) -> None:
    voice_id = await sim_api.voice_id()
    control = {
        "latency": 0.0,
        "generation_latency": 0.0,
        "fail_next": {"n": 1, "status": 503, "code": "VOICE_UNAVAILABLE"},
        "credits": {"key": sim_api.key, "credit": 0, "bonus": 0},
        "fail_tasks": True,
        "ws_not_ready_next": 1,
    }
    async with sim_api.session.post(sim_api.base_url + "/_sim/faults", json=control) as response:
        assert response.status == 200
        snapshot = await response.json()
    assert (
        snapshot["fail_tasks"] is True and snapshot["fail_next"][0]["code"] == "VOICE_UNAVAILABLE"
    )
    assert simulator.faults.ws_not_ready_next == 1
    first = await sim_api.call("GET", "/api/account/info")
    assert first.status == 503
    broke = await sim_api.call(
        "POST", "/api/tts/simple-generate", json={"voiceId": voice_id, "text": "hi"}
    )
    assert broke.status == 403 and broke.body["code"] == "BILLING_INSUFFICIENT_CREDIT"
    async with sim_api.session.post(
        sim_api.base_url + "/_sim/faults", json={"clear": True, "reset_log": True}
    ) as response:
        assert (await response.json())["fail_tasks"] is False
    assert simulator.request_log == []
    bad = await sim_api.call("POST", "/_sim/faults", json={"fail_next": {"bogus": 1}})
    assert bad.status == 400
