"""Telegram adapter: a long task with one progress message, then the task list and its actions."""

from __future__ import annotations

from typing import Any

from tests.adapters.conftest import TG_USER, TelegramHarness, ogg_seconds, until


def _buttons(message: dict[str, Any]) -> dict[str, str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def _keyboard(telegram: TelegramHarness, contains: str) -> dict[str, Any]:
    found = await until(
        lambda: [
            m for m in telegram.server.bot_messages(TG_USER)
            if _buttons(m) and contains in m.get("text", "")
        ]
    )  # fmt: skip
    return found[-1]


def _tap(telegram: TelegramHarness, message: dict[str, Any], label: str) -> None:
    data = _buttons(message)[label]
    telegram.server.push_callback_query(TG_USER, TG_USER, message["message_id"], data)


async def test_long_text_task_progress_and_actions(telegram: TelegramHarness) -> None:
    command = telegram.send("/long " + "This is a rather long text for a task. " * 5)
    _tap(telegram, await _keyboard(telegram, "credits"), "Yes")
    voice = await telegram.call("sendVoice")
    assert voice.params["reply_parameters"]["message_id"] == command["message_id"]
    assert ogg_seconds(voice.files["voice"].data)[0] == "opus"

    def progress() -> list[dict[str, Any]]:
        return [m for m in telegram.server.bot_messages(TG_USER) if "Task" in m.get("text", "")]

    await until(lambda: progress()[0]["text"].startswith("✅"))
    assert len(progress()) == 1  # one message, edited in place
    edits = [c.params["text"] for c in telegram.sent("editMessageText")]
    assert edits[-1].startswith("✅")

    telegram.send("/tasks")
    listing = await _keyboard(telegram, "1")
    [task_id] = list(_buttons(listing))
    _tap(telegram, listing, task_id)
    details = await _keyboard(telegram, f"Task {task_id}")
    assert {"Regenerate", "Delete"} <= set(_buttons(details))
    _tap(telegram, details, "Delete")
    question = await _keyboard(telegram, "Its credits are not refunded")
    _tap(telegram, question, "Yes")
    assert task_id in await telegram.reply(contains="was deleted at Vocu")
