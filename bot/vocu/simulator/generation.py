"""Synchronous generation shared by POST/GET simple-generate, replay and streaming (§12.1–12.2)."""

from __future__ import annotations

import asyncio
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .audio import Segment, pitch_for, speech_seconds
from .entities import USABLE_STATUSES, Style, Voice, new_id
from .errors import ApiError, bad_params, resource_not_found, voice_not_found
from .helpers import STREAMING_KEY, as_bool
from .state import Account, AudioRecord, SimState

#: Synthesis languages (§9); creation also accepts `ja-asmr`.
LANGUAGES = frozenset({"auto", "zh", "en-us", "ja", "ko", "fr-fr", "pt", "de", "es", "yue"})
#: Preset keys (PC-16): short names plus v2_/v3_ x creative/balance/stable (+ _pro).
PRESET_NAMES = ("creative", "balance", "stable")
PRESET_KEYS = frozenset(
    [
        *PRESET_NAMES,
        *(
            f"{gen}_{name}{pro}"
            for gen in ("v2", "v3")
            for name in PRESET_NAMES
            for pro in ("", "_pro")
        ),
    ]
)
_MARKERS = re.compile(r"\{\{.*?\}\}", re.S)


def count_chars(text: str) -> int:
    """Billable characters: Unicode code points after stripping `{{…}}` markers (PC-7)."""
    return len(_MARKERS.sub("", text))


def usable_voice(account: Account, voice_id: Any) -> Voice:
    """A voice that may generate; 404 / 409 VOICE_CREATING / 400 VOICE_CREATE_FAILED."""
    if not isinstance(voice_id, str) or not voice_id:
        raise bad_params("voiceId is required.")
    voice = account.find_voice(voice_id)
    if voice is None:
        raise voice_not_found()
    status = voice.status()
    if status == "creating":
        raise ApiError(409, "VOICE_CREATING")
    if status in ("failed", "lora-failed"):
        raise ApiError(400, "VOICE_CREATE_FAILED")
    if status not in USABLE_STATUSES:
        raise ApiError(400, "VOICE_NOT_TTS_READY")
    return voice


def pick_style(voice: Voice, prompt_id: Any, *, prefix: bool = False) -> Style:
    """The style to generate with (default `default`); 404 RESOURCE_NOT_FOUND when unknown."""
    wanted = prompt_id if isinstance(prompt_id, str) and prompt_id else "default"
    style = voice.style(wanted, prefix=prefix)
    if style is None:
        raise resource_not_found()
    return style


