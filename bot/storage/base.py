"""What every storage area shares: the engines, read/write sessions and the clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import StaticPool

from .crypto import KeyBox


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
        async with self._turn(), self._writes() as session, session.begin():
            yield session

    @staticmethod
    def _now() -> datetime:
        """The current time, aware UTC (one place, so tests can move it)."""
        return datetime.now(UTC)
