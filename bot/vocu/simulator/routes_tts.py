"""Sync generation, streaming, replay, presets and VC upload (§12.1, 12.2, 12.8–12.10)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .audio import Segment
from .entities import new_id
from .errors import ApiError, resource_not_found
from .generation import parse_sync, run_sync, stream_audio
from .helpers import account_of, as_bool, decode_data_url, read_json, reply, state_of

_JSON_ONLY = ("billing", "estimatedDuration")

routes = web.RouteTableDef()


@routes.post("/api/tts/simple-generate")
async def simple_generate(request: web.Request) -> web.StreamResponse:
    """Sync TTS / VC: JSON with the audio URL, or MP3 bytes with `direct_stream`."""
    state, account = state_of(request), account_of(request)
    body = await read_json(request)
    job = parse_sync(state, account, body, get=False)
    direct = as_bool(body.get("direct_stream"))
    job.stream = job.stream or direct
    record, data = await run_sync(state, account, job)
    if direct:
        return await stream_audio(request, state, record, data)
    payload = {k: v for k, v in record.response_data.items() if k not in _JSON_ONLY}
    return reply(payload)


@routes.get("/api/tts/simple-generate")
@routes.get("/api/tts/simple-generate.mp3")
async def simple_generate_stream(request: web.Request) -> web.StreamResponse:
    """One-shot MP3 stream from query parameters (§12.2)."""
    state, account = state_of(request), account_of(request)
    params: dict[str, Any] = dict(request.query)
    job = parse_sync(state, account, params, get=True)
    job.stream = True
    record, data = await run_sync(state, account, job)
    return await stream_audio(request, state, record, data)


@routes.get("/api/tts/stream/{audio_id}")
async def replay(request: web.Request) -> web.StreamResponse:
    """Replay a sync result by audio id, without a new charge (PC-22)."""
    state, account = state_of(request), account_of(request)
    if not account.is_api_key:
        raise ApiError(403, "TTS_SESSION_TOKEN_NOT_ALLOWED")
    record = account.audios.get(request.match_info["audio_id"])
    stored = await state.storage.get(record.path) if record else None
    if record is None or stored is None or stored.data is None:
        raise resource_not_found()
    return await stream_audio(request, state, record, stored.data)


def _preset(key: str) -> dict[str, Any]:
    name = key.split("_")[1]
    temperature = {"creative": 1.1, "balance": 0.9, "stable": 0.7}[name]
    pro = key.endswith("_pro")
    return {
        "key": key,
        "i18n_name": key,
        "i18n_description": f"{key}Desc",
        "config": {
            "temperature": 1.0 if pro else temperature,
            "top_k": 512 if pro else 1024,
            "top_p": 1,
            "min_p": 0,
            "frequency_penalty": 0,
            "presence_penalty": 0,
            "repetition_penalty": 1,
            "volume": 1,
        },
    }


@routes.get("/api/tts/presets")
async def presets(request: web.Request) -> web.Response:
    """The sampling presets (PC-16); envelope without `message`."""
    keys = [
        f"{gen}_{name}{pro}"
        for gen in ("v2", "v3")
        for name in ("creative", "balance", "stable")
        for pro in ("", "_pro")
    ]
    return reply([_preset(key) for key in keys], message=False)


@routes.post("/api/tts/upload-audio")
async def upload_audio(request: web.Request) -> web.Response:
    """Accept a VC input as a data URL; returns `{url, duration}` (PC-40)."""
    state, account = state_of(request), account_of(request)
    body = await read_json(request)
    _, data = decode_data_url(body.get("audio"))
    cfg = state.config
    if len(data) > cfg.upload_audio_max_bytes:
        raise ApiError(413, "UPLOAD_TOO_LARGE")
    duration = await state.audio.probe(data) if data else None
    if duration is None:
        raise ApiError(400, "UPLOAD_AUDIO_INVALID", "Unable to parse the uploaded audio.")
    if duration > cfg.upload_audio_max_seconds:
        raise ApiError(400, "VALIDATION_TOO_LONG", "Audio is longer than 300 seconds.")
    upload_id = new_id()
    segments = (Segment(330.0, round(max(duration, 0.1), 2)),)
    url = state.storage.put_audio(f"vc-input/{upload_id}/{new_id()}.mp3", segments)
    account.uploads[url] = round(duration, 3)
    return reply({"url": url, "duration": round(duration, 3)})
