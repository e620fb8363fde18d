"""Storage audio cache index: lookup, file ids, least-recently-used eviction."""

from __future__ import annotations

from pathlib import Path

from bot.storage import CacheEntry, Storage
from tests.core import test_storage_support as support

db = support.db
storage = support.storage
clock = support.clock
Clock = support.Clock


def _file(directory: Path, name: str, size: int) -> Path:
    path = directory / name
    path.write_bytes(b"\0" * size)
    return path


async def test_put_get_touch_file_ids(storage: Storage, clock: Clock, tmp_path: Path) -> None:
    assert await storage.cache_get("missing") is None
    assert await storage.cache_touch("missing") is False
    assert await storage.cache_set_file_id("missing", "tg", "F") is False
    path = _file(tmp_path, "a.mp3", 10)
    put = await storage.cache_put("k1", path, 10, duration=2.5, voice_name="Alice")
    got = await storage.cache_get("k1")
    assert (
        got
        == put
        == CacheEntry(
            key="k1",
            path=str(path),
            size=10,
            created=clock.now,
            last_used=clock.now,
            file_ids={},
            duration=2.5,
            voice_name="Alice",
        )
    )
    created = clock.now
    clock.advance(5)
    assert await storage.cache_touch("k1") is True
    assert await storage.cache_set_file_id("k1", "telegram", "AgAD-1")
    assert await storage.cache_set_file_id("k1", "discord", "https://cdn/x.ogg")
    assert await storage.cache_set_file_id("k1", "telegram", "AgAD-2")  # replaced
    got = await storage.cache_get("k1")
    assert got is not None
    assert (got.created, got.last_used) == (created, clock.now)
    assert got.file_ids == {"telegram": "AgAD-2", "discord": "https://cdn/x.ogg"}


async def test_put_again_replaces_entry_and_stale_file_ids(
    storage: Storage, tmp_path: Path
) -> None:
    await storage.cache_put("k", _file(tmp_path, "old", 1), 1)
    await storage.cache_set_file_id("k", "tg", "OLD")
    await storage.cache_put("k", _file(tmp_path, "new", 2), 2, voice_name="Bob")
    got = await storage.cache_get("k")
    assert got is not None
    assert (got.path, got.size, got.file_ids, got.voice_name, got.duration) == (
        str(tmp_path / "new"),
        2,
        {},
        "Bob",
        None,
    )


async def test_evict_least_recently_used(storage: Storage, clock: Clock, tmp_path: Path) -> None:
    paths = {}
    for key in ("a", "b", "c", "d"):
        paths[key] = _file(tmp_path, f"{key}.mp3", 100)
        await storage.cache_put(key, paths[key], 100)
        clock.advance(1)
    await storage.cache_touch("a")  # now a is the most recently used
    assert await storage.cache_total_bytes() == 400
    assert await storage.cache_evict(400) == []
    removed = await storage.cache_evict(250)
    assert removed == [str(paths["b"]), str(paths["c"])]
    assert not paths["b"].exists() and not paths["c"].exists()
    assert paths["a"].exists() and paths["d"].exists()
    assert await storage.cache_get("b") is None and await storage.cache_get("c") is None
    assert await storage.cache_total_bytes() == 200
    assert await storage.cache_evict(0) == [str(paths["d"]), str(paths["a"])]
    assert await storage.cache_total_bytes() == 0
    assert not any(path.exists() for path in paths.values())


async def test_evict_tolerates_missing_files(storage: Storage, tmp_path: Path) -> None:
    await storage.cache_put("gone", tmp_path / "never-written.mp3", 50)
    assert await storage.cache_evict(0) == [str(tmp_path / "never-written.mp3")]
    assert await storage.cache_get("gone") is None


async def test_cache_shared_between_instances(
    db: support.Db, storage: Storage, tmp_path: Path
) -> None:
    other = await db.open()
    try:
        await storage.cache_put("k", _file(tmp_path, "k", 3), 3)
        await other.cache_set_file_id("k", "tg", "F")
        got = await storage.cache_get("k")
        assert got is not None and got.file_ids == {"tg": "F"}
    finally:
        await other.close()
