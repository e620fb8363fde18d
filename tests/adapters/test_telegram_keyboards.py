"""Telegram adapter: inline keyboards (pickers, confirmations) and callback queries."""

from __future__ import annotations

from typing import Any

from adapters.telegram_app import context as tg_context
from tests.adapters.conftest import TG_GROUP, TG_OTHER, TG_USER, TelegramHarness, until


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


async def _keyboard(telegram: TelegramHarness, chat: int, contains: str) -> dict[str, Any]:
    """The newest bot message in `chat` with buttons and `contains` in its text."""
    found = await until(
        lambda: [
            m for m in telegram.server.bot_messages(chat)
            if _buttons(m) and contains in m.get("text", "")
        ]
    )  # fmt: skip
    return found[-1]


def _tap(telegram: TelegramHarness, chat: int, user: int, message: dict[str, Any], label: str):
    data = next(b["callback_data"] for b in _buttons(message) if b["text"] == label)
    return telegram.server.push_callback_query(chat, user, message["message_id"], data)


async def test_voices_picker_tap_uses_the_voice(telegram: TelegramHarness) -> None:
    telegram.send("/voices", chat=TG_GROUP)
    picker = await _keyboard(telegram, TG_GROUP, "Bob")
    assert all(len(b["callback_data"].encode()) <= 64 for b in _buttons(picker))
    _tap(telegram, TG_GROUP, TG_OTHER, picker, "Bob")  # not theirs: ignored
    query = _tap(telegram, TG_GROUP, TG_USER, picker, "Bob")
    assert "Bob" in await telegram.reply(TG_GROUP, contains="Now speaking as")
    await until(lambda: query["id"] in telegram.server.callback_answers)
    assert len([t for t in telegram.texts(TG_GROUP) if "Now speaking" in t]) == 1
    settings = await telegram.app.storage.get_user_settings("telegram", str(TG_USER))
    other = await telegram.app.storage.get_user_settings("telegram", str(TG_OTHER))
    assert settings.voice_id is not None and other.voice_id is None
    telegram.send("/say Now in Bob's voice.", chat=TG_GROUP)
    await telegram.call("sendVoice", TG_GROUP)


async def test_style_picker_after_choosing_a_voice(telegram: TelegramHarness) -> None:
    telegram.send("/use Alice")
    picker = await _keyboard(telegram, TG_USER, "Pick a style")
    assert {b["text"] for b in _buttons(picker)} >= {"Cheerful", "Calm"}
    _tap(telegram, TG_USER, TG_USER, picker, "Calm")
    assert "Alice (Calm)" in await telegram.reply(contains="(Calm)")


async def test_settings_picker(telegram: TelegramHarness) -> None:
    telegram.send("/settings delivery")
    picker = await _keyboard(telegram, TG_USER, "Delivery")
    _tap(telegram, TG_USER, TG_USER, picker, "file")
    await telegram.reply(contains="Saved")
    settings = await telegram.app.storage.get_user_settings("telegram", str(TG_USER))
    assert settings.delivery == "file"


async def test_expired_or_foreign_buttons_are_just_answered(telegram: TelegramHarness) -> None:
    telegram.send("/help")
    await telegram.reply()
    queries = [
        telegram.server.push_callback_query(TG_USER, TG_USER, 1, data)
        for data in ("p:gone:0", "c:gone:1", "x", "garbage")
    ]
    await until(lambda: all(q["id"] in telegram.server.callback_answers for q in queries))
    assert len(telegram.texts()) == 1


async def test_delete_asks_first(telegram: TelegramHarness, monkeypatch) -> None:
    telegram.send("/delete Bob")
    question = await _keyboard(telegram, TG_USER, "Delete the voice Bob")
    _tap(telegram, TG_USER, TG_USER, question, "Yes")
    assert "Bob" in await telegram.reply(contains="Deleted")
    edited = telegram.server.get_message(TG_USER, question["message_id"])
    assert edited is not None and edited["text"].endswith("→ Yes") and not _buttons(edited)

    monkeypatch.setattr(tg_context, "CONFIRM_TIMEOUT", 0.3)
    telegram.send("/delete Alice")
    question = await _keyboard(telegram, TG_USER, "Delete the voice Alice")
    await telegram.reply(contains="Cancelled")  # nobody answered
    edited = telegram.server.get_message(TG_USER, question["message_id"])
    assert edited is not None and edited["text"].endswith("→ Cancel")
    telegram.send("/voices")
    assert "Alice" in await telegram.reply(contains="Your voices")
