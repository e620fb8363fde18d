"""Storage: opening, schema versions and upgrades, settings, encrypted keys, usage."""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import inspect, text

from bot.storage import LATEST_VERSION, ScopeSettings, Storage, UndecryptableKeyError, UserSettings
from bot.storage.models import Base
from tests.core import test_storage_support as support

db = support.db
storage = support.storage
clock = support.clock
Db = support.Db


# --- opening and schema versions -------------------------------------------------------------


async def test_open_migrates_to_latest(storage: Storage) -> None:
    assert await storage.schema_version() == LATEST_VERSION == 2


async def test_sqlite_file_parent_created_and_wal(db: Db) -> None:
    if db.backend != "sqlite":
        pytest.skip("SQLite only")
    store = await db.open()
    try:
        assert Path(db.url.split("///", 1)[1]).parent.is_dir()
        async with store.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() >= 1000
    finally:
        await store.close()


async def test_plain_urls_pick_async_drivers(tmp_path: Path) -> None:
    store = await Storage.open(f"sqlite:///{tmp_path / 'x.db'}", secret="s")
    try:
        assert store.dialect == "sqlite"
    finally:
        await store.close()
    with pytest.raises(ValueError, match="unsupported"):
        await Storage.open("mysql://localhost/x", secret="s")


async def test_in_memory_sqlite_takes_turns() -> None:
    store = await Storage.open("sqlite+aiosqlite://", secret="s")
    try:
        calls = [store.add_usage("tg", "u", None, 1) for _ in range(10)]
        reads = [store.get_user_settings("tg", "u") for _ in range(10)]
        await asyncio.wait_for(asyncio.gather(*calls, *reads), 10)
        assert await store.usage_today("tg", "u") == 10
    finally:
        await store.close()


async def test_secret_defaults_next_to_sqlite_file(tmp_path: Path) -> None:
    store = await Storage.open(f"sqlite:///{tmp_path / 'd' / 'bot.db'}")
    await store.set_user_key("tg", "1", "sk")
    await store.close()
    assert (tmp_path / "d" / "secret.key").is_file()


async def test_schema_matches_models(storage: Storage) -> None:
    def describe(conn: object) -> dict[str, set[str]]:
        insp = inspect(conn)
        return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}

    def indexes(conn: object) -> set[str]:
        insp = inspect(conn)
        return {i["name"] for t in insp.get_table_names() for i in insp.get_indexes(t)}

    async with storage.engine.connect() as conn:
        actual = await conn.run_sync(describe)
        actual_indexes = await conn.run_sync(indexes)
    expected = {t.name: {c.name for c in t.columns} for t in Base.metadata.sorted_tables}
    assert actual == expected
    expected_indexes = {i.name for t in Base.metadata.sorted_tables for i in t.indexes}
    assert expected_indexes <= actual_indexes


async def test_reopen_keeps_data_and_does_not_remigrate(db: Db) -> None:
    first = await db.open()
    await first.update_user_settings("tg", "1", voice_id="v1")
    await first.close()
    second = await db.open()
    try:
        assert await second.schema_version() == LATEST_VERSION
        assert (await second.get_user_settings("tg", "1")).voice_id == "v1"
    finally:
        await second.close()


async def test_concurrent_open_migrates_once(db: Db) -> None:
    stores = await asyncio.gather(db.open(), db.open(), db.open())
    try:
        async with stores[0].engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version FROM schema_version"))).scalars()
            assert sorted(rows) == list(range(1, LATEST_VERSION + 1))
    finally:
        for store in stores:
            await store.close()


