"""The fake Bot API server driven by a real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

# httpx honours proxy variables even for 127.0.0.1; the fake server must be reached directly.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import aiohttp  # noqa: E402
import av  # noqa: E402
import pytest  # noqa: E402
from telegram import (  # noqa: E402
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultCachedVoice,
    InputMediaAudio,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_server import FakeTelegramServer  # noqa: E402

USER = 1001
GROUP = -100500


def make_ogg(seconds: float = 2.0) -> bytes:
    """A real OGG/Opus file of silence."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000, layout="mono")
        frame = av.AudioFrame(format="s16", layout="mono", samples=int(48000 * seconds))
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.rate, frame.pts = 48000, 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    srv = FakeTelegramServer()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def build_app(server: FakeTelegramServer, *, rate_limiter: bool = False) -> Application:
    builder = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.file_base_url)
    )
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    return builder.build()


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=5, poll_interval=0)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@contextlib.asynccontextmanager
async def plain_bot(server: FakeTelegramServer, token: str | None = None) -> AsyncIterator[Bot]:
    async with Bot(
        token or server.token, base_url=server.base_url, base_file_url=server.file_base_url
    ) as bot:
        yield bot


async def test_start_command_answered_via_polling(server: FakeTelegramServer) -> None:
    seen: list[Update] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        assert update.effective_message is not None
        await update.effective_message.reply_text("<b>Hello</b> there", parse_mode="HTML")

    app = build_app(server)
    app.add_handler(CommandHandler("start", start))
    async with polling(app):
        assert app.bot.username == "vocu_test_bot"
        server.push_message(USER, USER, "/start", username="alice", language_code="de")
        [call] = await server.wait_for("sendMessage")
        assert call.chat_id == USER
        assert call.params["text"] == "<b>Hello</b> there"
        assert call.result["text"] == "Hello there"  # HTML stripped like Telegram does

        # Group command addressed to the bot, replying to an earlier message.
        first = server.push_message(GROUP, USER, "hi all", chat_type="supergroup")
        server.push_message(
            GROUP, USER, "/start@vocu_test_bot now", chat_type="supergroup",
            reply_to_message_id=first["message_id"],
        )  # fmt: skip
        calls = await server.wait_for("sendMessage", count=2)
        assert calls[1].chat_id == GROUP

    private, group = seen
    assert private.effective_user is not None
    assert private.effective_user.username == "alice"
    assert private.effective_user.language_code == "de"
    assert group.effective_message is not None
    assert group.effective_message.reply_to_message is not None
    assert group.effective_message.reply_to_message.text == "hi all"
    # The bot's replies are full messages with increasing ids per chat.
    assert [m["message_id"] for m in server.bot_messages(USER)] == [2]
    assert server.pending_updates == []  # all confirmed by the shutdown getUpdates


async def test_captioned_voice_downloaded_through_get_file(server: FakeTelegramServer) -> None:
    ogg = make_ogg(2.0)
    spec = server.add_file(ogg, mime_type="audio/ogg")
    assert spec.duration == 2 and spec.size == len(ogg)
    received: dict[str, Any] = {}
    done = asyncio.Event()

    async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.voice is not None
        received["caption"] = message.caption
        received["duration"] = message.voice.to_dict()["duration"]  # int without deprecation
        tg_file = await message.voice.get_file()
        received["bytes"] = bytes(await tg_file.download_as_bytearray())
        done.set()

    app = build_app(server)
    app.add_handler(MessageHandler(filters.VOICE, on_voice))
    async with polling(app):
        server.push_message(USER, USER, voice=spec, caption="please transcribe")
        await asyncio.wait_for(done.wait(), 10)

    assert received["bytes"] == ogg
    assert received["caption"] == "please transcribe"
    assert received["duration"] == 2


