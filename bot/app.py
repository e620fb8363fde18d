"""The shared resources of one running bot, created once in the entry point and passed along."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cache import AudioCache
from bot.limits import RateLimiter, UsageMeter
from bot.vocu.client import VocuClient

if TYPE_CHECKING:
    from bot.context import AudioReply, Courier
    from bot.storage import Storage
    from bot.storage.types import CacheEntry
    from bot.vocu.models import Voice

log = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(slots=True)
class Limits:
    """Bot-side limits; a refusal costs zero Vocu calls."""

    max_text_chars: int = 5000  # one /say
    request_chars: int = 1000  # one Vocu request; longer text is split at sentence boundaries
    clone_max_bytes: int = 100 * MB
    style_max_bytes: int = 20 * MB
    avatar_max_bytes: int = 10 * MB
    min_sample_seconds: float = 3.0
    voice_list_ttl: float = 30.0
    voice_ready_timeout: float = 600.0
    rate_per_minute: int = 12  # generation requests per user per minute (0 = off)
    daily_user_chars: int | None = 20_000  # per user per UTC day (None = unlimited)
    daily_chat_chars: int | None = 200_000  # per server / group per UTC day
    cache_bytes: int = 512 * MB  # audio cache on disk (0 = off)


@dataclass
class App:
    """Everything a command needs: Vocu, storage, limits, background work."""

    vocu: VocuClient
    storage: Storage
    data_dir: Path
    limits: Limits = field(default_factory=Limits)
    simulated: bool = False
    cache: AudioCache = field(init=False)
    rate_limiter: RateLimiter = field(init=False)
    usage: UsageMeter = field(init=False)
    couriers: dict[str, Courier] = field(default_factory=dict)  # platform -> sender by chat id
    _voice_cache: dict[int, tuple[float, list[Voice]]] = field(default_factory=dict)
    _user_clients: dict[str, VocuClient] = field(default_factory=dict)
    _pending_puts: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.cache = AudioCache(self.storage, self.data_dir / "cache", self.limits.cache_bytes)
        self.rate_limiter = RateLimiter(self.limits.rate_per_minute)
        self.usage = UsageMeter(self.storage)

    async def client_for(self, platform: str, user_id: str) -> VocuClient:
        """The Vocu client for this user: their own key if they set one, else the bot's."""
        key = await self.storage.get_user_key(platform, user_id)
        if not key:
            return self.vocu
        digest = hashlib.sha256(key.encode()).hexdigest()  # never keep the key as a dict key
        client = self._user_clients.get(digest)
        if client is None:
            client = VocuClient(key, base_url=self.vocu.base_url)
            self._user_clients[digest] = client
        return client

    async def forget_client(self, key: str) -> None:
        """Close the client of a key that was cleared or replaced."""
        client = self._user_clients.pop(hashlib.sha256(key.encode()).hexdigest(), None)
        if client is not None:
            self._voice_cache.pop(id(client), None)
            await client.close()

    async def close(self) -> None:
        """Close the per-user clients (the bot's own client belongs to the entry point)."""
        for client in self._user_clients.values():
            await client.close()
        self._user_clients.clear()

    async def voices(self, vocu: VocuClient, *, fresh: bool = False) -> list[Voice]:
        """The account's voices, cached briefly so /say stays one Vocu round trip."""
        now = time.monotonic()
        cached = self._voice_cache.get(id(vocu))
        if cached and not fresh and now - cached[0] < self.limits.voice_list_ttl:
            return cached[1]
        voices = await vocu.voices.list(show_market=True)
        self._voice_cache[id(vocu)] = (now, voices)
        return voices

    def forget_voices(self, vocu: VocuClient) -> None:
        """Drop the cached voice list after a change (create, delete, import, style)."""
        self._voice_cache.pop(id(vocu), None)

    async def cached_audio(self, cache_key: str) -> tuple[CacheEntry, bytes] | None:
        """Cached audio for `cache_key` (waiting for a put of it still in flight), or None."""
        await self._stored(cache_key)
        return await self.cache.get(cache_key)

    async def _stored(self, cache_key: str) -> None:
        """Wait until a background put of `cache_key`, if one is running, has finished."""
        pending = self._pending_puts.get(cache_key)
        if pending is not None:
            await asyncio.wait([pending])

    def store_audio(self, cache_key: str, reply: AudioReply) -> None:
        """Put generated audio in the cache in the background (delivery need not wait)."""
        task = self.spawn(self.cache.put(cache_key, reply), name=f"cache-{cache_key[:8]}")
        self._pending_puts[cache_key] = task
        task.add_done_callback(lambda _t: self._pending_puts.pop(cache_key, None))

    async def remember_file_id(self, cache_key: str | None, platform: str, file_id: str) -> None:
        """Remember a platform file id for cached audio, so a repeat is re-sent without upload."""
        if cache_key:
            await self._stored(cache_key)  # the entry must exist before it gets an id
            await self.cache.remember_file_id(cache_key, platform, file_id)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run background work (e.g. waiting for a clone) that `drain` can wait for."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self) -> None:
        """Wait until all background work has finished, and counted usage is written."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.usage.flush()
        await self.cache.flush()