async def test_upgrade_from_v1_keeps_rows(db: Db) -> None:
    old = await db.open(target_version=1)
    assert await old.schema_version() == 1
    now = datetime(2030, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    async with old.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (platform, user_id, delivery, speed, updated_at)"
                " VALUES ('tg', '7', 'file', 1.5, :now)"
            ),
            {"now": now},
        )
        await conn.execute(
            text(
                "INSERT INTO jobs (id, kind, platform, chat_id, user_id, payload, status,"
                " created_at, updated_at) VALUES ('job-1', 'long', 'tg', 'c', '7',"
                " '{\"text\": \"hi\"}', 'submitted', :now, :now)"
            ),
            {"now": now},
        )
    await old.close()

    new = await db.open()
    try:
        assert await new.schema_version() == LATEST_VERSION
        user = await new.get_user_settings("tg", "7")
        assert (user.delivery, user.speed) == ("file", 1.5)
        job = await new.get_job("job-1")
        assert job is not None
        assert (job.status, job.payload, job.attempts) == ("submitted", {"text": "hi"}, 0)
        assert [j.id for j in await new.claim_jobs("w", 10)] == ["job-1"]
        assert (await new.get_job("job-1")).attempts == 1  # type: ignore[union-attr]
    finally:
        await new.close()


async def test_unknown_target_version(db: Db) -> None:
    with pytest.raises(ValueError, match="schema version"):
        await db.open(target_version=LATEST_VERSION + 1)


# --- user and scope settings -----------------------------------------------------------------


async def test_user_settings_defaults(storage: Storage) -> None:
    assert await storage.get_user_settings("tg", "1") == UserSettings(platform="tg", user_id="1")


