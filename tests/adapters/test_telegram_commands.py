"""Telegram adapter: commands through the real PTB Application, the fake Bot API and the core."""

from __future__ import annotations

import asyncio

import pytest

from adapters.telegram_app import delivery as tg_delivery
from adapters.telegram_app.context import TelegramContext
from adapters.telegram_app.delivery import Target
from adapters.telegram_app.text import split_text
from bot.app import App
from bot.context import ChatContext
from bot.registry import REGISTRY, Arg, ArgKind, Args, Where, command, visible_commands
from tests.adapters.conftest import TG_GROUP, TG_OTHER, TG_USER, TelegramHarness, ogg_seconds


async def test_start_help_and_group_conventions(telegram: TelegramHarness) -> None:
    first = telegram.send("/start")
    text = await telegram.reply(contains="/say")
    call = telegram.sent("sendMessage", TG_USER)[0]
    assert call.params["reply_parameters"]["message_id"] == first["message_id"]
    assert "parse_mode" not in call.params  # plain text only

    telegram.send("/help@vocu_test_bot", chat=TG_GROUP)
    assert "/voices" in await telegram.reply(TG_GROUP)
    telegram.send("/help@some_other_bot", chat=TG_GROUP)  # another bot's command
    telegram.send("/frobnicate", chat=TG_GROUP)  # unknown and not addressed: maybe another bot's
    telegram.send("/frobnicate")  # unknown in private: the core answers
    assert "frobnicate" in await telegram.reply(contains="frobnicate")
    telegram.send("/help", chat=TG_GROUP)  # a known bare command works in groups too
    await telegram.reply(TG_GROUP, "/voices", count=2)
    assert len(telegram.texts(TG_GROUP)) == 2
    assert text.count("\n") >= len(visible_commands())


async def test_command_menu_in_english_and_chinese(telegram: TelegramHarness) -> None:
    names = [c.name for c in visible_commands()]
    english = telegram.server.get_commands()
    chinese = telegram.server.get_commands(language_code="zh")
    assert english is not None and chinese is not None
    assert [c["command"] for c in english] == names
    assert [c["command"] for c in chinese] == names
    say = REGISTRY["say"]
    assert {"command": "say", "description": say.description("en")} in english
    assert {"command": "say", "description": say.description("zh")} in chinese
    assert english != chinese
    groups = telegram.server.get_commands({"type": "all_group_chats"})
    assert groups is not None
    private_only = {c.name for c in visible_commands() if c.where is Where.PRIVATE}
    assert {c["command"] for c in groups} == set(names) - private_only


async def test_every_registered_command_reaches_the_core(telegram: TelegramHarness) -> None:
    """Each command, typed bare in its own chat, gets an answer from the core."""
    names = [c.name for c in visible_commands()]
    for offset, name in enumerate(names):
        telegram.send(f"/{name}", chat=5000 + offset, user=5000 + offset)
    for offset, name in enumerate(names):
        chat = 5000 + offset
        await telegram.reply(chat)
        assert "I don't know the command" not in telegram.texts(chat)[0], name
    assert telegram.generations() == 0


async def test_say_sends_a_voice_note_of_the_right_duration(
    telegram: TelegramHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tg_delivery, "UPLOAD_HINT_DELAY", 0.0)  # as if the upload were slow
    message = telegram.send("/say Hello there, this is a voice note test.")
    call = await telegram.call("sendVoice")
    assert call.params["reply_parameters"]["message_id"] == message["message_id"]
    codec, seconds = ogg_seconds(call.files["voice"].data)
    assert codec == "opus"
    assert seconds > 1.0
    assert abs(call.params["duration"] - seconds) <= 1.0
    actions = [c.params["action"] for c in telegram.sent("sendChatAction")]
    assert "record_voice" in actions and "upload_voice" in actions
    assert telegram.generations() == 1


