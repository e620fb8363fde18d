"""Telegram adapter: files reaching the core (caption, reply, document) and the size check."""

from __future__ import annotations

from tests.adapters.conftest import TG_GROUP, TG_OTHER, TG_USER, TelegramHarness, aac_mp4, until
from tests.media import png, tone


async def _confirm(telegram: TelegramHarness, chat: int, user: int, yes: bool = True) -> None:
    """Press a button of the newest confirmation keyboard in `chat`."""
    question = await until(
        lambda: [
            m for m in telegram.server.bot_messages(chat)
            if any(b["callback_data"].startswith("c:")
                   for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row)
        ]
    )  # fmt: skip
    message = question[-1]
    buttons = message["reply_markup"]["inline_keyboard"][0]
    data = buttons[0 if yes else 1]["callback_data"]
    telegram.server.push_callback_query(chat, user, message["message_id"], data)


async def test_avatar_from_a_photo_with_caption(telegram: TelegramHarness) -> None:
    photo = telegram.server.add_file(png(300, 200), mime_type="image/png")
    telegram.send(None, photo=photo, caption="/avatar Alice")
    assert "300×200" in await telegram.reply(contains="avatar")
    assert telegram.sent("getFile")[0].params["file_id"] == photo.file_id


async def test_avatar_from_an_image_document_by_reply(telegram: TelegramHarness) -> None:
    doc = telegram.server.add_file(png(64, 48), mime_type="image/png", file_name="face.png")
    original = telegram.send(None, document=doc, chat=TG_GROUP)
    telegram.send("/avatar@vocu_test_bot Alice", chat=TG_GROUP,
                  reply_to_message_id=original["message_id"])  # fmt: skip
    assert "64×48" in await telegram.reply(TG_GROUP, contains="avatar")


async def test_clone_from_a_voice_note_caption_after_consent(telegram: TelegramHarness) -> None:
    voice = telegram.server.add_file(tone(4.0, "ogg"), mime_type="audio/ogg")
    telegram.send(None, voice=voice, caption="/clone Carol")
    telegram.server.push_callback_query(TG_USER, TG_OTHER, 2, "c:not-a-token:1")  # noise
    await _confirm(telegram, TG_USER, TG_OTHER)  # someone else's tap does not count
    await _confirm(telegram, TG_USER, TG_USER)
    assert "Carol" in await telegram.reply(contains="Creating the voice")
    assert "ready" in await telegram.reply(contains="Carol is ready")
    question = next(m for m in telegram.server.bot_messages(TG_USER) if "permission" in m["text"])
    assert question["text"].endswith("→ Yes") and "reply_markup" not in question


async def test_clone_by_replying_to_an_audio_then_cancel(telegram: TelegramHarness) -> None:
    audio = telegram.server.add_file(tone(4.0), mime_type="audio/mpeg", file_name="me.mp3")
    original = telegram.send(None, audio=audio)
    telegram.send("/clone Dave", reply_to_message_id=original["message_id"])
    await _confirm(telegram, TG_USER, TG_USER, yes=False)
    assert "Cancelled" in await telegram.reply(contains="Cancelled")
    assert not telegram.sent("getFile")  # nothing downloaded without consent


async def test_style_from_an_audio_document_caption(telegram: TelegramHarness) -> None:
    doc = telegram.server.add_file(tone(4.0, "wav"), mime_type="audio/wav", file_name="calm.wav")
    telegram.send(None, document=doc, caption="/style_add Alice Whisper")
    assert "Whisper" in await telegram.reply(contains="Added the style")


async def test_clone_from_a_video_note_by_reply(telegram: TelegramHarness) -> None:
    note = telegram.server.add_file(aac_mp4(4.0), mime_type="video/mp4")
    original = telegram.send(None, video_note=note)
    telegram.send("/clone Erin", reply_to_message_id=original["message_id"])
    await _confirm(telegram, TG_USER, TG_USER)
    assert "Erin" in await telegram.reply(contains="Creating the voice")


async def test_files_over_20_mb_are_refused_before_download(telegram: TelegramHarness) -> None:
    """The core accepts 100 MB samples; the Bot API serves 20 MB: the adapter says so."""
    big = telegram.server.add_file(
        tone(4.0), mime_type="audio/mpeg", file_name="big.mp3", file_size=25 * 1024 * 1024
    )
    telegram.send(None, audio=big, caption="/clone Big")
    await _confirm(telegram, TG_USER, TG_USER)
    assert "limit is 20 MB" in await telegram.reply(contains="too large")
    assert not telegram.sent("getFile")