async def test_send_voice_upload_recorded_and_reusable(server: FakeTelegramServer) -> None:
    ogg = make_ogg(1.0)

    async def speak(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_voice(ogg, caption="here", filename="speech.ogg")

    app = build_app(server)
    app.add_handler(CommandHandler("speak", speak))
    async with polling(app):
        server.push_message(USER, USER, "/speak hello")
        [call] = await server.wait_for("sendVoice")

        upload = call.files["voice"]
        assert upload.data == ogg
        assert upload.filename == "speech.ogg"
        assert call.params["caption"] == "here"
        voice = call.result["voice"]
        assert voice["duration"] == 1 and voice["file_size"] == len(ogg)
        assert server.file_bytes(voice["file_id"]) == ogg

        # Re-sending by file_id works and the bytes are downloadable.
        message = await app.bot.send_voice(USER, voice["file_id"])
        assert message.voice is not None and message.voice.file_id == voice["file_id"]
        tg_file = await app.bot.get_file(voice["file_id"])
        assert bytes(await tg_file.download_as_bytearray()) == ogg

        with pytest.raises(BadRequest, match="Wrong file identifier"):
            await app.bot.send_voice(USER, "no-such-file-id")


async def test_rate_limit_429_is_retried_by_aioratelimiter(server: FakeTelegramServer) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("eventually")

    server.fail_next("sendMessage", retry_after=1)
    app = build_app(server, rate_limiter=True)
    app.add_handler(CommandHandler("start", start))
    async with polling(app):
        server.push_message(USER, USER, "/start")
        await server.wait_for("sendMessage", ok=True, timeout=10)

    failed, succeeded = server.calls_to("sendMessage")
    assert failed.error is not None and failed.error["error_code"] == 429
    assert failed.error["parameters"] == {"retry_after": 1}
    assert succeeded.ok and succeeded.result["text"] == "eventually"
    assert succeeded.time - failed.time >= 1.0


async def test_callback_query_answered_and_message_edited(server: FakeTelegramServer) -> None:
    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("chosen!")
        await query.edit_message_text(f"you picked {query.data}")

    app = build_app(server)
    app.add_handler(CallbackQueryHandler(on_button))
    server.open_private_chat(USER)
    async with polling(app):
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Pick", callback_data="voice:7")]])
        sent = await app.bot.send_message(USER, "choose", reply_markup=keyboard)
        assert sent.reply_markup == keyboard

        query = server.push_callback_query(USER, USER, sent.message_id, "voice:7")
        [answer] = await server.wait_for("answerCallbackQuery")
        [edit] = await server.wait_for("editMessageText")

    assert answer.params["callback_query_id"] == query["id"]
    assert server.callback_answers[query["id"]]["text"] == "chosen!"
    assert edit.params["message_id"] == sent.message_id
    stored = server.get_message(USER, sent.message_id)
    assert stored is not None
    assert stored["text"] == "you picked voice:7"
    assert "reply_markup" not in stored  # the edit did not repeat the keyboard


async def test_inline_query_answered_and_inline_message_media_edited(
    server: FakeTelegramServer,
) -> None:
    cached = server.add_file(make_ogg(1.0), mime_type="audio/ogg")

    async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        assert query is not None
        result = InlineQueryResultCachedVoice("r1", cached.file_id, title=query.query)
        await query.answer([result], cache_time=0, is_personal=True)

    async def on_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chosen = update.chosen_inline_result
        assert chosen is not None and chosen.inline_message_id is not None
        await context.bot.edit_message_media(
            InputMediaAudio(cached.file_id, title="final"),
            inline_message_id=chosen.inline_message_id,
        )

    app = build_app(server)
    app.add_handler(InlineQueryHandler(on_inline))
    app.add_handler(ChosenInlineResultHandler(on_chosen))
    async with polling(app):
        inline = server.push_inline_query(USER, "hello world")
        [answer] = await server.wait_for("answerInlineQuery")
        server.push_chosen_inline_result(USER, "r1", "hello world", "INLINE-1")
        [edit] = await server.wait_for("editMessageMedia")

        with pytest.raises(BadRequest, match="inline message"):
            await app.bot.edit_message_media(
                InputMediaAudio(b"new bytes"), inline_message_id="INLINE-1"
            )

    assert answer.params["inline_query_id"] == inline["id"]
    [result] = answer.params["results"]
    assert result == {
        "type": "voice",
        "id": "r1",
        "voice_file_id": cached.file_id,
        "title": "hello world",
    }
    assert answer.params["is_personal"] is True
    assert edit.ok and edit.result is True
    assert server.inline_messages["INLINE-1"]["file_id"] == cached.file_id


async def test_set_my_commands_recorded_per_language(server: FakeTelegramServer) -> None:
    async with plain_bot(server) as bot:
        await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("voice", "Voice")])
        await bot.set_my_commands([BotCommand("start", "Старт")], language_code="ru")
        await bot.set_my_commands(
            [BotCommand("voice", "Group voice")], scope=BotCommandScopeAllGroupChats()
        )
        await bot.set_my_description("Vocu voices", language_code="en")
        await bot.set_my_short_description("Voices")

        assert [c.command for c in await bot.get_my_commands()] == ["start", "voice"]
        [ru] = await bot.get_my_commands(language_code="ru")
        assert ru.description == "Старт"
        assert await bot.get_my_commands(language_code="fr") == ()
        with pytest.raises(BadRequest):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        await bot.delete_my_commands(language_code="ru")

    assert [c["command"] for c in server.calls_to("setMyCommands")[0].params["commands"]] == [
        "start",
        "voice",
    ]
    assert server.get_commands(language_code="ru") is None
    assert server.get_commands({"type": "all_group_chats"}) == [
        {"command": "voice", "description": "Group voice"}
    ]
    assert server.descriptions == {"en": "Vocu voices"}
    assert server.short_descriptions == {"": "Voices"}


