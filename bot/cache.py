"""Audio cache: identical requests reuse stored audio with zero Vocu calls and zero credits."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import uuid
from pathlib import Path

from bot.context import AudioReply
from bot.storage import Storage
from bot.storage.types import CacheEntry

log = logging.getLogger(__name__)


def cache_key(voice_id: str, style_id: str, params: dict[str, object], text: str) -> str:
    """A stable key for (voice, style, parameters, text)."""
    blob = json.dumps([voice_id, style_id, params, text], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class AudioCache:
    """MP3 files under `directory`, indexed in storage, capped in total size (LRU eviction)."""

    def __init__(self, storage: Storage, directory: Path, max_bytes: int) -> None:
        self.storage = storage
        self.directory = directory
        self.max_bytes = max_bytes
        self._total: int | None = None  # bytes indexed, tracked here so puts rarely scan

    async def get(self, key: str) -> tuple[CacheEntry, bytes] | None:
        """The entry and its audio, or None (a missing file counts as a miss)."""
        if self.max_bytes <= 0:
            return None
        entry = await self.storage.cache_get(key)
        if entry is None:
            return None
        try:
            data = await asyncio.to_thread(Path(entry.path).read_bytes)
        except OSError:
            return None
        await self.storage.cache_touch(key)
        return entry, data

    async def put(self, key: str, reply: AudioReply) -> None:
        """Store a generated clip and evict the least recently used beyond the cap."""
        if self.max_bytes <= 0:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{key}.mp3"
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        await asyncio.to_thread(tmp.write_bytes, reply.mp3)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
        if self._total is None:
            self._total = await self.storage.cache_total_bytes()
        await self.storage.cache_put(
            key, str(path), len(reply.mp3), duration=reply.duration, voice_name=reply.voice_name
        )
        self._total += len(reply.mp3)
        if self._total > self.max_bytes:  # only then read the index and evict
            removed = await self.storage.cache_evict(self.max_bytes)
            self._total = await self.storage.cache_total_bytes()
            log.info("cache evicted %d file(s)", len(removed))
