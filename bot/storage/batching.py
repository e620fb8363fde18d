"""Coalescing: requests that arrive while one batch is being served go into the next batch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

B = TypeVar("B")


class Coalescer(Generic[B]):
    """Gather requests into a batch while the previous batch is being served, then serve them
    with one call: a hundred commands at once cost a few database round trips, not a hundred,
    while a lone request is served at once. Used for shared prefetches and cache index writes.

    A caller takes `(batch, done) = queue()`, adds its request to `batch` before its next
    await, then awaits `wait(done)` (or does not, for fire-and-forget writes)."""

    def __init__(self, empty: Callable[[], B], serve: Callable[[B], Awaitable[None]]) -> None:
        self._empty = empty
        self._serve = serve
        self.gathering: B = empty()  # the batch that requests join now (not being served yet)
        self._done: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def queue(self) -> tuple[B, asyncio.Future[None]]:
        """The batch to add a request to, and the future its serving resolves."""
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="coalesced-batch")
        return self.gathering, self._done

    @staticmethod
    async def wait(done: asyncio.Future[None]) -> None:
        """Wait until the batch is served (or raise what serving it raised); one waiter giving
        up does not cancel the batch for the others."""
        await asyncio.shield(done)

    async def flush(self) -> None:
        """Wait until everything queued so far is served (or has failed)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    async def _run(self) -> None:
        while self._done is not None:
            batch, done = self.gathering, self._done
            self.gathering, self._done = self._empty(), None
            try:
                await self._serve(batch)
            except asyncio.CancelledError:  # shutting down: nobody waits for ever
                done.cancel()
                if self._done is not None:
                    self._done.cancel()
                self.gathering, self._done = self._empty(), None
                raise
            except Exception as exc:
                done.set_exception(exc)
                done.exception()  # a fire-and-forget request must not warn "never retrieved"
            else:
                done.set_result(None)