def lenient_rate(value: Any) -> float:
    """`speechRate` on the sync path: out of range or malformed is ignored (1.0)."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return 1.0
    return rate if 0.5 <= rate <= 2.0 else 1.0


def vc_input_duration(state: SimState, account: Account, url: Any) -> float | None:
    """Seconds of a valid VC input (an upload-audio URL or a generated file), else None."""
    if not isinstance(url, str):
        return None
    bare = url.split("?", 1)[0]
    if bare in account.uploads:
        return account.uploads[bare]
    path = state.storage.path_of(bare)
    return 3.0 if path is not None and path.startswith("generate/") else None


@dataclass
class SyncJob:
    """A validated sync generation request."""

    voice: Voice
    style: Style
    characters: int
    cost: int
    seconds: float
    stream: bool = False
    srt: bool = False
    params: dict[str, Any] = field(default_factory=dict)


def parse_sync(state: SimState, account: Account, params: dict[str, Any], *, get: bool) -> SyncJob:
    """Validate a sync request (lenient, §12.1); raises the documented errors."""
    if not account.is_api_key:
        raise ApiError(403, "TTS_SESSION_TOKEN_NOT_ALLOWED")
    if not account.is_paid:
        raise ApiError(403, "TTS_PAID_ONLY")
    emo = params.get("emo_switch")
    if not get and emo is not None and (not isinstance(emo, list) or len(emo) != 5):
        raise ApiError(400, "VALIDATION_INVALID_VALUE", "emo_switch must have 5 values.")
    voice = usable_voice(account, params.get("voiceId"))
    style = pick_style(voice, params.get("promptId"), prefix=get)
    instruct = as_bool(params.get("instruct_mode"))
    rate = lenient_rate(params.get("speechRate", 1.0))
    cfg = state.config
    input_audio = params.get("input_audio")
    if input_audio:
        duration = vc_input_duration(state, account, input_audio)
        if duration is None:
            raise ApiError(400, "TTS_INPUT_AUDIO_INVALID")
        cost = max(1, math.ceil(duration) * cfg.vc_credits_per_second)
        return SyncJob(voice, style, 0, cost, round(max(duration, cfg.min_audio_seconds), 2))
    if voice.version == "v4.0" and not instruct:
        raise ApiError(400, "VOICE_INSTRUCT_PATH_ONLY")
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_params("text is required.")
    if cfg.strict_text and len(text) > cfg.max_text_chars:
        raise ApiError(400, "VALIDATION_TOO_LONG")
    chars = count_chars(text)
    seconds = speech_seconds(chars, cfg.seconds_per_char, rate, cfg.min_audio_seconds)
    stream = as_bool(params.get("stream")) or as_bool(params.get("flash"))
    srt = as_bool(params.get("srt")) and not instruct and not as_bool(params.get("flash"))
    return SyncJob(voice, style, chars, chars, seconds, stream=stream, srt=srt, params=params)


async def _acquire_slot(state: SimState, account: Account) -> None:
    """PC-5 concurrency budget: wait a while for a slot, then 429 RATE_LIMIT_CONCURRENT."""
    cfg = state.config
    if cfg.enforce_sync_concurrency:
        limit = account.quota["syncBaseConcurrent"] + account.quota["syncPaidConcurrent"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + cfg.concurrency_wait_seconds
        while account.sync_active >= limit:
            if loop.time() >= deadline:
                raise ApiError(429, "RATE_LIMIT_CONCURRENT")
            await asyncio.sleep(0.02)
    account.sync_active += 1


async def run_sync(state: SimState, account: Account, job: SyncJob) -> tuple[AudioRecord, bytes]:
    """Charge, wait the generation latency, encode and store; refund if anything fails."""
    await _acquire_slot(state, account)
    try:
        split = account.charge(job.cost)
        try:
            if state.faults.generation_latency > 0:
                await asyncio.sleep(state.faults.generation_latency)
            segments = (Segment(pitch_for(job.voice.id, job.style.id), job.seconds),)
            data = await state.audio.mp3(segments)
        except BaseException:
            account.refund(split)
            raise
    finally:
        account.sync_active -= 1
    return _store_result(state, account, job, segments), data


def _store_result(
    state: SimState, account: Account, job: SyncJob, segments: tuple[Segment, ...]
) -> AudioRecord:
    """Register the result files and the replay record; build the response data."""
    audio_id = new_id()
    path = f"generate/{audio_id}/{new_id()}.mp3"
    data: dict[str, Any] = {"id": audio_id, "audio": state.storage.put_audio(path, segments)}
    if job.stream:
        state.storage.put_audio(f"generate/{audio_id}/stream.mp3", segments)
        data["streamUrl"] = state.storage.url(f"generate/{audio_id}/stream.mp3?auth={new_id()}")
    if job.srt:
        srt = f"1\n00:00:00,000 --> {_srt_time(job.seconds)}\n{job.params.get('text', '')}\n"
        data["srt"] = state.storage.put(
            f"generate/{audio_id}/{audio_id}.srt", srt.encode(), "text/plain"
        )
    data["credit_used"] = job.cost
    record = AudioRecord(path=path, response_data=dict(data))
    record.response_data["billing"] = {"characters": job.characters, "credits": job.cost}
    record.response_data["estimatedDuration"] = job.seconds
    account.audios[audio_id] = record
    return record


def _srt_time(seconds: float) -> str:
    millis = int(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02}:{minutes:02}:{secs:02},{millis:03}"


async def stream_audio(
    request: web.Request, state: SimState, record: AudioRecord, data: bytes
) -> web.StreamResponse:
    """Send MP3 bytes chunked with the §12.2 headers; honour `truncate_streams_after`."""
    audio_id = str(record.response_data["id"])
    response = web.StreamResponse(
        headers={
            "Content-Type": "audio/mpeg",
            "X-Accel-Buffering": "no",
            "Cache-Control": "no-cache",
            "X-Reecho-Audio-Id": audio_id,
            "X-Reecho-Response-Data": _header_json(record.response_data),
        }
    )
    response.enable_chunked_encoding()
    return await send_body(request, state, response, data)


async def send_body(
    request: web.Request, state: SimState, response: web.StreamResponse, data: bytes
) -> web.StreamResponse:
    """Prepare and write `data` in chunks; `truncate_streams_after` cuts the connection."""
    await response.prepare(request)
    request[STREAMING_KEY] = True
    limit = state.faults.truncate_streams_after
    body = data if limit is None else data[: max(0, limit)]
    step = max(1, state.config.stream_chunk_size)
    for offset in range(0, len(body), step):
        await response.write(body[offset : offset + step])
        await asyncio.sleep(0)
    if limit is not None and limit < len(data):
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response


def _header_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"))
