"""Audio byte streams: truncation-aware body iteration and the `AudioStream` context manager."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

import aiohttp
from pydantic import ValidationError

from . import _conventions as conv
from .errors import VocuError, VocuResponseError, VocuTimeout, VocuTruncatedStream
from .models import StreamMetadata

DEFAULT_READ_CHUNK = 64 * 1024


async def iter_body(resp: aiohttp.ClientResponse, chunk_size: int) -> AsyncIterator[bytes]:
    """Yield the body in chunks; a short or dropped body raises VocuTruncatedStream (PC-24)."""
    rid = resp.headers.get(conv.REQUEST_ID_HEADER)
    expected = resp.content_length
    received = 0
    try:
        async for chunk in resp.content.iter_chunked(chunk_size):
            received += len(chunk)
            yield chunk
    except TimeoutError as exc:
        raise VocuTimeout(
            f"audio stream stalled after {received} bytes", status=resp.status, request_id=rid
        ) from exc
    except aiohttp.ClientError as exc:
        raise VocuTruncatedStream(
            f"audio stream ended early after {received} bytes",
            status=resp.status,
            request_id=rid,
        ) from exc
    if expected is not None and received < expected:
        raise VocuTruncatedStream(
            f"audio stream ended after {received} of {expected} bytes",
            status=resp.status,
            request_id=rid,
        )


def parse_stream_metadata(resp: aiohttp.ClientResponse) -> StreamMetadata:
    """The `X-Reecho-Response-Data` header as a model (empty when the header is absent)."""
    raw = resp.headers.get(conv.STREAM_DATA_HEADER)
    rid = resp.headers.get(conv.REQUEST_ID_HEADER)
    if not raw:
        return StreamMetadata()
    try:
        return StreamMetadata.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise VocuResponseError("malformed stream metadata header", request_id=rid) from exc


class AudioStream:
    """An MP3 byte stream; use `async with`, then `iter_chunks()` or `read()`.

    The request is sent on entering the context, so argument errors surface at call time
    and HTTP errors on `async with`. Nothing is retried once bytes may have flowed.
    """

    def __init__(
        self,
        opener: Callable[[], Awaitable[aiohttp.ClientResponse]],
        *,
        chunk_size: int = DEFAULT_READ_CHUNK,
    ) -> None:
        self._opener = opener
        self._chunk_size = chunk_size
        self._resp: aiohttp.ClientResponse | None = None
        self.metadata: StreamMetadata = StreamMetadata()
        self.audio_id: str | None = None
        self.request_id: str | None = None
        self.content_type: str | None = None

    async def __aenter__(self) -> AudioStream:
        if self._resp is not None:
            raise VocuError("AudioStream is already open")
        resp = await self._opener()
        try:
            self.metadata = parse_stream_metadata(resp)
        except BaseException:
            resp.release()
            raise
        self._resp = resp
        self.request_id = resp.headers.get(conv.REQUEST_ID_HEADER)
        self.audio_id = resp.headers.get(conv.STREAM_AUDIO_ID_HEADER) or self.metadata.id
        self.content_type = resp.content_type
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._resp is not None:
            self._resp.release()
            self._resp = None

    async def iter_chunks(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Yield MP3 bytes as they arrive."""
        if self._resp is None:
            raise VocuError("AudioStream is not open; use `async with`")
        async for chunk in iter_body(self._resp, chunk_size or self._chunk_size):
            yield chunk

    async def read(self) -> bytes:
        """The whole remaining body."""
        parts = [chunk async for chunk in self.iter_chunks()]
        return b"".join(parts)
