"""Coalescing: requests that arrive while one batch is being served go into the next batch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")


class Coalescer(Generic[K]):
    """Serve keys in batches: `serve(keys)` runs for every key submitted since the previous
    batch started, so a hundred commands at once cost a few database round trips, not a hundred,
    while a lone request is served at once."""

    def __init__(self, serve: Callable[[set[K]], Awaitable[None]]) -> None:
        self._serve = serve
        self._keys: set[K] = set()
        self._done: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, key: K) -> None:
        """Return once a batch including `key` has been served (or raise what it raised)."""
        self._keys.add(key)
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        done = self._done
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="coalesced-batch")
        await asyncio.shield(done)  # one waiter giving up must not cancel the others' batch

    async def _run(self) -> None:
        while self._done is not None:
            keys, done = self._keys, self._done
            self._keys, self._done = set(), None
            try:
                await self._serve(keys)
            except asyncio.CancelledError:
                done.cancel()
                raise
            except Exception as exc:
                done.set_exception(exc)
                done.exception()  # every waiter may be gone: nothing left to warn about
            else:
                done.set_result(None)
