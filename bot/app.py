"""The shared resources of one running bot, created once in the entry point and passed along."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.vocu.client import VocuClient

if TYPE_CHECKING:
    from bot.storage import Storage
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


@dataclass
class App:
    """Everything a command needs: Vocu, storage, limits, background work."""

    vocu: VocuClient
    storage: Storage
    data_dir: Path
    limits: Limits = field(default_factory=Limits)
    simulated: bool = False
    _voice_cache: dict[int, tuple[float, list[Voice]]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def client_for(self, platform: str, user_id: str) -> VocuClient:
        """The Vocu client to use for this user (their own key once they set one)."""
        return self.vocu

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

    async def remember_file_id(self, cache_key: str | None, platform: str, file_id: str) -> None:
        """Remember a platform file id for cached audio, so a repeat is re-sent without upload."""
        if cache_key:
            await self.storage.cache_set_file_id(cache_key, platform, file_id)

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
        """Wait until all background work has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
