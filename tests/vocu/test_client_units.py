"""Small pure pieces: conventions, model helpers, parsers and odd WebSocket frames."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from aiohttp import web

from bot.vocu import Account, Task, Voice
from bot.vocu import _conventions as conv
from bot.vocu import errors as E
from bot.vocu.resources import model_list
from tests.vocu.conftest import TinyServer, envelope


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"voiceId": "a", "data": {"voiceId": "b"}}, "a"),
        ({"data": {"voiceId": "b", "id": "c"}}, "b"),
        ({"data": {"id": "c"}}, "c"),
        ({"data": "x"}, None),
        ({}, None),
    ],
)
def test_shared_voice_id_order(body: dict[str, Any], expected: str | None) -> None:
    assert conv.shared_voice_id(body) == expected


def test_speed_conversion() -> None:
    assert conv.speech_rate_from_speed(0.5) == 2.0


def test_model_helpers() -> None:
    task = Task.model_validate(
        {"id": "t", "status": "generated", "metadata": {"contents": [{"audio": "u1"}], "x": 1}}
    )
    assert task.audio == "u1" and task.is_done
    voice = Voice.model_validate(
        {"id": "v", "idForGenerate": "g", "status": "lora-success", "avatar": "a", "new": 1}
    )
    assert voice.generate_id == "g" and voice.is_usable and voice.avatar_url == "a"
    account = Account.model_validate(
        {"id": "u", "credits": 81, "credit": 2, "notifications": "99+"}
    )
    assert account.total_balance == 83 and account.notifications == "99+"
    with pytest.raises(TypeError):
        model_list(Voice)({"not": "a list"})


async def test_share_and_import_answer_shapes(tiny: TinyServer) -> None:
    voice = {"id": "new", "name": "n", "status": "pending", "metadata": {"prompts": []}}
    answers = iter(
        [
            {"status": 200, "data": {"voiceId": "new"}},  # id only: the client fetches the voice
            {"status": 200, "data": {}},  # no id at all
        ]
    )

    async def redeem(_: web.Request) -> web.Response:
        return web.json_response(next(answers))

    tiny.route("POST", "/api/voice/byShareId", redeem)
    tiny.route("GET", "/api/voice/new", lambda _: _v(envelope(voice)))
    tiny.route("GET", "/api/voice/v/share", lambda _: _v(envelope({"nope": 1})))
    await tiny.start()
    async with tiny.client() as vocu:
        assert (await vocu.voices.import_shared("s1")).id == "new"
        with pytest.raises(E.VocuResponseError):
            await vocu.voices.import_shared("s2")
        with pytest.raises(E.VocuResponseError):
            await vocu.voices.share("v")


async def test_transcript_shape_checked(tiny: TinyServer) -> None:
    tiny.route("GET", "/api/voice/v/prompt/default/stt", lambda _: _v(envelope({"t": 1})))
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuResponseError):
            await vocu.voices.get_transcript("v", "default")


async def test_create_voice_body_fields(tiny: TinyServer) -> None:
    bodies: list[dict[str, Any]] = []
    voice = {"id": "v", "status": "creating", "metadata": {"prompts": []}}

    async def create(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return envelope(voice)

    async def style(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return envelope(voice)

    tiny.route("POST", "/api/voice", create)
    tiny.route("POST", "/api/voice/v/prompt", style)
    await tiny.start()
    async with tiny.client() as vocu:
        await vocu.voices.create(name="n", prompt=b"abc", model_version="v4.0", vocal_filter=False)
        await vocu.voices.add_style("v", name="s", prompt=b"abc", description="d")
    assert bodies[0]["modelVersion"] == "v4.0" and bodies[0]["vocalFilter"] is False
    assert bodies[0]["prompt"].startswith("data:audio/mpeg;base64,")
    assert bodies[1]["description"] == "d" and bodies[1]["vocalFilter"] is True


async def test_finish_without_id_keeps_file_id(tiny: TinyServer) -> None:
    tiny.route("POST", "/api/editor/multipartUpload/finish", lambda _: _v(envelope({})))
    tiny.route("POST", "/api/editor/multipartUpload/newFile", lambda _: _v(envelope({})))
    await tiny.start()
    async with tiny.client() as vocu:
        assert await vocu.files.finish("f9") == "f9"
        with pytest.raises(E.VocuResponseError):
            await vocu.files.new_file()


OK = {"type": "connected", "data": {"status": 200}}


async def _weird_channel(tiny: TinyServer, frames: list[Any]) -> None:
    async def open_channel(request: web.Request) -> web.Response:
        return envelope({"turboChannelId": "c", "wsUrl": f"ws://{request.host}/ws"})

    async def ws(request: web.Request) -> web.StreamResponse:
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        await sock.send_json(OK)
        await sock.receive()  # the synthesis request
        for frame in frames:
            if isinstance(frame, bytes):
                await sock.send_bytes(frame)
            elif isinstance(frame, str):
                await sock.send_str(frame)
            else:
                await sock.send_json(frame)
        await sock.receive()
        return sock

    tiny.route("POST", "/api/tts/turbo/channel", open_channel)
    tiny.app.router.add_get("/ws", ws)
    await tiny.start()


@pytest.mark.parametrize(
    ("frames", "exc"),
    [
        (["not json"], E.VocuResponseError),
        ([json.dumps([1])], E.VocuResponseError),
        ([b"\x00\x01"], E.VocuConnectionError),
        ([{"type": "audio_chunk", "data": {"hex": "zz"}}], E.VocuResponseError),
        ([], E.VocuTimeout),
    ],
)
async def test_bad_frames(tiny: TinyServer, frames: list[Any], exc: type) -> None:
    await _weird_channel(tiny, frames)
    async with tiny.client(timeout=0.3) as vocu, vocu.realtime.connect("v") as rt:
        with pytest.raises(exc):
            async for _ in rt.synthesize("hi"):
                pass


async def test_default_pcm_and_end_without_empty_hex(tiny: TinyServer) -> None:
    frames = [
        {"type": "audio_chunk", "data": {"hex": "0102"}},
        {"type": "synthesis_end", "data": {"status": 200}},
    ]
    await _weird_channel(tiny, frames)
    async with tiny.client() as vocu, vocu.realtime.connect("v") as rt:
        chunks = [c async for c in rt.synthesize("hi")]
    assert chunks[0].pcm == b"\x01\x02" and chunks[0].sample_rate == 24000


async def test_ws_connect_refused(tiny: TinyServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tiny.route(
        "POST",
        "/api/tts/turbo/channel",
        lambda _: _v(envelope({"wsUrl": f"ws://127.0.0.1:{port}/ws"})),
    )
    await tiny.start()
    async with tiny.client() as vocu:
        with pytest.raises(E.VocuConnectionError):
            async with vocu.realtime.connect("v"):
                pass


async def test_closed_session_refuses_synthesis(tiny: TinyServer) -> None:
    await _weird_channel(tiny, [])
    async with tiny.client() as vocu:
        async with vocu.realtime.connect("v") as rt:
            pass
        with pytest.raises(E.VocuConnectionError):
            async for _ in rt.synthesize("hi"):
                pass
        with pytest.raises(E.VocuError):
            await rt._next_event()


async def _v(resp: web.StreamResponse) -> web.StreamResponse:
    return resp


async def test_task_audio_refetched_when_url_expired(tiny: TinyServer) -> None:
    hits = {"old": 0, "new": 0}

    async def old(_: web.Request) -> web.Response:
        hits["old"] += 1
        return web.Response(status=410)

    async def new(_: web.Request) -> web.Response:
        hits["new"] += 1
        return web.Response(body=b"MP3DATA", content_type="audio/mpeg")

    async def task(request: web.Request) -> web.Response:
        url = f"http://{request.host}/s/new.mp3"
        return envelope({"id": "t1", "status": "generated", "metadata": {"audio": url}})

    tiny.route("GET", "/s/old.mp3", old)
    tiny.route("GET", "/s/new.mp3", new)
    tiny.route("GET", "/api/tts/generate/t1", task)
    tiny.route("GET", "/s/gone.mp3", lambda _: _v(web.Response(status=500)))
    await tiny.start()
    stale = Task.model_validate(
        {"id": "t1", "status": "generated", "metadata": {"audio": f"{tiny.base_url}/s/old.mp3"}}
    )
    async with tiny.client() as vocu:
        data = b"".join([c async for c in vocu.tasks.iter_audio(stale)])
        assert data == b"MP3DATA" and hits == {"old": 1, "new": 1}
        with pytest.raises(E.VocuValidationError):
            async for _ in vocu.tasks.iter_audio(Task(id="t2")):
                pass
        broken = Task.model_validate(
            {"id": "t1", "metadata": {"audio": f"{tiny.base_url}/s/gone.mp3"}}
        )
        with pytest.raises(E.ServerError):
            async for _ in vocu.tasks.iter_audio(broken):
                pass
