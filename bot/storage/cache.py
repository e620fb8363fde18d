"""Index of the on-disk audio cache: lookup, platform file ids, LRU eviction."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import delete, select, update

from .base import StoreBase
from .engine import upsert
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
        values = {
            "path": str(path),
            "size": size,
            "created": now,
            "last_used": now,
            "file_ids": {},
            "duration": duration,
            "voice_name": voice_name,
        }
        async with self._write() as session:
            await upsert(session, CacheRow, {"key": key}, values)
        return CacheEntry(key=key, **values)  # type: ignore[arg-type]

    async def cache_touch(self, key: str) -> bool:
        """Mark the entry as just used (it becomes the last to be evicted)."""
        stmt = update(CacheRow).where(CacheRow.key == key).values(last_used=self._now())
        async with self._write() as session:
            result = await session.execute(stmt.execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))

    async def cache_set_file_id(self, key: str, platform: str, file_id: str) -> bool:
        """Remember the platform's id for the uploaded file (e.g. Telegram's file_id)."""
        async with self._write() as session:
            stmt = select(CacheRow).where(CacheRow.key == key).with_for_update()
            row = (await session.execute(stmt)).scalar_one_or_none()
            if row is None:
                return False
            row.file_ids = {**(row.file_ids or {}), platform: file_id}  # new object: marks dirty
            return True

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
