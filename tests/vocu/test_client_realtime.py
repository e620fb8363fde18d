"""The turbo WebSocket flow: simulator happy path, plus scripted 503/404/error frames."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any, cast

import pytest
from aiohttp import WSMsgType, web

from bot.vocu import PcmChunk, VocuClient
from bot.vocu import errors as E
from tests.media import tone
from tests.vocu.conftest import TinyServer, envelope


async def test_simulator_realtime_flow(vocu: VocuClient) -> None:
    voice = await vocu.voices.create(name="Turbo", prompt=tone(3.5))
    await vocu.voices.wait_ready(voice.id, timeout=30, interval=0.1)
    async with vocu.realtime.connect(voice.id) as rt:
        first = [c async for c in rt.synthesize("Hello there.")]
        second = [c async for c in rt.synthesize("Second request.", style_id="default")]
    for chunks in (first, second):
        assert chunks and all(isinstance(c, PcmChunk) for c in chunks)
        assert chunks[0].sample_rate == 24000 and chunks[0].bits == 16
        assert sum(len(c.pcm) for c in chunks) > 0


class Channel:
    """A scripted turbo channel: hello replies per connection, then audio for each request."""

    def __init__(self, hellos: list[Any]) -> None:
        self.hellos = hellos
        self.opened = 0
        self.connects = 0
        self.frames: list[dict[str, Any]] = []

    async def open(self, request: web.Request) -> web.Response:
        self.opened += 1
        host = request.host
        return envelope(
            {
                "turboChannelId": f"c{self.opened}",
                "wsUrl": f"ws://{host}/ws/c{self.opened}",
                "cancelAfter": 60,
            }
        )

    async def ws(self, request: web.Request) -> web.StreamResponse:
        assert "Authorization" not in request.headers  # PC-29: capability URL only
        hello = self.hellos[min(self.connects, len(self.hellos) - 1)]
        self.connects += 1
        if isinstance(hello, int):
            return web.Response(status=hello)  # rejected handshake
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        await sock.send_json(hello)
        if hello["type"] == "error":
            await sock.close()
            return sock
        async for msg in sock:
            if msg.type != WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            self.frames.append(frame)
            if frame["type"] == "synthesis_request":
                await self._answer(sock, frame["data"]["text"])
            elif frame["type"] == "close":
                break
        await sock.close()
        return sock

    async def _answer(self, sock: web.WebSocketResponse, text: str) -> None:
        if text == "broke":
            await sock.send_json(
                {
                    "type": "error",
                    "data": {
                        "status": 403,
                        "code": "BILLING_INSUFFICIENT_CREDIT",
                        "message": "top up",
                    },
                }
            )
            return
        pcm = {"sampleRate": 16000, "channels": 1, "bitsPerSample": 16}
        await sock.send_json({"type": "pong"})
        for i in range(3):
            await sock.send_json(
                {"type": "audio_chunk", "data": {"hex": bytes([i] * 4).hex(), "pcm": pcm}}
            )
        await sock.send_json({"type": "audio_chunk", "data": {"hex": "", "pcm": pcm}})
        await sock.send_json({"type": "synthesis_end", "data": {"status": 200}})


OK = {"type": "connected", "data": {"status": 200, "message": "OK, selected voiceId is v."}}
NOT_READY = {
    "type": "error",
    "data": {"status": 503, "message": "Waiting for Turbo Channel to be ready."},
}
GONE = {"type": "error", "data": {"status": 404, "message": "Not Found"}}


async def _serve(tiny: TinyServer, channel: Channel) -> None:
    tiny.route("POST", "/api/tts/turbo/channel", channel.open)
    tiny.app.router.add_get("/ws/{cid}", channel.ws)
    await tiny.start()


async def test_retry_on_503_and_reopen_on_404(tiny: TinyServer) -> None:
    channel = Channel([NOT_READY, 503, GONE, 404, OK])
    await _serve(tiny, channel)
    async with (
        tiny.client(ws_ping_interval=0.05) as vocu,
        vocu.realtime.connect("v", max_attempts=6) as rt,
    ):
        chunks = [c async for c in rt.synthesize("hi")]
        await asyncio.sleep(0.2)  # let a few keep-alive pings go out
        more = [c async for c in rt.synthesize("again")]
    assert [c.pcm for c in chunks] == [bytes([i] * 4) for i in range(3)]
    assert chunks[0].sample_rate == 16000 and len(more) == 3
    assert channel.opened == 3 and channel.connects == 5
    kinds = [f["type"] for f in channel.frames]
    assert "ping" in kinds and kinds[-1] == "close"


async def test_gives_up_after_attempts(tiny: TinyServer) -> None:
    await _serve(tiny, Channel([NOT_READY]))
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuConnectionError):
            async with vocu.realtime.connect("v", max_attempts=2):
                pass


async def test_other_handshake_status_raises(tiny: TinyServer) -> None:
    await _serve(tiny, Channel([403]))
    async with tiny.client() as vocu:
        with pytest.raises(E.Forbidden):
            async with vocu.realtime.connect("v"):
                pass


async def test_error_frame_and_abandoned_segment(tiny: TinyServer) -> None:
    await _serve(tiny, Channel([OK]))
    async with tiny.client() as vocu, vocu.realtime.connect("v") as rt:
        with pytest.raises(E.InsufficientCredit):
            async for _ in rt.synthesize("broke"):
                pass
        gen = cast(AsyncGenerator[PcmChunk, None], rt.synthesize("partial"))
        first = await gen.__anext__()
        await gen.aclose()  # consumer stops early: the rest is drained before the next request
        assert first.pcm == bytes([0] * 4)
        after = [c async for c in rt.synthesize("full")]
        assert len(after) == 3
        with pytest.raises(E.VocuValidationError):
            async for _ in rt.synthesize("  "):
                pass


async def test_connect_validation(tiny: TinyServer) -> None:
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuValidationError):
            vocu.realtime.connect("")