async def test_long_replies_are_split_and_markup_is_not_interpreted(
    telegram: TelegramHarness,
) -> None:
    telegram.send("/use <b>[x](http://evil)</b>")
    text = await telegram.reply(contains="evil")
    assert "<b>[x](http://evil)</b>" in text
    assert all("parse_mode" not in c.params for c in telegram.sent("sendMessage"))
    assert "<b>[x](http://evil)</b>" in telegram.sent("sendMessage")[-1].result["text"]

    bot = telegram.bot.application.bot
    ctx = TelegramContext(
        telegram.app, telegram.bot.runtime.ui, Target(bot, TG_USER),
        user_id=TG_USER, language_code="en", is_private=True, is_admin=True,
    )  # fmt: skip
    assert isinstance(ctx, ChatContext)
    long_text = "\n".join(f"line {i} " + "é🎙" * 40 for i in range(200))
    before = len(telegram.texts())
    await ctx.reply_text(long_text)
    parts = telegram.texts()[before:]
    assert len(parts) >= 3
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == long_text.replace("\n", "")


def test_split_text_edge_cases() -> None:
    assert split_text("") == []
    assert split_text("short") == ["short"]
    word = "x" * 5000
    assert [len(p) for p in split_text(word)] == [4096, 904]
    emoji = "🎙" * 3000  # two UTF-16 units each
    assert [len(p) for p in split_text(emoji)] == [2048, 952]


@pytest.fixture
def probe_commands():
    """Two throw-away commands: an admin-only one and one with a SECRET argument."""

    async def admin_probe(app: App, ctx: ChatContext, args: Args) -> None:
        await ctx.reply_text(f"admin ok in {ctx.chat_id}")

    async def secret_probe(app: App, ctx: ChatContext, args: Args) -> None:
        await ctx.reply_text("secret stored")

    command("tgadminprobe", admin_only=True, hidden=True)(admin_probe)
    command("tgsecretprobe", Arg("key", ArgKind.SECRET), where=Where.PRIVATE, hidden=True)(
        secret_probe
    )
    yield
    REGISTRY.pop("tgadminprobe", None)
    REGISTRY.pop("tgsecretprobe", None)


async def test_admin_status_comes_from_get_chat_member(
    telegram: TelegramHarness, probe_commands: None
) -> None:
    telegram.send("/tgadminprobe")
    assert "admin ok" in await telegram.reply()  # private: the user is the admin
    telegram.send("/tgadminprobe", chat=TG_GROUP)
    assert "admin" in (await telegram.reply(TG_GROUP)).lower()
    assert "admin ok" not in telegram.texts(TG_GROUP)[0]
    telegram.server.set_member_status(TG_GROUP, TG_OTHER, "administrator")
    telegram.send("/tgadminprobe", chat=TG_GROUP, user=TG_OTHER)
    assert "admin ok" in await telegram.reply(TG_GROUP, count=2)
    assert telegram.sent("getChatMember")


async def test_secret_command_in_a_group_is_deleted_and_refused(
    telegram: TelegramHarness, probe_commands: None
) -> None:
    message = telegram.send("/tgsecretprobe sk-very-secret", chat=TG_GROUP)
    reply = await telegram.reply(TG_GROUP)
    assert "private chat" in reply
    deleted = await telegram.call("deleteMessage", TG_GROUP)
    assert deleted.params["message_id"] == message["message_id"]
    assert telegram.server.get_message(TG_GROUP, message["message_id"]) is None
    telegram.send("/tgsecretprobe sk-very-secret")
    assert await telegram.reply(contains="secret stored")


async def test_updates_are_processed_concurrently(telegram: TelegramHarness) -> None:
    """A slow generation in one chat never blocks another chat's command."""
    telegram.simulator.faults.generation_latency = 1.5
    telegram.send("/say This one is slow.")
    await telegram.call("sendChatAction")
    telegram.send("/help", chat=TG_OTHER, user=TG_OTHER)
    await asyncio.wait_for(telegram.reply(TG_OTHER), 1.0)
    assert not telegram.sent("sendVoice")
    await telegram.call("sendVoice")
