"""What every storage area shares: the engines, read/write sessions and the clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import StaticPool

from .batching import Coalescer
from .crypto import KeyBox

MEMO_SECONDS = 2.0


class StoreBase:
    """Holds the engines; the area mixins (settings, jobs, cache) build on it."""

    def __init__(self, engine: AsyncEngine, write_engine: AsyncEngine, keybox: KeyBox) -> None:
        self._engine = engine
        self._keybox = keybox
        self._reads = async_sessionmaker(engine, expire_on_commit=False)
        self._writes = async_sessionmaker(write_engine, expire_on_commit=False)
        # An in-memory SQLite database is one connection (StaticPool), which cannot run two
        # transactions at once: take turns.
        self._serial = asyncio.Lock() if isinstance(engine.pool, StaticPool) else None
        # SQLite has one writer at a time; queueing our own writers on an asyncio lock hands
        # the lock over at once instead of leaving them in SQLite's sleeping busy handler.
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        # Hot reads (settings, keys) are remembered briefly; local writes refresh them.
        self._memo: dict[tuple[str, ...], tuple[float, object]] = {}
        self._writes_seen = 0  # local writes of remembered keys, counted
        self._written: dict[tuple[str, ...], int] = {}  # key -> count at its last local write
        self._floor = 0  # reads begun before this count are not remembered (see _remember)
        self._prefetches: Coalescer[set[tuple[str, str, str | None]]] | None = None  # prefetch

    def _turn(self) -> AbstractAsyncContextManager[object]:
        """Wait for our turn on a single-connection database; a no-op otherwise."""
        return self._serial if self._serial is not None else nullcontext()

    @property
    def dialect(self) -> str:
        """The backend's name: "sqlite" or "postgresql"."""
        return self._engine.dialect.name

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (a consistent snapshot)."""
        async with self._turn(), self._reads() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, committed on success (holds SQLite's write lock throughout)."""
        writer = self._writer if self._writer is not None else nullcontext()
        async with writer, self._turn(), self._writes() as session, session.begin():
            yield session

    def _recall(self, key: tuple[str, ...]) -> object | None:
        """A value read less than MEMO_SECONDS ago (other processes' writes show up after)."""
        hit = self._memo.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def _mark(self) -> int:
        """Call before a read whose result will be remembered: see `_remember`'s `read_at`."""
        return self._writes_seen

    def _remember(self, key: tuple[str, ...], value: object, read_at: int | None = None) -> None:
        """Remember `value` written (`read_at` None) or read (`read_at` = `_mark()` taken before
        the read): a read that began before a local write of the key committed is stale."""
        if read_at is not None and (read_at < self._floor or self._written.get(key, -1) > read_at):
            return
        if len(self._memo) > 10_000:  # start afresh; reads begun before can't be judged: dropped
            self._memo.clear()
            self._written.clear()
            self._writes_seen += 1
            self._floor = self._writes_seen
        if read_at is None:
            self._wrote(key)
        self._memo[key] = (time.monotonic() + MEMO_SECONDS, value)

    def _forget(self, key: tuple[str, ...]) -> None:
        """After a local write of `key`: read it again next time."""
        self._wrote(key)
        self._memo.pop(key, None)

    def _wrote(self, key: tuple[str, ...]) -> None:
        self._writes_seen += 1
        self._written[key] = self._writes_seen

    @staticmethod
    def _now() -> datetime:
        """The current time, aware UTC (one place, so tests can move it)."""
        return datetime.now(UTC)
