"""Chunked and simple uploads (PC-27); the chunked upload's memory stays bounded."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.vocu import VocuClient
from bot.vocu import errors as E
from tests.vocu.conftest import TinyServer, envelope

MiB = 1024 * 1024


async def _pieces(total: int, piece: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        yield b"\x5a" * n
        sent += n


async def test_chunked_upload_from_generator(vocu: VocuClient, simulator: Any) -> None:
    file_id = await vocu.files.upload_chunked(_pieces(250_000, 7_000), chunk_size=100_000)
    assert file_id
    parts = [r for r in simulator.request_log if r.path.endswith("/uploadPart")]
    assert len(parts) == 3


async def test_chunked_upload_from_path(vocu: VocuClient, tmp_path: Path) -> None:
    source = tmp_path / "sample.zip"
    source.write_bytes(b"PK" + b"\0" * 150_000)
    assert await vocu.files.upload_chunked(source, chunk_size=64 * 1024)


async def test_manual_parts_and_gap(vocu: VocuClient) -> None:
    file_id = await vocu.files.new_file()
    await vocu.files.upload_part(file_id, 0, b"a" * 10)
    await vocu.files.upload_part(file_id, 2, b"c" * 10)
    with pytest.raises(E.BadRequest):
        await vocu.files.finish(file_id)  # parts must be contiguous


async def test_simple_upload(vocu: VocuClient, tmp_path: Path) -> None:
    uploaded = await vocu.files.simple_upload(b"hello", filename="a.txt", mime="text/plain")
    assert uploaded.id and uploaded.url
    path = tmp_path / "b.bin"
    path.write_bytes(b"\1" * 1000)
    assert (await vocu.files.simple_upload(path)).id


async def test_upload_validation_sends_nothing(
    vocu: VocuClient, simulator: Any, tmp_path: Path
) -> None:
    before = len(simulator.request_log)
    with pytest.raises(E.VocuValidationError):
        await vocu.files.upload_chunked(tmp_path / "missing.zip")
    with pytest.raises(E.VocuValidationError):
        await vocu.files.upload_chunked(_pieces(10, 10), chunk_size=0)
    with pytest.raises(E.VocuValidationError):
        await vocu.files.simple_upload(b"")
    with pytest.raises(E.VocuValidationError):
        await vocu.files.simple_upload(tmp_path / "missing.bin")
    with pytest.raises(E.VocuValidationError):
        await vocu.files.upload_part("f", -1, b"x")
    assert len(simulator.request_log) == before


async def test_empty_source_is_refused(vocu: VocuClient) -> None:
    with pytest.raises(E.VocuValidationError):
        await vocu.files.upload_chunked(_pieces(0, 1))


async def test_memory_bound_50_mb(tiny: TinyServer) -> None:
    """A 50 MB async source uploads with a peak far below its size (server discards bytes)."""
    received: list[int] = []

    async def new_file(_: web.Request) -> web.Response:
        return envelope({"id": "f1"})

    async def part(request: web.Request) -> web.Response:
        reader = await request.multipart()
        size = 0
        while (field := await reader.next()) is not None:
            if getattr(field, "name", None) == "file":
                while chunk := await field.read_chunk(64 * 1024):  # type: ignore[union-attr]
                    size += len(chunk)
            else:
                await field.read()  # type: ignore[union-attr]
        received.append(size)
        return envelope({"id": "f1", "index": len(received) - 1})

    async def finish(_: web.Request) -> web.Response:
        return envelope({"id": "f1"})

    tiny.route("POST", "/api/editor/multipartUpload/newFile", new_file)
    tiny.route("POST", "/api/editor/multipartUpload/uploadPart", part)
    tiny.route("POST", "/api/editor/multipartUpload/finish", finish)
    await tiny.start()
    chunk = 1 * MiB
    total = 50 * MiB
    async with tiny.client() as vocu:
        tracemalloc.start()
        try:
            file_id = await vocu.files.upload_chunked(_pieces(total, 256 * 1024), chunk_size=chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert file_id == "f1"
    assert sum(received) == total and len(received) == 50
    assert peak < 6 * chunk, f"peak {peak / MiB:.1f} MiB"
