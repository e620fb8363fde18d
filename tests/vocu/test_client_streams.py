"""Download and byte-stream edge cases against a tiny scripted server."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from bot.vocu import errors as E
from bot.vocu.streams import AudioStream
from tests.vocu.conftest import TinyServer, envelope, error

MP3 = b"\xff\xfb" + b"\x00" * 5000


async def _audio(_: web.Request) -> web.Response:
    return web.Response(body=MP3, content_type="audio/mpeg")


async def _short(request: web.Request) -> web.StreamResponse:
    """Promise more bytes than are sent, then drop the connection."""
    resp = web.StreamResponse(headers={"Content-Length": str(len(MP3) * 2)})
    resp.content_type = "audio/mpeg"
    await resp.prepare(request)
    await resp.write(MP3)
    assert request.transport is not None
    request.transport.close()
    return resp


async def test_download_sends_no_credentials(tiny: TinyServer) -> None:
    tiny.route("GET", "/storage/a.mp3", _audio)
    await tiny.start()
    async with tiny.client() as vocu:
        data = b"".join([c async for c in vocu.download(f"{tiny.base_url}/storage/a.mp3")])
    assert data == MP3
    assert "Authorization" not in tiny.hits[0].headers  # PC-4


async def test_download_truncated(tiny: TinyServer) -> None:
    tiny.route("GET", "/storage/a.mp3", _short)
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuTruncatedStream):
            async for _ in vocu.download(f"{tiny.base_url}/storage/a.mp3"):
                pass
    assert tiny.count("/storage/a.mp3") == 1


async def test_download_expired_url(tiny: TinyServer) -> None:
    tiny.route("GET", "/storage/a.mp3", lambda _: _value(web.Response(status=410, text="gone")))
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuStatusError) as info:
            async for _ in vocu.download(f"{tiny.base_url}/storage/a.mp3"):
                pass
    assert info.value.status == 410


async def test_stream_stall_is_timeout(tiny: TinyServer) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "audio/mpeg"
        await resp.prepare(request)
        await resp.write(MP3[:100])
        await asyncio.sleep(3)
        return resp

    tiny.route("GET", "/api/tts/stream/a1", stall)
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuTimeout):
            async with vocu.tts.replay("a1", timeout=0.3) as stream:
                await stream.read()


async def test_stream_json_answers(tiny: TinyServer) -> None:
    ok_json = {"status": 200, "data": {"id": "x"}}
    body_error = {"status": 400, "code": "STREAM_FETCH_FAILED", "message": "m"}
    tiny.route("GET", "/api/tts/stream/ok", lambda _: _value(web.json_response(ok_json)))
    tiny.route("GET", "/api/tts/stream/bad", lambda _: _value(web.json_response(body_error)))
    tiny.route("GET", "/api/tts/stream/e", lambda _: _value(error(400, "STREAM_TIMEOUT")))
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuResponseError):
            async with vocu.tts.replay("ok"):
                pass
        with pytest.raises(E.BadRequest) as info:
            async with vocu.tts.replay("bad"):
                pass
        assert info.value.code == "STREAM_FETCH_FAILED"
        with pytest.raises(E.BadRequest):
            async with vocu.tts.replay("e"):
                pass


async def test_stream_metadata_header(tiny: TinyServer) -> None:
    async def with_header(_: web.Request) -> web.Response:
        meta = json.dumps(
            {
                "id": "a9",
                "credit_used": 5,
                "billing": {"characters": 5, "credits": 5},
                "estimatedDuration": 1.5,
            }
        )
        return web.Response(
            body=MP3,
            content_type="audio/mpeg",
            headers={"X-Reecho-Response-Data": meta, "X-Vocu-App-Request-Id": "r1"},
        )

    async def bad_header(_: web.Request) -> web.Response:
        return web.Response(body=MP3, headers={"X-Reecho-Response-Data": "{nope"})

    tiny.route("GET", "/api/tts/stream/h", with_header)
    tiny.route("GET", "/api/tts/stream/b", bad_header)
    await tiny.start()
    async with tiny.client() as vocu:
        async with vocu.tts.replay("h") as stream:
            assert stream.audio_id == "a9" and stream.request_id == "r1"
            assert stream.metadata.billing == {"characters": 5, "credits": 5}
            assert stream.metadata.estimated_duration == 1.5
            assert await stream.read() == MP3
        with pytest.raises(E.VocuResponseError):
            async with vocu.tts.replay("b"):
                pass


async def test_audio_stream_misuse(tiny: TinyServer) -> None:
    tiny.route("GET", "/api/tts/stream/a", _audio)
    await tiny.start()
    async with tiny.client() as vocu:
        stream: AudioStream = vocu.tts.replay("a")
        with pytest.raises(E.VocuError):
            await stream.read()  # not entered
        async with stream:
            with pytest.raises(E.VocuError):
                await stream.__aenter__()  # entered twice
            assert await stream.read() == MP3


async def test_simple_generate_stream_over_tiny(tiny: TinyServer) -> None:
    bodies: list[dict[str, object]] = []

    async def generate(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return await _audio(request)

    tiny.route("POST", "/api/tts/simple-generate", generate)
    await tiny.start()
    async with tiny.client() as vocu, vocu.tts.stream(voice_id="v", text="hi") as stream:
        assert await stream.read() == MP3
    assert bodies[0]["direct_stream"] is True and bodies[0]["promptId"] == "default"


async def test_client_reopens_after_close(tiny: TinyServer) -> None:
    tiny.route("GET", "/api/tts/presets", lambda _: _value(envelope([{"key": "v3_balance"}])))
    await tiny.start()
    vocu = tiny.client()
    async with vocu:
        assert (await vocu.tts.presets())[0].key == "v3_balance"
    assert (await vocu.tts.presets())[0].key == "v3_balance"  # lazily reopened
    await vocu.close()


async def _value(resp: web.StreamResponse) -> web.StreamResponse:
    return resp