async def test_user_settings_update_merge_and_clear(storage: Storage) -> None:
    consent = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    await storage.update_user_settings("tg", "1", voice_id="v", style_id="s", preset="stable")
    after = await storage.update_user_settings(
        "tg", "1", delivery="file", speed=1.25, language="zh", consented_clone_at=consent
    )
    assert after == UserSettings(
        platform="tg",
        user_id="1",
        voice_id="v",
        style_id="s",
        delivery="file",
        preset="stable",
        speed=1.25,
        language="zh",
        consented_clone_at=consent,
    )
    assert await storage.get_user_settings("tg", "1") == after
    cleared = await storage.update_user_settings("tg", "1", preset=None, speed=None)
    assert (cleared.preset, cleared.speed, cleared.voice_id) == (None, None, "v")
    # Same user id on another platform is another user.
    assert (await storage.get_user_settings("discord", "1")).voice_id is None


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"colour": "red"}, TypeError),
        ({"delivery": "carrier pigeon"}, ValueError),
        ({"preset": "wild"}, ValueError),
        ({"speed": -1}, ValueError),
        ({"consented_clone_at": "yesterday"}, TypeError),
    ],
)
async def test_user_settings_validation(
    storage: Storage, fields: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await storage.update_user_settings("tg", "1", **fields)


async def test_scope_settings(storage: Storage) -> None:
    assert await storage.get_scope_settings("discord", "g1") == ScopeSettings("discord", "g1")
    await storage.update_scope_settings("discord", "g1", voice_id="v", allow_cloning=False)
    updated = await storage.update_scope_settings(
        "discord",
        "g1",
        daily_char_budget_user=1000,
        daily_char_budget_chat=5000,
        required_role="DJ",
        autoread_channels=["c1", "c2", "c1"],
    )
    assert updated == ScopeSettings(
        platform="discord",
        scope_id="g1",
        voice_id="v",
        daily_char_budget_user=1000,
        daily_char_budget_chat=5000,
        allow_cloning=False,
        required_role="DJ",
        autoread_channels=("c1", "c2"),
    )
    assert await storage.get_scope_settings("discord", "g1") == updated
    cleared = await storage.update_scope_settings("discord", "g1", autoread_channels=[])
    assert cleared.autoread_channels == ()
    assert (await storage.get_scope_settings("telegram", "g1")).allow_cloning is True


@pytest.mark.parametrize(
    "fields",
    [
        {"nope": 1},
        {"daily_char_budget_user": -5},
        {"allow_cloning": "yes"},
        {"autoread_channels": [str(i) for i in range(51)]},
    ],
)
async def test_scope_settings_validation(storage: Storage, fields: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        await storage.update_scope_settings("discord", "g1", **fields)


# --- encrypted API keys ----------------------------------------------------------------------


async def test_user_key_roundtrip(storage: Storage) -> None:
    assert await storage.get_user_key("tg", "1") is None
    await storage.set_user_key("tg", "1", "sk-first")
    await storage.set_user_key("tg", "1", "sk-second")
    assert await storage.get_user_key("tg", "1") == "sk-second"
    assert await storage.get_user_key("discord", "1") is None
    assert await storage.clear_user_key("tg", "1") is True
    assert await storage.clear_user_key("tg", "1") is False
    assert await storage.get_user_key("tg", "1") is None
    with pytest.raises(ValueError):
        await storage.set_user_key("tg", "1", "")


async def test_plain_key_never_stored(db: Db, storage: Storage) -> None:
    plain = "vocu-PLAINTEXT-api-key-4242"
    await storage.set_user_key("tg", "1", plain)
    async with storage.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT ciphertext FROM user_keys"))).scalar_one()
    assert plain not in stored
    if db.backend == "sqlite":
        db_file = Path(db.url.split("///", 1)[1])
        for path in db_file.parent.glob(db_file.name + "*"):  # the file, -wal and -shm
            assert plain.encode() not in path.read_bytes()
        await storage.close()
        for path in db_file.parent.glob(db_file.name + "*"):  # after the WAL checkpoint
            assert plain.encode() not in path.read_bytes()


async def test_generated_secret_file_is_private_and_reused(db: Db, tmp_path: Path) -> None:
    data_dir = tmp_path / "secrets"
    first = await db.open(secret=None, data_dir=data_dir)
    await first.set_user_key("tg", "1", "sk-abc")
    await first.close()
    secret_file = data_dir / "secret.key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    Fernet(secret_file.read_text().strip().encode())  # a valid Fernet key
    second = await db.open(secret=None, data_dir=data_dir)
    try:
        assert await second.get_user_key("tg", "1") == "sk-abc"
    finally:
        await second.close()


async def test_wrong_secret_is_detected(db: Db) -> None:
    first = await db.open(secret=Fernet.generate_key().decode())
    await first.set_user_key("tg", "1", "sk-abc")
    await first.close()
    second = await db.open(secret="another secret")
    try:
        with pytest.raises(UndecryptableKeyError):
            await second.get_user_key("tg", "1")
    finally:
        await second.close()


# --- usage -----------------------------------------------------------------------------------


async def test_usage_per_user_scope_and_day(storage: Storage, clock: support.Clock) -> None:
    today = clock.now.date()
    await storage.add_usage("tg", "u1", "chat1", 100)
    await storage.add_usage("tg", "u1", "chat1", 50)
    await storage.add_usage("tg", "u1", "chat2", 10)
    await storage.add_usage("tg", "u1", None, 1)  # private chat
    await storage.add_usage("tg", "u2", "chat1", 1000)
    await storage.add_usage("discord", "u1", "chat1", 7)
    await storage.add_usage("tg", "u1", "chat1", 999, day=date(2029, 12, 31))
    assert await storage.usage_today("tg", "u1") == 161
    assert await storage.usage_today("tg", "u1", day=today) == 161
    assert await storage.usage_today("tg", "u1", day=date(2029, 12, 31)) == 999
    assert await storage.scope_usage_today("tg", "chat1") == 1150
    assert await storage.scope_usage_today("tg", None) == 1
    assert await storage.user_scope_usage_today("tg", "u1", "chat1") == 150
    assert await storage.usage_today("tg", "nobody") == 0
    clock.advance(24 * 3600)  # a new UTC day starts from zero
    assert await storage.usage_today("tg", "u1") == 0
    with pytest.raises(ValueError):
        await storage.add_usage("tg", "u1", None, -1)


async def test_concurrent_usage_increments(db: Db, storage: Storage) -> None:
    other = await db.open()
    try:
        await asyncio.gather(
            *(s.add_usage("tg", "u", "c", 1) for _ in range(20) for s in (storage, other))
        )
        assert await storage.usage_today("tg", "u") == 40
    finally:
        await other.close()
