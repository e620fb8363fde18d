"""Telegram adapter: speech delivery, fallbacks, file id reuse, retries, progress, chat actions."""

from __future__ import annotations

import asyncio
import io

import av

from adapters.telegram_app import delivery as tg_delivery
from adapters.telegram_app.context import TelegramContext
from adapters.telegram_app.delivery import AUDIO_KEY, Target
from bot.context import AudioReply
from tests.adapters.conftest import TG_USER, TelegramHarness, ogg_seconds
from tests.media import tone


def _ctx(telegram: TelegramHarness, chat: int = TG_USER, reply_to: int | None = None):
    bot = telegram.bot.application.bot
    telegram.server.open_private_chat(TG_USER)
    return TelegramContext(
        telegram.app, telegram.bot.runtime.ui, Target(bot, chat, reply_to),
        user_id=TG_USER, language_code="en", is_private=True, is_admin=True,
    )  # fmt: skip


def _mp3_codec(data: bytes) -> str:
    with av.open(io.BytesIO(data)) as container:
        return str(container.streams.audio[0].codec_context.name)


async def test_voice_notes_forbidden_fall_back_to_an_audio_file(telegram: TelegramHarness) -> None:
    telegram.server.forbid_voice(TG_USER)
    message = telegram.send("/say Privacy settings say no voice notes.")
    call = await telegram.call("sendAudio")
    refused = telegram.server.calls_to("sendVoice", ok=False)
    assert refused and "VOICE_MESSAGES_FORBIDDEN" in refused[0].error["description"]
    assert call.params["performer"] and call.params["title"].startswith(call.params["performer"])
    assert call.params["reply_parameters"]["message_id"] == message["message_id"]
    assert _mp3_codec(call.files["audio"].data).startswith("mp3")
    assert call.params["duration"] >= 1
    assert telegram.generations() == 1  # the fallback re-uses the paid audio


async def test_delivery_setting_file_sends_audio(telegram: TelegramHarness) -> None:
    telegram.send("/settings delivery file")
    await telegram.reply(contains="Saved")
    telegram.send("/say As a file, please.")
    await telegram.call("sendAudio")
    assert not telegram.server.calls_to("sendVoice")


async def test_a_repeated_phrase_is_resent_by_file_id(telegram: TelegramHarness) -> None:
    telegram.send("/say Say it again, Sam.")
    first = await telegram.call("sendVoice")
    file_id = first.result["voice"]["file_id"]
    await _file_id_remembered(telegram, file_id)  # the bot stores it right after the send
    telegram.send("/say Say it again, Sam.")
    second = await telegram.call("sendVoice", count=2)
    assert first.files and not second.files  # no upload the second time
    assert second.params["voice"] == first.result["voice"]["file_id"]
    assert telegram.generations() == 1  # and no Vocu call


async def test_known_file_ids_skip_transcoding_and_upload(telegram: TelegramHarness) -> None:
    ctx = _ctx(telegram)
    mp3 = tone(2.0)
    reply = AudioReply(mp3=mp3, title="Alice", duration=2.0, voice_name="Alice")
    await ctx.reply_audio(reply)
    uploaded = await telegram.call("sendVoice")
    assert reply.file_ids["telegram"] == uploaded.result["voice"]["file_id"]
    await ctx.reply_audio(reply)
    again = await telegram.call("sendVoice", count=2)
    assert again.params["voice"] == reply.file_ids["telegram"] and not again.files
    reply.prefer_file = True
    await ctx.reply_audio(reply)
    await ctx.reply_audio(reply)
    audio_calls = telegram.sent("sendAudio")
    assert len(audio_calls) == 2 and audio_calls[0].files and not audio_calls[1].files
    assert reply.file_ids[AUDIO_KEY] == audio_calls[1].params["audio"]


