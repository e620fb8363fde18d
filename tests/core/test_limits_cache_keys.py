"""Part 2 of the core: audio cache, rate limit, daily budgets, /server, /key, /account usage."""

from __future__ import annotations

import logging
import string

from bot.i18n.en import CATALOG as EN
from bot.i18n.zh import CATALOG as ZH
from tests.conftest import make_api_key
from tests.core.conftest import run
from tests.core.recording import RecordingContext


def _group(user: str = "u1", admin: bool = False) -> RecordingContext:
    return RecordingContext(
        user_id=user, chat_id="g-chat", guild_id="g1", is_private=False, is_admin=admin
    )


async def test_cache_hit_makes_no_vocu_call_and_costs_nothing(app, ctx, simulator, api_key):
    await run(app, ctx, "/say The same phrase, twice.")
    first = ctx.audio[-1]
    assert first.cache_key
    await app.remember_file_id(first.cache_key, "telegram", "FILE-1")
    calls = simulator.generation_calls(api_key)
    balance = (await app.vocu.account.info()).total_balance
    log_len = len(simulator.request_log)
    other = RecordingContext(user_id="u2")
    await run(app, other, "/say The same phrase, twice.")
    again = other.audio[-1]
    assert again.mp3 == first.mp3
    assert again.file_ids == {"telegram": "FILE-1"}
    assert simulator.generation_calls(api_key) == calls
    assert len(simulator.request_log) == log_len
    assert (await app.vocu.account.info()).total_balance == balance


async def test_cache_is_size_capped_lru(app, ctx):
    app.cache.max_bytes = 1  # every new entry evicts the older ones
    await run(app, ctx, "/say First clip.")
    await run(app, ctx, "/say Second clip.")
    await app.drain()
    files = list((app.data_dir / "cache").glob("*.mp3"))
    assert len(files) <= 1


async def test_rate_limit_says_when(app, simulator, api_key):
    app.rate_limiter.per_minute = 2
    ctx = RecordingContext()
    for i in range(2):
        await run(app, ctx, f"/say Message number {i}.")
    before = simulator.generation_calls(api_key)
    await run(app, ctx, "/say One too many.")
    assert "another request in" in ctx.last
    assert simulator.generation_calls(api_key) == before


async def test_daily_user_budget_and_admin_override(app, simulator, api_key):
    app.limits.daily_user_chars = 20
    ctx = _group()
    await run(app, ctx, "/say " + "x" * 30)
    assert "resets in" in ctx.last and "20" in ctx.last
    assert simulator.generation_calls(api_key) == 0
    await run(app, ctx, "/server budget_user 1000")
    assert "Only server admins" in ctx.last
    admin = _group("admin", admin=True)
    await run(app, admin, "/server budget_user 1000")
    await run(app, ctx, "/say " + "x" * 30)
    assert ctx.audio, ctx.texts
    await run(app, ctx, "/account")
    assert "30 characters used" in ctx.last and "970" in ctx.last


async def test_daily_chat_budget(app, simulator, api_key):
    admin = _group("admin", admin=True)
    await run(app, admin, "/server budget_chat 25")
    await run(app, _group("a"), "/say " + "y" * 20)
    b = _group("b")
    await run(app, b, "/say " + "z" * 20)
    assert "This chat has used 20 of its 25" in b.last
    await run(app, admin, "/server")
    assert "25" in admin.last


async def test_own_key_is_used_encrypted_and_never_logged(
    app, simulator, api_key, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    own = make_api_key()
    ctx = RecordingContext(user_id="keyed")
    await run(app, ctx, f"/key set {own}")
    assert "Saved" in ctx.last and own not in ctx.last
    before = len(simulator.request_log)
    await run(app, ctx, "/account")
    used = {r.api_key for r in simulator.request_log[before:]}
    assert used == {own}
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("bot.sqlite3*"))
    assert own.encode() not in raw
    assert all(own not in r.getMessage() for r in caplog.records)
    await run(app, ctx, "/key clear")
    before = len(simulator.request_log)
    await run(app, ctx, "/account")
    assert {r.api_key for r in simulator.request_log[before:]} == {api_key}


async def test_key_refused_in_groups_and_rejected_keys_not_saved(app, simulator, api_key):
    group = _group("g")
    await run(app, group, f"/key set {make_api_key()}")
    assert "Revoke" in group.last
    assert await app.storage.get_user_key("test", "g") is None
    simulator.config.strict_keys = True
    simulator.config.api_keys = [api_key]
    ctx = RecordingContext(user_id="bad")
    await run(app, ctx, f"/key set {make_api_key()}")
    assert "rejected" in ctx.last
    assert await app.storage.get_user_key("test", "bad") is None


def test_catalogues_have_the_same_keys_and_placeholders():
    assert set(EN) == set(ZH)
    fmt = string.Formatter()
    for key in EN:
        en = {f for _, f, _, _ in fmt.parse(EN[key]) if f}
        zh = {f for _, f, _, _ in fmt.parse(ZH[key]) if f}
        assert en == zh, key
        params = dict.fromkeys(en, "X")
        assert "{" not in EN[key].format(**params) and "{" not in ZH[key].format(**params), key


async def test_every_reply_follows_the_language_setting(app):
    ctx = RecordingContext(locale="zh-CN")
    await run(app, ctx, "/say")
    assert "告诉我" in ctx.last
    await run(app, ctx, "/settings language en")
    await run(app, ctx, "/say")
    assert "Tell me" in ctx.last


async def test_server_required_role(app):
    admin = _group("admin", admin=True)
    await run(app, admin, "/server role Speakers")
    member = _group("m")
    await run(app, member, "/say hello")
    assert "requires the role Speakers" in member.last
    member.roles = ("Speakers",)  # type: ignore[attr-defined]
    await run(app, member, "/say hello")
    assert member.audio


async def test_server_can_turn_cloning_off_in_a_group(app, simulator, api_key):
    from tests.core.conftest import attachment
    from tests.media import tone

    group = RecordingContext(user_id="a", chat_id="tg-group", is_private=False, is_admin=True)
    await run(app, group, "/server cloning off")
    member = RecordingContext(user_id="m", chat_id="tg-group", is_private=False)
    before = len(simulator.request_log)
    await run(app, member, "/clone Nope", attachment(tone(4.0), "n.mp3"))
    assert "turned off" in member.last
    assert len(simulator.request_log) == before
