"""Low-latency PCM synthesis over the turbo WebSocket channel (legacy; PC-28 … PC-34).

Flow: `POST /api/tts/turbo/channel {voiceId}` → connect to `wsUrl` verbatim (a capability
URL: no credential is added, PC-29) → `connected` hello → `synthesis_request`s, answered by
`audio_chunk`s (hex PCM) ended by an empty `hex` and/or `synthesis_end`. Keep-alive pings run
in a background task; not-ready (503) retries after ~1 s, a missing channel (404) is reopened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp

from .. import _conventions as conv
from ..errors import (
    VocuConnectionError,
    VocuError,
    VocuResponseError,
    VocuStatusError,
    VocuTimeout,
    error_from_response,
)
from ..models import PcmChunk, TurboChannel
from . import Resource, require, seg

if TYPE_CHECKING:
    from ..client import VocuClient

_END = None  # sentinel event: the current segment is complete


class RealtimeResource(Resource):
    """Open low-latency sessions."""

    def connect(self, voice_id: str, *, max_attempts: int = 5) -> RealtimeSession:
        """`async with` a session bound to one voice for its lifetime."""
        seg(voice_id, "voice_id")
        return RealtimeSession(self._client, voice_id, max_attempts=max_attempts)

    async def open_channel(self, voice_id: str) -> TurboChannel:
        """Open a channel; connect to its `ws_url` within `cancel_after` seconds."""
        body = {"voiceId": require(voice_id, "voice_id")}
        return await self._client._request(
            "POST", conv.TURBO_CHANNEL_PATH, TurboChannel.model_validate, json=body
        )


class RealtimeSession:
    """One WebSocket to one channel; `synthesize()` calls are served one at a time."""

    def __init__(self, client: VocuClient, voice_id: str, *, max_attempts: int) -> None:
        self._client = client
        self.voice_id = voice_id
        self._max_attempts = max(1, max_attempts)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._skip_ends = 0  # synthesis_end frames owed by segments already ended by empty hex
        self._abandoned = 0  # segments whose consumer stopped early; drained before the next
        self.channel: TurboChannel | None = None

    async def __aenter__(self) -> RealtimeSession:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ connect

    async def _open(self) -> None:
        self.channel = await self._client.realtime.open_channel(self.voice_id)
        for _ in range(self._max_attempts):
            status, data = await self._try_connect(self.channel.ws_url)
            if status == 200:
                self._pinger = asyncio.create_task(self._ping_loop())
                return
            if status == conv.WS_GONE_STATUS:
                self.channel = await self._client.realtime.open_channel(self.voice_id)
            elif status == conv.WS_NOT_READY_STATUS:
                await asyncio.sleep(self._client.ws_retry_delay)
            else:
                raise error_from_response(status, data)
        raise VocuConnectionError(f"turbo channel not ready after {self._max_attempts} attempts")

    async def _try_connect(self, url: str) -> tuple[int, dict[str, Any]]:
        """Connect and read the hello: (200, {}) when ready, else the error status and data."""
        try:
            ws = await self._client.session.ws_connect(url, autoping=True, heartbeat=None)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, {}
        except aiohttp.ClientError as exc:
            raise VocuConnectionError(f"WebSocket connect failed: {type(exc).__name__}") from exc
        try:
            while True:
                frame = await self._receive(ws)
                kind, data = frame.get("type"), frame.get("data") or {}
                status = data.get("status", 200) if isinstance(data, dict) else 200
                if kind == "connected" and status == 200:
                    self._ws = ws
                    return 200, {}
                if kind in ("connected", "error"):
                    await ws.close()
                    return int(status), data if isinstance(data, dict) else {}
        except BaseException:
            await ws.close()
            raise

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        """The next JSON frame; a closed socket or a stall raises."""
        try:
            msg = await ws.receive(timeout=self._client.timeout)
        except TimeoutError as exc:
            raise VocuTimeout("no frame from the turbo channel in time") from exc
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise VocuConnectionError(f"turbo channel closed ({msg.type.name})")
        try:
            frame = json.loads(msg.data)
        except ValueError as exc:
            raise VocuResponseError("turbo channel sent a non-JSON frame") from exc
        if not isinstance(frame, dict):
            raise VocuResponseError("turbo channel sent a non-object frame")
        return frame

    async def _ping_loop(self) -> None:
        """PC-32: a `{"type":"ping"}` every interval; stops quietly when the socket closes."""
        with contextlib.suppress(Exception):
            while self._ws is not None and not self._ws.closed:
                await asyncio.sleep(self._client.ws_ping_interval)
                if self._ws is not None and not self._ws.closed:
                    await self._ws.send_json(conv.WS_PING_FRAME)

    # --------------------------------------------------------------- synthesis

    async def _next_event(self) -> PcmChunk | None:
        """The next audio chunk of the current segment, or None when it has ended."""
        if self._ws is None:
            raise VocuError("realtime session is not open")
        while True:
            frame = await self._receive(self._ws)
            kind, data = frame.get("type"), frame.get("data")
            data = data if isinstance(data, dict) else {}
            if kind == "audio_chunk":
                hex_pcm = data.get("hex") or ""
                if not hex_pcm:
                    self._skip_ends += 1
                    return _END
                return _chunk(hex_pcm, data.get("pcm"))
            if kind == "synthesis_end":
                if self._skip_ends:
                    self._skip_ends -= 1
                    continue
                return _END
            if kind == "error":
                raise error_from_response(int(data.get("status") or 500), data)
            # pong, connected and unknown frames carry nothing for the caller

    async def synthesize(self, text: str, style_id: str = "default") -> AsyncIterator[PcmChunk]:
        """Send one request and yield its PCM chunks until the segment ends."""
        require(text, "text")
        request = {
            "type": "synthesis_request",
            "data": {"text": text, "promptId": style_id or "default"},
        }
        async with self._lock:
            if self._ws is None or self._ws.closed:
                raise VocuConnectionError("realtime session is closed")
            while self._abandoned:
                if await self._next_event() is _END:
                    self._abandoned -= 1
            await self._ws.send_json(request)
            finished = False
            try:
                while (chunk := await self._next_event()) is not _END:
                    yield chunk
                finished = True
            except VocuStatusError:
                finished = True  # an error frame ends the request
                raise
            finally:
                if not finished:
                    self._abandoned += 1

    async def close(self) -> None:
        """Stop pinging, say `{"type":"close"}` and close the socket."""
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
            self._pinger = None
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.send_json(conv.WS_CLOSE_FRAME)
            await ws.close()


def _chunk(hex_pcm: str, pcm: Any) -> PcmChunk:
    fmt = pcm if isinstance(pcm, dict) else conv.WS_DEFAULT_PCM
    try:
        audio = bytes.fromhex(hex_pcm)
    except ValueError as exc:
        raise VocuResponseError("audio_chunk carries invalid hex") from exc
    return PcmChunk(
        pcm=audio,
        sample_rate=int(fmt.get("sampleRate", 24000)),
        channels=int(fmt.get("channels", 1)),
        bits=int(fmt.get("bitsPerSample", 16)),
    )