async def test_error_knobs_map_to_ptb_exceptions(server: FakeTelegramServer) -> None:
    big = server.add_file(b"x", mime_type="audio/ogg", file_size=21 * 1024 * 1024)
    server.forbid_voice(USER)
    server.open_private_chat(USER)
    server.block_chat(777)
    server.set_member_status(GROUP, USER, "administrator")
    server.set_member_status(GROUP, 4242, "creator")
    server.fail_next("sendChatAction", error_code=500, description="Internal Server Error")

    async with plain_bot(server) as bot:
        with pytest.raises(BadRequest, match="Voice_messages_forbidden"):
            await bot.send_voice(USER, make_ogg(0.5))
        await bot.send_audio(USER, b"ID3fake", filename="a.mp3", duration=3)
        with pytest.raises(BadRequest, match="File is too big"):
            await bot.get_file(big.file_id)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(777, "hi")
        with pytest.raises(Forbidden, match="can't initiate"):  # never pressed Start
            await bot.send_message(778, "hi")
        with pytest.raises(RetryAfter):
            server.fail_next("sendMessage", retry_after=3)
            await bot.send_message(USER, "hi")
        with pytest.raises(Exception, match="Internal Server Error"):
            await bot.send_chat_action(USER, "record_voice")
        assert await bot.send_chat_action(USER, "record_voice") is True

        message = await bot.send_message(USER, "same")
        with pytest.raises(BadRequest, match="not modified"):
            await message.edit_text("same")
        assert await message.delete() is True
        with pytest.raises(BadRequest, match="not found"):
            await message.delete()

        member = await bot.get_chat_member(GROUP, USER)
        assert member.status == "administrator"
        assert (await bot.get_chat_member(GROUP, 5)).status == "member"
        admins = await bot.get_chat_administrators(GROUP)
        assert {a.user.id for a in admins} == {USER, 4242}

    wrong_token = Bot("1:wrong", base_url=server.base_url, base_file_url=server.file_base_url)
    with pytest.raises(InvalidToken):
        await wrong_token.initialize()
    await wrong_token.shutdown()
    audio = server.calls_to("sendAudio")[0]
    assert audio.files["audio"].content_type == "audio/mpeg"
    assert audio.result["audio"]["file_name"] == "a.mp3"


async def test_raw_long_polling_offsets_and_body_encodings(server: FakeTelegramServer) -> None:
    url = f"{server.base_url}{server.token}"
    async with aiohttp.ClientSession() as http:
        poll = asyncio.create_task(http.post(f"{url}/getUpdates", json={"timeout": 5}))
        await asyncio.sleep(0.1)
        assert not poll.done()
        server.push_message(USER, USER, "/start")
        resp = await asyncio.wait_for(poll, 2)
        body = await resp.json()
        [update] = body["result"]
        assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

        # Not confirmed yet: delivered again; offset confirms it.
        async with http.get(f"{url}/getUpdates", params={"timeout": "0"}) as again:
            assert len((await again.json())["result"]) == 1
        data = {"offset": str(update["update_id"] + 1), "timeout": "0"}
        async with http.post(f"{url}/getUpdates", data=data) as confirmed:
            assert (await confirmed.json())["result"] == []
        assert server.pending_updates == []

        async with http.post(f"{url}/noSuchMethod") as missing:
            assert missing.status == 404
        async with http.post(f"{server.base_url}123:bad/getMe") as unauthorized:
            assert unauthorized.status == 401
            assert await unauthorized.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }

        markup = '{"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}'
        async with http.post(
            f"{url}/sendMessage", data={"chat_id": str(USER), "text": "42", "reply_markup": markup}
        ) as sent:
            assert (await sent.json())["result"]["text"] == "42"
    call = server.calls_to("sendMessage")[-1]
    assert call.params == {
        "chat_id": USER,
        "text": "42",
        "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]},
    }


async def test_webhook_receives_posted_updates_and_checks_secret(
    server: FakeTelegramServer,
) -> None:
    replies: list[str] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        replies.append(update.effective_message.text or "")
        await update.effective_message.reply_text("webhook hello")

    port = free_port()
    app = build_app(server)
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="tg-hook", secret_token="s3cret"
    )
    try:
        hook = f"http://127.0.0.1:{port}/tg-hook"
        assert server.webhook["url"] == hook
        assert server.webhook["secret_token"] == "s3cret"

        update = server.make_update_message(USER, USER, "/start")
        assert server.pending_updates == []  # make_* does not queue
        assert await server.post_update_to(hook, update) == 403
        assert await server.post_update_to(hook, update, secret_token="wrong") == 403
        assert await server.post_update_to(hook, update, secret_token="s3cret") == 200
        [call] = await server.wait_for("sendMessage")
        assert call.result["text"] == "webhook hello"
        assert replies == ["/start"]

        with pytest.raises(Conflict):
            await app.bot.get_updates()
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
