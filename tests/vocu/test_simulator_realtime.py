"""Simulator turbo channel: channel opening and the PCM WebSocket protocol."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.vocu.simulator import Simulator
from tests.conftest import SimApi


async def _channel(sim_api: SimApi) -> dict[str, Any]:
    voice_id = await sim_api.voice_id()
    data: dict[str, Any] = await sim_api.data(
        "POST", "/api/tts/turbo/channel", json={"voiceId": voice_id}
    )
    return data


async def _synthesise(ws: aiohttp.ClientWebSocketResponse, text: str) -> tuple[bytes, list[Any]]:
    """Send one request; collect PCM until synthesis_end (returns the frames too)."""
    await ws.send_json({"type": "synthesis_request", "data": {"text": text, "promptId": "default"}})
    pcm, frames = bytearray(), []
    while True:
        frame = await ws.receive_json(timeout=5)
        frames.append(frame)
        if frame["type"] == "audio_chunk":
            pcm += bytes.fromhex(frame["data"]["hex"])
        elif frame["type"] in ("synthesis_end", "error"):
            return bytes(pcm), frames


async def test_channel_and_synthesis(sim_api: SimApi, simulator: Simulator, api_key: str) -> None:
    channel = await _channel(sim_api)
    assert channel["cancelAfter"] == 60
    assert channel["wsUrl"].startswith("ws://127.0.0.1:") and "?token=" in channel["wsUrl"]
    async with sim_api.session.ws_connect(channel["wsUrl"]) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "connected" and hello["data"]["status"] == 200
        pcm, frames = await _synthesise(ws, "Ten chars!")
        chunks = [f for f in frames if f["type"] == "audio_chunk"]
        assert len(chunks) >= 3 and chunks[-1]["data"]["hex"] == ""
        assert chunks[0]["data"]["pcm"] == {"sampleRate": 24000, "channels": 1, "bitsPerSample": 16}
        assert frames[-1] == {"type": "synthesis_end", "data": {"status": 200}}
        assert len(pcm) == int(0.6 * 24000) * 2
        assert (
            max(
                abs(int.from_bytes(pcm[i : i + 2], "little", signed=True))
                for i in range(0, len(pcm), 200)
            )
            > 1000
        )
        await ws.send_json({"type": "ping"})
        assert (await ws.receive_json(timeout=5)) == {"type": "pong"}
        second, _ = await _synthesise(ws, "Twenty characters!!!")
        assert len(second) > len(pcm)
        await ws.send_json({"type": "close"})
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert simulator.account(api_key).balance == 10000 - 30
    assert simulator.generation_calls(api_key) == 2


async def test_insufficient_credit_frame(
    sim_api: SimApi, simulator: Simulator, api_key: str
) -> None:
    channel = await _channel(sim_api)
    simulator.set_credits(api_key, credit=3, bonus=0)
    async with sim_api.session.ws_connect(channel["wsUrl"]) as ws:
        await ws.receive_json(timeout=5)
        pcm, frames = await _synthesise(ws, "too long for three")
        assert pcm == b"" and frames[-1]["type"] == "error"
        assert frames[-1]["data"]["status"] == 403
        assert frames[-1]["data"]["code"] == "BILLING_INSUFFICIENT_CREDIT"


async def test_not_ready_and_unknown_channel(sim_api: SimApi, simulator: Simulator) -> None:
    channel = await _channel(sim_api)
    simulator.faults.ws_not_ready_next = 1
    async with sim_api.session.ws_connect(channel["wsUrl"]) as ws:
        frame = await ws.receive_json(timeout=5)
        assert frame["type"] == "error" and frame["data"]["status"] == 503
        assert (await ws.receive(timeout=5)).type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
        )
    async with sim_api.session.ws_connect(channel["wsUrl"]) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "connected"
    bad = channel["wsUrl"].split("?")[0] + "?token=wrong"
    async with sim_api.session.ws_connect(bad) as ws:
        frame = await ws.receive_json(timeout=5)
        assert frame["type"] == "error" and frame["data"]["status"] == 404


async def test_channel_errors(sim_api: SimApi, simulator: Simulator) -> None:
    unknown = await sim_api.call("POST", "/api/tts/turbo/channel", json={"voiceId": "nope"})
    assert unknown.status == 404 and unknown.body["code"] == "VOICE_NOT_FOUND"
    simulator.config.turbo_enabled = False
    voice_id = await sim_api.voice_id()
    refused = await sim_api.call("POST", "/api/tts/turbo/channel", json={"voiceId": voice_id})
    assert refused.status == 403 and refused.body["code"] == "AUTH_FORBIDDEN"
