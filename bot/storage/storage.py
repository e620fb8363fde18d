"""The Storage facade: opening (engine, migrations, secret) and closing."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from .cache import CacheStore
from .crypto import KeyBox, load_or_create_secret
from .engine import create_engines, normalise_url, sqlite_file
from .jobs import JobStore
from .migrations import LATEST_VERSION, migrate, schema_version
from .settings import SettingsStore

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path("data")


class Storage(SettingsStore, JobStore, CacheStore):
    """Everything the bot persists, behind one object created at startup and closed at shutdown.

    Safe to share between coroutines, and between processes on one database (SQLite file in WAL
    mode, or PostgreSQL). Use `await Storage.open(url)`, not the constructor.
    """

    @classmethod
    async def open(
        cls,
        url: str | URL,
        *,
        secret: str | None = None,
        data_dir: Path | None = None,
        schema: str | None = None,
        target_version: int = LATEST_VERSION,
    ) -> Storage:
        """Connect, apply missing migrations, and load the key-encryption secret.

        url: `sqlite+aiosqlite:///path/bot.db` (parent directory created) or
            `postgresql+asyncpg://user@host/db`; plain `sqlite://` / `postgresql://` work too.
        secret: encrypts users' API keys; when None, read from (or generated into)
            `<data_dir>/secret.key` with mode 0600.
        data_dir: defaults to the SQLite file's directory, else `./data`.
        schema: PostgreSQL schema to use (created if missing), e.g. one per test run.
        target_version: migrate only this far (tests of upgrades).
        """
        parsed = normalise_url(url)
        db_file = sqlite_file(parsed)
        if db_file is not None:
            await asyncio.to_thread(db_file.parent.mkdir, parents=True, exist_ok=True)
        if secret is None:
            directory = data_dir or _default_data_dir(db_file)
            secret = await asyncio.to_thread(load_or_create_secret, directory)
        keybox = KeyBox(secret)
        engine, write_engine = create_engines(parsed, schema)
        try:
            pg_schema = schema if parsed.get_backend_name() == "postgresql" else None
            applied = await migrate(write_engine, target_version, pg_schema)
        except BaseException:
            await engine.dispose()
            raise
        if applied:
            log.info("storage_migrated versions=%s backend=%s", applied, engine.dialect.name)
        return cls(engine, write_engine, keybox)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    async def schema_version(self) -> int:
        """The database's schema version."""
        return await schema_version(self._engine)

    @property
    def engine(self) -> AsyncEngine:
        """The underlying engine (for diagnostics and tests)."""
        return self._engine


def _default_data_dir(db_file: Path | None) -> Path:
    """Where secret.key lives when the caller does not say."""
    return db_file.parent if db_file is not None else DEFAULT_DATA_DIR
