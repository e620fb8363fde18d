"""The Coalescer behind shared prefetches: batches, failures, a waiter giving up."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage.batching import Coalescer


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
    coalescer = Coalescer(server.serve)
    first = asyncio.create_task(coalescer.submit(0))
    await asyncio.sleep(0.005)  # batch 0 ({0}) is being served
    await asyncio.gather(first, *(coalescer.submit(n) for n in range(1, 50)))
    assert server.batches == [{0}, set(range(1, 50))]
    await coalescer.submit(7)  # a lone request later: served at once, alone
    assert server.batches[-1] == {7}


async def test_a_failed_batch_fails_its_waiters_only() -> None:
    server = _Server()
    server.fail = {0}
    coalescer = Coalescer(server.serve)
    results = await asyncio.gather(coalescer.submit(1), coalescer.submit(2), return_exceptions=True)
    assert [type(r) for r in results] == [OSError, OSError]
    await coalescer.submit(3)  # the next batch is served normally
    assert server.batches == [{1, 2}, {3}]


async def test_a_waiter_giving_up_does_not_cancel_the_others() -> None:
    server = _Server()
    coalescer = Coalescer(server.serve)
    impatient = asyncio.create_task(coalescer.submit(1))
    patient = asyncio.create_task(coalescer.submit(2))
    await asyncio.sleep(0.005)
    impatient.cancel()
    await patient  # still served
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert server.batches == [{1, 2}]
