"""Index of the on-disk audio cache: lookup, platform file ids, LRU eviction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select, update

from .base import StoreBase
from .engine import upsert_many
from .models import CacheRow
from .types import CacheEntry

log = logging.getLogger(__name__)


def _entry(row: CacheRow) -> CacheEntry:
    """Row → record."""
    return CacheEntry(
        key=row.key,
        path=row.path,
        size=row.size,
        created=row.created,
        last_used=row.last_used,
        file_ids=dict(row.file_ids or {}),
        duration=row.duration,
        voice_name=row.voice_name,
    )


class CacheStore(StoreBase):
    """The `cache_entries` table; the files themselves belong to the caller until evicted."""

    async def cache_get(self, key: str) -> CacheEntry | None:
        """The entry for `key`, or None. Does not count as a use (see `cache_touch`)."""
        async with self._read() as session:
            row = await session.get(CacheRow, key)
            return _entry(row) if row else None

    async def cache_put(
        self,
        key: str,
        path: str | Path,
        size: int,
        duration: float | None = None,
        voice_name: str | None = None,
    ) -> CacheEntry:
        """Index a cached file (replacing any previous entry and its now stale file ids)."""
        now = self._now()
        entry = CacheEntry(
            key=key,
            path=str(path),
            size=size,
            created=now,
            last_used=now,
            file_ids={},
            duration=duration,
            voice_name=voice_name,
        )
        await self.cache_write_many(puts=[entry])
        return entry

    async def cache_touch(self, key: str) -> bool:
        """Mark the entry as just used (it becomes the last to be evicted)."""
        return bool(await self.cache_write_many(touches=[key]))

    async def cache_set_file_id(self, key: str, platform: str, file_id: str) -> bool:
        """Remember the platform's id for the uploaded file (e.g. Telegram's file_id)."""
        return bool(await self.cache_write_many(file_ids=[(key, platform, file_id)]))

    async def cache_write_many(
        self,
        *,
        puts: Iterable[CacheEntry] = (),
        file_ids: Iterable[tuple[str, str, str]] = (),
        touches: Iterable[str] = (),
    ) -> int:
        """One transaction for many index writes, in this order: `puts` (replacing entries and
        their stale file ids; created and last used now), `file_ids` ((key, platform, id); for
        missing keys nothing) and `touches` (marked as just used). Returns how many file ids and
        touches found their entry."""
        found, now = 0, self._now()
        async with self._write() as session:
            rows = [
                {
                    "key": entry.key,
                    "path": entry.path,
                    "size": entry.size,
                    "created": now,
                    "last_used": now,
                    "file_ids": dict(entry.file_ids),
                    "duration": entry.duration,
                    "voice_name": entry.voice_name,
                }
                for entry in puts
            ]
            await upsert_many(session, CacheRow, ["key"], rows)
            for key, platform, file_id in file_ids:
                stmt = select(CacheRow).where(CacheRow.key == key).with_for_update()
                row = (await session.execute(stmt)).scalar_one_or_none()
                if row is not None:
                    row.file_ids = {**(row.file_ids or {}), platform: file_id}  # marks it dirty
                    found += 1
            keys = sorted(set(touches))
            if keys:
                touch = update(CacheRow).where(CacheRow.key.in_(keys)).values(last_used=now)
                result = await session.execute(touch.execution_options(synchronize_session=False))
                found += int(getattr(result, "rowcount", 0) or 0)
        return found

    async def cache_keys_since(self, since: datetime | None) -> list[tuple[str, datetime]]:
        """(key, created) of the entries created at or after `since` (all of them if None)."""
        stmt = select(CacheRow.key, CacheRow.created)
        if since is not None:
            stmt = stmt.where(CacheRow.created >= since)  # >=: one created in the same instant
        async with self._read() as session:
            return [(key, created) for key, created in (await session.execute(stmt)).all()]

    async def cache_total_bytes(self) -> int:
        """Total size of the indexed files."""
        async with self._read() as session:
            sizes = (await session.execute(select(CacheRow.size))).scalars()
            return sum(sizes)

    async def cache_evict(self, max_total_bytes: int) -> list[str]:
        """Drop least recently used entries until the total is at most `max_total_bytes`.

        Deletes their files too (a file already gone is fine); returns the removed paths.
        """
        async with self._write() as session:
            stmt = select(CacheRow.key, CacheRow.path, CacheRow.size).order_by(
                CacheRow.last_used, CacheRow.key
            )
            rows = (await session.execute(stmt)).all()
            total = sum(size for _, _, size in rows)
            victims: list[tuple[str, str]] = []
            for key, path, size in rows:
                if total <= max_total_bytes:
                    break
                victims.append((key, path))
                total -= size
            if victims:
                await session.execute(
                    delete(CacheRow).where(CacheRow.key.in_([k for k, _ in victims]))
                )
        # Files go after the commit: a crash in between leaves an orphan file, never a dangling row.
        paths = [path for _, path in victims]
        await asyncio.to_thread(_unlink_all, paths)
        return paths


def _unlink_all(paths: list[str]) -> None:
    """Delete files, tolerating ones already gone; log (do not raise) other failures."""
    for path in paths:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cache_evict_unlink_failed path=%s error=%s", path, exc)
