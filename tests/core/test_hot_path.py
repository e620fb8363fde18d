"""The /say hot path's bookkeeping: cache index writes committed in groups, misses answered from
memory, today's usage read with the prefetch, the Opus workers started up front."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot import audio
from bot.cache import AudioCache
from bot.context import AudioReply
from bot.storage import Storage
from tests.core import test_storage_support as support
from tests.media import tone

db = support.db
storage = support.storage


def _reply(n: int) -> AudioReply:
    return AudioReply(mp3=b"ID3" + bytes([n]) * 100, title="t", duration=1.0, voice_name="Alice")


class _Counting:
    """Counts the calls of one storage method (the real one still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, target: Storage, name: str) -> None:
        self.calls = 0
        real = getattr(target, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await real(*args, **kwargs)

        monkeypatch.setattr(target, name, counted)


async def test_concurrent_puts_and_file_ids_share_transactions(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _Counting(monkeypatch, storage, "cache_write_many")
    audio_cache = AudioCache(storage, tmp_path / "cache", 10**9)
    keys = [f"k{n:02d}" for n in range(30)]
    await asyncio.gather(*(audio_cache.put(k, _reply(n)) for n, k in enumerate(keys)))
    await asyncio.gather(*(audio_cache.remember_file_id(k, "telegram", f"F-{k}") for k in keys))
    assert writes.calls <= 8  # 60 index writes; one transaction each would be 60
    for k in keys:  # every write is committed by the time its call returned
        entry = await storage.cache_get(k)
        assert entry is not None and entry.file_ids == {"telegram": f"F-{k}"}
        assert await asyncio.to_thread(Path(entry.path).read_bytes) == _reply(keys.index(k)).mp3


async def test_a_miss_reads_no_row_and_a_hit_is_touched(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio_cache = AudioCache(storage, tmp_path / "cache", 10**9)
    await audio_cache.put("here", _reply(1))
    reads = _Counting(monkeypatch, storage, "cache_get")
    for n in range(10):
        assert await audio_cache.get(f"absent-{n}") is None
    assert reads.calls == 0
    before = await storage.cache_get("here")
    hit = await audio_cache.get("here")
    assert hit is not None and hit[1] == _reply(1).mp3
    await audio_cache.flush()  # the touch is written behind the answer
    after = await storage.cache_get("here")
    assert before is not None and after is not None and after.last_used >= before.last_used


async def test_entries_of_another_process_show_up_after_the_refresh(
    db: support.Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, theirs = await db.open(), await db.open()
    try:
        audio_cache = AudioCache(mine, tmp_path / "cache", 10**9)
        assert await audio_cache.get("shared") is None  # loads the (empty) index
        clip = tmp_path / "theirs.mp3"
        clip.write_bytes(b"ID3-theirs")
        await theirs.cache_put("shared", clip, clip.stat().st_size)
        assert await audio_cache.get("shared") is None  # not refreshed yet: a plain miss
        monkeypatch.setattr(audio_cache, "_refresh_at", 0.0)  # the refresh interval has passed
        hit = await audio_cache.get("shared")
        assert hit is not None and hit[1] == b"ID3-theirs"
        await theirs.cache_evict(0)  # gone in the other process: a miss here too
        assert await audio_cache.get("shared") is None
        assert "shared" not in audio_cache._keys
    finally:
        await mine.close()
        await theirs.close()


async def test_usage_is_prefetched_and_local_writes_show_at_once(db: support.Db) -> None:
    mine, theirs = await db.open(), await db.open()
    try:
        day = mine._now().date().isoformat()
        await theirs.add_usage_many({("tg", "u1", "", day): 5, ("tg", "u2", "g1", day): 7})
        await mine.prefetch("tg", "u1", "g1")
        assert await mine.usage_today("tg", "u1") == 5
        assert await mine.scope_usage_today("tg", "g1") == 7
        # another process's write shows after the memo's 2 s; our own writes at once
        await theirs.add_usage_many({("tg", "u1", "", day): 100})
        assert await mine.usage_today("tg", "u1") == 5
        await mine.add_usage_many({("tg", "u1", "g1", day): 3})
        assert await mine.usage_today("tg", "u1") == 108
        assert await mine.scope_usage_today("tg", "g1") == 10
    finally:
        await mine.close()
        await theirs.close()


async def test_start_pool_starts_every_worker_before_any_transcode() -> None:
    audio.shutdown_pool()
    try:
        assert await audio.start_pool() == audio._WORKERS
        workers = set(audio._POOL._processes)  # type: ignore[union-attr]
        assert len(workers) == audio._WORKERS
        notes = await asyncio.gather(
            *(audio.to_voice_note_async(tone(0.5 + n / 10)) for n in range(6))
        )
        assert all(note.ogg.startswith(b"OggS") for note in notes)
        assert set(audio._POOL._processes) == workers  # type: ignore[union-attr]
    finally:
        audio.shutdown_pool()


async def test_a_failed_group_commit_fails_its_own_writers_only(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio_cache = AudioCache(storage, tmp_path / "cache", 10**9)
    real, calls = storage.cache_write_many, []

    async def flaky(**kwargs: Any) -> int:
        calls.append(kwargs)
        if len(calls) == 1:
            raise OSError("disk full")
        return await real(**kwargs)

    monkeypatch.setattr(storage, "cache_write_many", flaky)
    with pytest.raises(OSError, match="disk full"):
        await audio_cache.put("lost", _reply(1))
    await audio_cache.put("kept", _reply(2))
    assert await storage.cache_get("lost") is None
    assert await storage.cache_get("kept") is not None
    assert await audio_cache.get("lost") is None  # not indexed: a plain miss


async def test_concurrent_prefetches_share_a_transaction(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = storage._now().date().isoformat()
    await storage.update_user_settings("tg", "u3", voice_id="v-3")
    await storage.set_user_key("tg", "u5", "sk-" + "k" * 32)
    await storage.update_scope_settings("tg", "g1", daily_char_budget_user=7)
    await storage.add_usage_many({("tg", "u4", "g1", day): 9, ("tg", "u6", "", day): 2})
    storage._memo.clear()  # as if those were written by another process long ago
    real, opened = storage._read, []

    def counting() -> Any:
        opened.append(1)
        return real()

    monkeypatch.setattr(storage, "_read", counting)
    scopes = {n: "g1" if n % 2 else "" for n in range(40)}
    await asyncio.gather(*(storage.prefetch("tg", f"u{n}", scopes[n]) for n in range(40)))
    assert 1 <= len(opened) <= 3  # 40 prefetches; one transaction each would be 40
    before = len(opened)
    assert (await storage.get_user_settings("tg", "u3")).voice_id == "v-3"
    assert (await storage.get_user_settings("tg", "u7")).voice_id is None
    assert await storage.get_user_key("tg", "u5") == "sk-" + "k" * 32
    assert await storage.get_user_key("tg", "u3") is None
    assert (await storage.get_scope_settings("tg", "g1")).daily_char_budget_user == 7
    assert await storage.usage_today("tg", "u4") == 9
    assert await storage.usage_today("tg", "u6") == 2
    assert await storage.usage_today("tg", "u8") == 0
    assert await storage.scope_usage_today("tg", "g1") == 9
    assert len(opened) == before  # every answer came from what the prefetch read


async def test_a_read_that_began_before_a_local_write_is_not_remembered(
    storage: Storage,
) -> None:
    await storage.update_user_settings("tg", "u1", voice_id="old")
    storage._memo.clear()
    read_at = storage._mark()  # a read (a prefetch, say) begins and sees "old"…
    stale = await storage.get_user_settings("tg", "u1")
    storage._memo.clear()
    await storage.update_user_settings("tg", "u1", voice_id="new")  # …a write commits…
    storage._remember(("user", "tg", "u1"), stale, read_at)  # …and the read ends
    assert (await storage.get_user_settings("tg", "u1")).voice_id == "new"
    await storage.set_user_key("tg", "u1", "sk-" + "a" * 32)
    read_at = storage._mark()
    await storage.clear_user_key("tg", "u1")
    storage._remember(("key", "tg", "u1"), "sk-" + "a" * 32, read_at)
    assert await storage.get_user_key("tg", "u1") is None
