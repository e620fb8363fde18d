"""Audio cache: identical requests reuse stored audio with zero Vocu calls and zero credits."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.context import AudioReply
from bot.storage import Storage
from bot.storage.batching import Coalescer
from bot.storage.types import CacheEntry

log = logging.getLogger(__name__)

# Keys that other processes sharing the database added show up in our index this much later
# (until then, a request for one of them is generated again, as a plain miss would be).
INDEX_REFRESH_SECONDS = 5.0


def cache_key(voice_id: str, style_id: str, params: dict[str, object], text: str) -> str:
    """A stable key for (voice, style, parameters, text)."""
    blob = json.dumps([voice_id, style_id, params, text], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(slots=True)
class _Batch:
    """Index writes waiting for the next transaction."""

    puts: dict[str, CacheEntry] = field(default_factory=dict)
    file_ids: list[tuple[str, str, str]] = field(default_factory=list)
    touches: set[str] = field(default_factory=set)


class AudioCache:
    """MP3 files under `directory`, indexed in storage, capped in total size (LRU eviction).

    The keys are also held in memory, so a miss (most requests) costs no database read."""

    def __init__(self, storage: Storage, directory: Path, max_bytes: int) -> None:
        self.storage = storage
        self.directory = directory
        self.max_bytes = max_bytes
        self._total: int | None = None  # bytes indexed, tracked here so puts rarely scan
        self._keys: set[str] = set()
        self._seen_until: datetime | None = None  # newest `created` read into `_keys`
        self._refresh_at = 0.0  # monotonic time of the next index refresh
        # writes queued while a transaction runs go together into the next one (group commit)
        self._writes = Coalescer(_Batch, self._commit)

    async def get(self, key: str) -> tuple[CacheEntry, bytes] | None:
        """The entry and its audio, or None (a missing file counts as a miss)."""
        if self.max_bytes <= 0:
            return None
        entry = self._writes.gathering.puts.get(key)  # queued, not yet committed
        if entry is None:
            if not await self._indexed(key):
                return None
            entry = await self.storage.cache_get(key)
        if entry is None:
            self._keys.discard(key)  # evicted by another process
            return None
        try:
            data = await asyncio.to_thread(Path(entry.path).read_bytes)
        except OSError:
            return None
        batch, _ = self._writes.queue()  # not awaited: the caller needs the audio, not the write
        batch.touches.add(key)
        return entry, data

    async def _indexed(self, key: str) -> bool:
        """Whether `key` is in the index (reading what other processes added, now and then)."""
        if key in self._keys:
            return True
        if time.monotonic() >= self._refresh_at:
            self._refresh_at = time.monotonic() + INDEX_REFRESH_SECONDS
            for found, created in await self.storage.cache_keys_since(self._seen_until):
                self._keys.add(found)
                if self._seen_until is None or created > self._seen_until:
                    self._seen_until = created
        return key in self._keys

    async def put(self, key: str, reply: AudioReply) -> None:
        """Store a generated clip and evict the least recently used beyond the cap."""
        if self.max_bytes <= 0:
            return
        path = self.directory / f"{key}.mp3"
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        try:
            await asyncio.to_thread(tmp.write_bytes, reply.mp3)
        except FileNotFoundError:  # the first put (or the directory was removed)
            self.directory.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(tmp.write_bytes, reply.mp3)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
        if self._total is None:
            self._total = await self.storage.cache_total_bytes()
        now = datetime.now(UTC)  # storage stamps the entry with its own clock
        batch, done = self._writes.queue()
        batch.puts[key] = CacheEntry(
            key=key,
            path=str(path),
            size=len(reply.mp3),
            created=now,
            last_used=now,
            duration=reply.duration,
            voice_name=reply.voice_name,
        )
        await Coalescer.wait(done)
        self._keys.add(key)
        self._total += len(reply.mp3)
        if self._total > self.max_bytes:  # only then read the index and evict
            removed = await self.storage.cache_evict(self.max_bytes)
            self._total = await self.storage.cache_total_bytes()
            self._keys.difference_update(Path(p).stem for p in removed)
            log.info("cache evicted %d file(s)", len(removed))

    async def remember_file_id(self, key: str, platform: str, file_id: str) -> None:
        """Store a platform's id of the uploaded clip with its entry (committed on return)."""
        if self.max_bytes <= 0:
            return
        batch, done = self._writes.queue()
        batch.file_ids.append((key, platform, file_id))
        await Coalescer.wait(done)

    async def flush(self) -> None:
        """Wait for every queued index write (e.g. touches) to be committed."""
        await self._writes.flush()

    async def _commit(self, batch: _Batch) -> None:
        await self.storage.cache_write_many(
            puts=batch.puts.values(), file_ids=batch.file_ids, touches=batch.touches
        )
