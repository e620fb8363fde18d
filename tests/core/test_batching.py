"""The Coalescer behind shared prefetches and cache index writes: batches, failures, a waiter
giving up."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage.batching import Coalescer


async def submit(coalescer: Coalescer[set[int]], key: int) -> None:
    """Queue `key` and wait until its batch is served (as a prefetch does)."""
    keys, done = coalescer.queue()
    keys.add(key)
    await Coalescer.wait(done)


class _Server:
    """Serves batches slowly, recording them; fails the batches it is told to."""

    def __init__(self) -> None:
        self.batches: list[set[int]] = []
        self.fail: set[int] = set()  # batch numbers (0-based) that raise

    async def serve(self, keys: set[int]) -> None:
        self.batches.append(keys)
        await asyncio.sleep(0.02)
        if len(self.batches) - 1 in self.fail:
            raise OSError("database is locked")


async def test_keys_arriving_while_a_batch_runs_share_the_next() -> None:
    server = _Server()
    coalescer = Coalescer(set, server.serve)
    first = asyncio.create_task(submit(coalescer, 0))
    await asyncio.sleep(0.005)  # batch 0 ({0}) is being served
    await asyncio.gather(first, *(submit(coalescer, n) for n in range(1, 50)))
    assert server.batches == [{0}, set(range(1, 50))]
    await submit(coalescer, 7)  # a lone request later: served at once, alone
    assert server.batches[-1] == {7}


async def test_a_failed_batch_fails_its_waiters_only() -> None:
    server = _Server()
    server.fail = {0}
    coalescer = Coalescer(set, server.serve)
    results = await asyncio.gather(
        submit(coalescer, 1), submit(coalescer, 2), return_exceptions=True
    )
    assert [type(r) for r in results] == [OSError, OSError]
    await submit(coalescer, 3)  # the next batch is served normally
    assert server.batches == [{1, 2}, {3}]


async def test_a_waiter_giving_up_does_not_cancel_the_others() -> None:
    server = _Server()
    coalescer = Coalescer(set, server.serve)
    impatient = asyncio.create_task(submit(coalescer, 1))
    patient = asyncio.create_task(submit(coalescer, 2))
    await asyncio.sleep(0.005)
    impatient.cancel()
    await patient  # still served
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert server.batches == [{1, 2}]
