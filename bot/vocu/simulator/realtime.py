"""Turbo channel: `POST /api/tts/turbo/channel` and the PCM WebSocket (§16, PC-28–PC-34)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

from .audio import Segment, pitch_for
from .entities import mono, new_id
from .errors import ApiError, bad_params
from .generation import count_chars, usable_voice
from .helpers import account_of, read_json, reply, state_of
from .state import Account, RequestRecord, SimState

routes = web.RouteTableDef()


@routes.post("/api/tts/turbo/channel")
async def open_channel(request: web.Request) -> web.Response:
    """Open a channel bound to one voice; answers a capability `wsUrl` (PC-29)."""
    state, account = state_of(request), account_of(request)
    if not state.config.turbo_enabled:
        raise ApiError(403, "AUTH_FORBIDDEN")
    body = await read_json(request)
    voice = usable_voice(account, body.get("voiceId"))
    if voice.version == "v1.0":
        raise bad_params("This voice does not support low-latency synthesis.")
    channel_id, token = new_id(), new_id().replace("-", "")
    cancel_after = state.config.turbo_cancel_after
    state.channels[channel_id] = {
        "key": account.key,
        "voiceId": voice.id,
        "token": token,
        "expires": mono() + cancel_after,
        "connected": False,
    }
    ws_base = "ws" + state.base_url.removeprefix("http")
    data = {
        "turboChannelId": channel_id,
        "wsUrl": f"{ws_base}/ws/turbo/{channel_id}?token={token}",
        "cancelAfter": cancel_after,
    }
    return reply(data)


def _frame(kind: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": kind} if data is None else {"type": kind, "data": data}


async def _refuse(ws: web.WebSocketResponse, status: int, message: str) -> web.WebSocketResponse:
    """PC-30: an error frame, then close."""
    await ws.send_json(_frame("error", {"status": status, "message": message}))
    await ws.close()
    return ws


async def _synthesise(
    ws: web.WebSocketResponse,
    state: SimState,
    account: Account,
    channel: dict[str, Any],
    data: dict[str, Any],
    path: str,
) -> None:
    """One `synthesis_request`: audio_chunk frames, an empty chunk, then synthesis_end."""
    record = RequestRecord("WS", path, account.key, 200, True)
    state.request_log.append(record)
    cfg = state.config
    try:
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_params("text is required.")
        voice = usable_voice(account, channel["voiceId"])
        prompt_id = str(data.get("promptId") or "default")
        if voice.style(prompt_id) is None:
            raise ApiError(404, "RESOURCE_NOT_FOUND")
        chars = count_chars(text)
        seconds = max(cfg.min_audio_seconds, chars * cfg.seconds_per_char)
        segments = (Segment(pitch_for(voice.id, prompt_id), round(seconds, 2)),)
        account.charge(chars)
    except ApiError as err:
        record.status = err.status
        error = {"status": err.status, "code": err.code, "message": err.message}
        await ws.send_json(_frame("error", error))
        return
    if state.faults.generation_latency > 0:
        await asyncio.sleep(state.faults.generation_latency)
    pcm = await state.audio.pcm(segments)
    fmt = {"sampleRate": cfg.sample_rate, "channels": 1, "bitsPerSample": 16}
    step = max(2, int(cfg.sample_rate * cfg.ws_chunk_seconds) * 2)
    for offset in range(0, len(pcm), step):
        chunk = pcm[offset : offset + step].hex()
        await ws.send_json(_frame("audio_chunk", {"hex": chunk, "pcm": fmt}))
    await ws.send_json(_frame("audio_chunk", {"hex": "", "pcm": fmt}))
    await ws.send_json(_frame("synthesis_end", {"status": 200}))


async def _serve(
    ws: web.WebSocketResponse, state: SimState, channel: dict[str, Any], path: str
) -> None:
    """Answer frames until the client closes or asks to."""
    account = state.account(channel["key"])
    async for message in ws:
        if message.type != WSMsgType.TEXT:
            if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
            continue
        try:
            frame = json.loads(message.data)
        except ValueError:
            await ws.send_json(_frame("error", {"status": 400, "message": "Invalid JSON."}))
            continue
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "ping":
            await ws.send_json(_frame("pong"))
        elif kind == "close":
            break
        elif kind == "synthesis_request":
            data = frame.get("data") if isinstance(frame.get("data"), dict) else {}
            account.advance()
            await _synthesise(ws, state, account, channel, data, path)
        else:
            await ws.send_json(_frame("error", {"status": 400, "message": "Unknown type."}))


@routes.get("/ws/turbo/{channel_id}")
async def channel_socket(request: web.Request) -> web.WebSocketResponse:
    """The channel WebSocket: hello, then synthesis/ping/close frames."""
    state = state_of(request)
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    state.websockets.add(ws)
    try:
        channel = state.channels.get(request.match_info["channel_id"])
        valid = channel is not None and request.query.get("token") == channel["token"]
        if (
            channel is None
            or not valid
            or (not channel["connected"] and mono() > channel["expires"])
        ):
            return await _refuse(ws, 404, "Not Found")
        if state.faults.take_ws_not_ready():
            return await _refuse(ws, 503, "Waiting for Turbo Channel to be ready.")
        channel["connected"] = True
        hello = {"status": 200, "message": f"OK, selected voiceId is {channel['voiceId']}."}
        await ws.send_json(_frame("connected", hello))
        await _serve(ws, state, channel, request.path)
        await ws.close()
    finally:
        state.websockets.discard(ws)
    return ws


async def close_all(state: SimState) -> None:
    """Close every open channel socket (on shutdown)."""
    for ws in list(state.websockets):
        await ws.close(code=1001, message=b"server shutdown")
