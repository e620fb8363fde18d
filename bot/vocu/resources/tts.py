"""Synchronous generation, MP3 byte streams, replay, presets and VC input upload."""

from __future__ import annotations

from typing import Any

import aiohttp

from .. import _conventions as conv
from ..errors import VocuValidationError
from ..models import GenerationParams, Preset, SyncResult, UploadedAudio
from ..streams import AudioStream
from . import Resource, bool_str, data_uri, model_list, require, seg

SIMPLE_GENERATE = "/api/tts/simple-generate"


def _request_fields(
    voice_id: str, text: str, style_id: str, params: GenerationParams | None
) -> dict[str, Any]:
    """Validated generation fields (wire names); raises before anything is sent."""
    if params is not None and not isinstance(params, GenerationParams):
        raise VocuValidationError("params must be a GenerationParams")
    require(text, "text")
    fields = params.to_wire() if params else {}
    fields.update(
        voiceId=require(voice_id, "voice_id"), text=text, promptId=require(style_id, "style_id")
    )
    return fields


def _query(fields: dict[str, Any]) -> dict[str, str]:
    """GET-variant query: PC-42 fields dropped, booleans as `true`/`false`."""
    query: dict[str, str] = {}
    for key, value in fields.items():
        if key in conv.GET_STREAM_OMITTED or value is None:
            continue
        query[key] = bool_str(value) if isinstance(value, bool) else str(value)
    return query


class TtsResource(Resource):
    """Sync text-to-speech: JSON result, POST/GET byte streams, replay."""

    async def generate(
        self,
        *,
        voice_id: str,
        text: str,
        style_id: str = "default",
        params: GenerationParams | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call HTTP timeout
    ) -> SyncResult:
        """Synthesize and wait for the MP3 URL (billable; may wait > 330 s when busy)."""
        body = _request_fields(voice_id, text, style_id, params)
        return await self._client._request(
            "POST",
            SIMPLE_GENERATE,
            SyncResult.model_validate,
            json=body,
            timeout=timeout or self._client.generate_timeout,
            billable=True,
        )

    def stream(
        self,
        *,
        voice_id: str,
        text: str,
        style_id: str = "default",
        params: GenerationParams | None = None,
        timeout: float | None = None,
    ) -> AudioStream:
        """`async with` an MP3 byte stream (POST `direct_stream: true`; billable)."""
        body = _request_fields(voice_id, text, style_id, params)
        body["direct_stream"] = True
        client = self._client
        idle = timeout or client.generate_timeout

        async def opener() -> aiohttp.ClientResponse:
            return await client._open_audio(
                "POST", SIMPLE_GENERATE, json=body, timeout=idle, billable=True
            )

        return AudioStream(opener)

    def stream_get(
        self,
        *,
        voice_id: str,
        text: str,
        style_id: str = "default",
        params: GenerationParams | None = None,
        timeout: float | None = None,
        mp3_suffix: bool = True,
    ) -> AudioStream:
        """The GET variant (`…/simple-generate.mp3`); no language/vivid/emo_switch (PC-42)."""
        query = _query(_request_fields(voice_id, text, style_id, params))
        path = SIMPLE_GENERATE + (".mp3" if mp3_suffix else "")
        client = self._client
        idle = timeout or client.generate_timeout

        async def opener() -> aiohttp.ClientResponse:
            return await client._open_audio("GET", path, params=query, timeout=idle, billable=True)

        return AudioStream(opener)

    def replay(self, audio_id: str, *, timeout: float | None = None) -> AudioStream:
        """Replay generated audio by its audio id, without a new charge (PC-22)."""
        path = conv.REPLAY_PATH.format(audio_id=seg(audio_id, "audio_id"))
        client = self._client

        async def opener() -> aiohttp.ClientResponse:
            return await client._open_audio("GET", path, timeout=timeout)

        return AudioStream(opener)

    async def presets(self) -> list[Preset]:
        """The server's sampling presets."""
        return await self._client._request("GET", "/api/tts/presets", model_list(Preset))

    async def upload_audio(self, *, audio: bytes, mime: str = "audio/mpeg") -> UploadedAudio:
        """Upload a voice-conversion input (≤ 100 MB, ≤ 300 s); use its URL as `input_audio`."""
        body = {"audio": data_uri(audio, mime, "audio")}
        return await self._client._request(
            "POST",
            "/api/tts/upload-audio",
            UploadedAudio.model_validate,
            json=body,
            timeout=self._client.generate_timeout,
        )
