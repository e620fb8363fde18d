"""File uploads (PC-27, legacy): chunked pro-clone ZIP upload and the simple upload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from .. import _conventions as conv
from ..errors import VocuValidationError
from ..models import UploadedFile
from . import Resource, require

FileSource = Path | AsyncIterable[bytes]


def _id_of(payload: Any) -> str:
    value = payload.get("id") if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value:
        raise TypeError("answer has no file id")
    return value


async def _path_chunks(path: Path, chunk_size: int) -> AsyncIterator[bytes]:
    """Read a file chunk by chunk in a worker thread (one chunk in memory at a time)."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, chunk_size):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


async def _rechunk(source: AsyncIterable[bytes], chunk_size: int) -> AsyncIterator[bytes]:
    """Re-slice arbitrary pieces into `chunk_size` parts, holding at most one part."""
    buffer = bytearray()
    async for piece in source:
        buffer += piece
        while len(buffer) >= chunk_size:
            yield bytes(buffer[:chunk_size])
            del buffer[:chunk_size]
    if buffer:
        yield bytes(buffer)


class FilesResource(Resource):
    """Multipart (chunked) and simple uploads."""

    async def new_file(self, type: str = "zip") -> str:
        """Start a chunked upload; returns the file id."""
        body = {"type": require(type, "type")}
        return await self._client._request("POST", conv.NEW_FILE_PATH, _id_of, json=body)

    async def upload_part(self, file_id: str, index: int, data: bytes) -> None:
        """Upload part `index` (0-based, contiguous) of a chunked upload."""
        require(file_id, "file_id")
        if index < 0 or not data:
            raise VocuValidationError("a part needs index >= 0 and non-empty data")

        def form() -> aiohttp.FormData:
            fd = aiohttp.FormData()
            fd.add_field("id", file_id)
            fd.add_field("index", str(index))
            fd.add_field("file", data, filename=f"part-{index}", content_type="application/zip")
            return fd

        await self._client._request(
            "POST",
            conv.UPLOAD_PART_PATH,
            lambda _: None,
            form=form,
            idempotent=True,
            timeout=self._client.generate_timeout,
        )

    async def finish(self, file_id: str) -> str:
        """Complete a chunked upload; returns the file id to use as `lora`."""
        body = {"id": require(file_id, "file_id")}

        def parse(payload: Any) -> str:
            return _id_of(payload) if isinstance(payload, dict) and payload.get("id") else file_id

        return await self._client._request("POST", conv.FINISH_PATH, parse, json=body)

    async def upload_chunked(
        self,
        source: FileSource,
        *,
        chunk_size: int = conv.DEFAULT_CHUNK_SIZE,
        type: str = "zip",
    ) -> str:
        """Upload a file or an async byte stream in parts; never holds more than one part."""
        if chunk_size <= 0:
            raise VocuValidationError("chunk_size must be positive")
        if isinstance(source, Path):
            if not source.is_file():
                raise VocuValidationError("source file does not exist")
            chunks = _path_chunks(source, chunk_size)
        else:
            chunks = _rechunk(source, chunk_size)
        file_id = await self.new_file(type)
        index = 0
        async for chunk in chunks:
            await self.upload_part(file_id, index, chunk)
            index += 1
        if index == 0:
            raise VocuValidationError("source is empty")
        return await self.finish(file_id)

    async def simple_upload(
        self, source: Path | bytes, *, filename: str | None = None, mime: str | None = None
    ) -> UploadedFile:
        """Upload one file in a single request; returns its id and URL."""
        if isinstance(source, Path):
            if not await asyncio.to_thread(source.is_file):
                raise VocuValidationError("source file does not exist")
        elif not source:
            raise VocuValidationError("source must not be empty")
        name = filename or (source.name if isinstance(source, Path) else "upload.bin")
        content_type = mime or "application/octet-stream"

        def form() -> aiohttp.FormData:
            fd = aiohttp.FormData()
            value: Any = source.open("rb") if isinstance(source, Path) else source
            fd.add_field("file", value, filename=name, content_type=content_type)
            return fd

        return await self._client._request(
            "POST",
            conv.SIMPLE_UPLOAD_PATH,
            UploadedFile.model_validate,
            form=form,
            timeout=self._client.generate_timeout,
        )
