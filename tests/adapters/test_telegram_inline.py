"""Telegram adapter: inline mode (no generation per keystroke) and deep-link import."""

from __future__ import annotations

import re

from tests.adapters.conftest import TG_OTHER, TG_USER, TelegramHarness, until


async def test_inline_query_lists_voices_and_generates_only_on_choice(
    telegram: TelegramHarness,
) -> None:
    server = telegram.server
    server.open_private_chat(TG_USER)  # the clip is uploaded there to get a file id
    for partial in ("Hel", "Hello wor", "Hello world!"):  # the user typing
        query = server.push_inline_query(TG_USER, partial)
        await until(lambda q=query: q["id"] in server.inline_answers)
    answer = server.inline_answers[query["id"]]
    results = answer["results"]
    assert answer["is_personal"] is True and answer["cache_time"] <= 10
    titles = {r["title"] for r in results}
    assert {"Alice", "Bob"} <= titles
    alice = next(r for r in results if r["title"] == "Alice")
    assert alice["input_message_content"]["message_text"] == "🎙 Alice: Hello world!"
    assert alice["reply_markup"]["inline_keyboard"]  # needed to get an inline_message_id
    assert telegram.generations() == 0  # nothing spent while typing

    server.push_chosen_inline_result(TG_USER, alice["id"], "Hello world!", "inline-1")
    await until(lambda: server.inline_messages["inline-1"]["edits"])
    edit = server.inline_messages["inline-1"]["edits"][-1]
    assert edit["method"] == "editMessageMedia"
    assert edit["media"]["type"] == "audio" and edit["media"]["title"].startswith("Alice")
    [upload] = telegram.sent("sendAudio", TG_USER)
    assert edit["media"]["media"] == upload.result["audio"]["file_id"]
    assert telegram.generations() == 1
    await until(lambda: not server.bot_messages(TG_USER))  # the helper upload was tidied away

    empty = server.push_inline_query(TG_USER, "   ")
    await until(lambda: empty["id"] in server.inline_answers)
    assert server.inline_answers[empty["id"]]["results"] == []


async def test_inline_errors_replace_the_placeholder(telegram: TelegramHarness) -> None:
    server = telegram.server
    server.open_private_chat(TG_USER)
    server.push_chosen_inline_result(TG_USER, "no-such-voice", "Hi there", "inline-2")
    await until(lambda: server.inline_messages["inline-2"]["edits"])
    edit = server.inline_messages["inline-2"]["edits"][-1]
    assert edit["method"] == "editMessageText" and "no-such-voice" in edit["text"]
    assert telegram.generations() == 0


async def test_deep_link_start_imports_a_shared_voice(telegram: TelegramHarness) -> None:
    telegram.send("/share Alice")
    card = await telegram.reply(contains="/import")
    share_id = re.search(r"/import (\S+)", card).group(1)  # type: ignore[union-attr]
    link = f"https://t.me/vocu_test_bot?start=import_{share_id}"
    assert link in card  # one tap to add the voice
    telegram.send(f"/start import_{share_id}", chat=TG_OTHER, user=TG_OTHER)
    assert "Alice" in await telegram.reply(TG_OTHER, contains="Added the voice")


async def test_inline_choice_without_a_private_chat_says_start_and_spends_nothing(
    telegram: TelegramHarness,
) -> None:
    server = telegram.server  # TG_USER never pressed Start in a private chat with the bot
    server.push_chosen_inline_result(TG_USER, "no-matter", "Hello there", "inline-3")
    await until(lambda: server.inline_messages["inline-3"]["edits"])
    edit = server.inline_messages["inline-3"]["edits"][-1]
    assert edit["method"] == "editMessageText" and "press Start" in edit["text"]
    [[button]] = edit["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/{server.bot['username']}?start=inline"
    assert telegram.generations() == 0
    assert not telegram.sent("sendAudio")
