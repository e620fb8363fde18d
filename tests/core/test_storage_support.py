"""Shared fixtures of the storage tests: every test runs on SQLite, and on PostgreSQL as well
when VOCUBOT_TEST_DATABASE_URL is set (each run in its own schema, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["timedelta"]
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage import Storage
from bot.storage.engine import normalise_url

PG_URL_ENV = "VOCUBOT_TEST_DATABASE_URL"
SECRET = "test-secret-not-a-fernet-key"


@dataclass
class Db:
    """Where one test's database lives, and how to open it (again)."""

    backend: str
    url: str
    schema: str | None
    data_dir: Path

    async def open(self, **kwargs: Any) -> Storage:
        """A new Storage on this database (same schema, same data dir)."""
        kwargs.setdefault("data_dir", self.data_dir)
        if "secret" not in kwargs:
            kwargs["secret"] = SECRET
        return await Storage.open(self.url, schema=self.schema, **kwargs)

    def open_args(self) -> dict[str, Any]:
        """What a subprocess needs to open it."""
        return {"url": self.url, "schema": self.schema, "secret": SECRET}


async def drop_schema(url: str, schema: str) -> None:
    """Remove a PostgreSQL test schema and everything in it."""
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Db]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "nested" / "dir" / "bot.sqlite3"
        yield Db("sqlite", f"sqlite+aiosqlite:///{path}", None, tmp_path / "data")
        return
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"{PG_URL_ENV} not set")
    schema = f"vocubot_test_{uuid.uuid4().hex[:16]}"
    try:
        yield Db("postgresql", url, schema, tmp_path / "data")
    finally:
        await drop_schema(url, schema)


@pytest.fixture
async def storage(db: Db) -> AsyncIterator[Storage]:
    """An open Storage on a fresh database."""
    store = await db.open()
    try:
        yield store
    finally:
        await store.close()


class Clock:
    """A controllable replacement for Storage._now."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the storage's clock; tests move it explicitly."""
    fake = Clock()
    monkeypatch.setattr(storage, "_now", fake)
    return fake