async def test_flood_control_429_is_waited_out(telegram: TelegramHarness) -> None:
    telegram.server.fail_next("sendVoice", 1, 429, retry_after=1)
    telegram.send("/say Flood control test.")
    delivered = await telegram.call("sendVoice")
    [refused] = telegram.server.calls_to("sendVoice", ok=False)
    assert refused.error["parameters"]["retry_after"] == 1
    assert delivered.time - refused.time >= 1.0


async def test_network_errors_are_retried_then_reported(telegram: TelegramHarness) -> None:
    telegram.server.fail_next("sendVoice", 2, 502, "Bad Gateway")
    telegram.send("/say Retry me.")
    await telegram.call("sendVoice")
    assert len(telegram.server.calls_to("sendVoice", ok=False)) == 2

    telegram.server.fail_next("sendVoice", 10, 500, "Internal Server Error")
    telegram.send("/say This one will not arrive.")
    text = await telegram.reply(contains="sending it failed")  # kept for a later delivery
    assert "no extra credits" in text
    assert len(telegram.server.calls_to("sendVoice", ok=False)) == 5  # 2 + three attempts
    [job] = [
        j for j in await telegram.app.storage.list_jobs("telegram", str(TG_USER)) if j.kind == "say"
    ]
    assert job.status == "generated" and job.result_path


async def test_progress_is_one_message_edited_in_place(telegram: TelegramHarness) -> None:
    ctx = _ctx(telegram)
    await ctx.progress("Queued…")
    await ctx.progress("Queued…")  # unchanged: no call
    await ctx.progress("Generating: 40 %")
    await ctx.progress("Generating: 100 %")
    assert len(telegram.sent("sendMessage")) == 1
    edits = telegram.sent("editMessageText")
    assert [e.params["text"] for e in edits] == ["Generating: 40 %", "Generating: 100 %"]
    [message] = telegram.server.bot_messages(TG_USER)
    assert message["text"] == "Generating: 100 %"


async def test_record_voice_is_repeated_while_working(
    telegram: TelegramHarness, monkeypatch
) -> None:
    monkeypatch.setattr(tg_delivery, "ACTION_EVERY", 0.1)
    telegram.simulator.faults.generation_latency = 0.6
    telegram.send("/say Take your time.")
    call = await telegram.call("sendVoice")
    actions = [c for c in telegram.sent("sendChatAction") if c.params["action"] == "record_voice"]
    assert len(actions) >= 3
    assert all(a.time <= call.time for a in actions)
    await asyncio.sleep(0.3)  # and they stop once the work is done
    later = [c for c in telegram.sent("sendChatAction") if c.params["action"] == "record_voice"]
    assert len(later) == len(actions)
    codec, seconds = ogg_seconds(call.files["voice"].data)
    assert codec == "opus" and seconds > 0.5


async def test_the_courier_delivers_outside_any_command(telegram: TelegramHarness) -> None:
    courier = telegram.app.couriers["telegram"]
    original = telegram.send("/help")
    await telegram.reply()
    await courier.send_text(
        str(TG_USER), "Your task is done.", reply_to=str(original["message_id"])
    )
    call = telegram.sent("sendMessage")[-1]
    assert call.params["text"] == "Your task is done."
    assert call.params["reply_parameters"]["message_id"] == original["message_id"]
    reply = AudioReply(mp3=tone(1.5), title="Bob", duration=1.5, voice_name="Bob")
    await courier.send_audio(str(TG_USER), reply)
    voice = await telegram.call("sendVoice")
    assert ogg_seconds(voice.files["voice"].data)[0] == "opus"
    assert reply.file_ids["telegram"] == voice.result["voice"]["file_id"]


async def _file_id_remembered(telegram: TelegramHarness, file_id: str) -> None:
    """Wait until some cache entry holds `file_id` for Telegram."""
    from sqlalchemy import text

    async def stored() -> bool:
        async with telegram.app.storage.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT file_ids FROM cache_entries"))).scalars()
            return any(file_id in str(ids) for ids in rows)

    for _ in range(500):
        if await stored():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("the file id was never remembered")
