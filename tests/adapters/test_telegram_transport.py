"""Telegram adapter: run_telegram (polling, webhook with secret), load, and token hygiene."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram.error import NetworkError, TimedOut

from adapters.telegram_app import TelegramBot, run_telegram
from adapters.telegram_app.transport import AiohttpRequest
from bot.app import App
from tests.adapters.conftest import (
    TG_GROUP,
    TG_USER,
    TelegramHarness,
    ogg_seconds,
    telegram_settings,
    until,
)
from tests.conftest import make_api_key
from tests.fakes.telegram_server import FakeTelegramServer
from tests.media import tone


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise TimeoutError(f"nothing listens on {port}")


@contextlib.asynccontextmanager
async def running(app: App, server: FakeTelegramServer, **settings: Any) -> AsyncIterator[None]:
    """run_telegram as the CLI runs it: a task, cancelled at the end."""
    task = asyncio.create_task(run_telegram(app, telegram_settings(server, **settings)))
    try:
        ready = "setWebhook" if settings else "deleteWebhook"
        await until(lambda: task.done() or server.calls_to(ready))
        assert not task.done(), task.exception()
        if port := settings.get("TELEGRAM_WEBHOOK_PORT"):
            await _listening(int(port))  # PTB calls setWebhook before it starts listening
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_run_telegram_polls_until_cancelled(app: App, tg_server: FakeTelegramServer) -> None:
    async with running(app, tg_server):
        tg_server.push_message(TG_USER, TG_USER, "/help")
        await tg_server.wait_for("sendMessage")
    tg_server.push_message(TG_USER, TG_USER, "/help")  # after shutdown: nobody answers
    await asyncio.sleep(0.5)
    assert len(tg_server.calls_to("sendMessage")) == 1


async def test_webhook_mode_checks_the_secret(app: App, tg_server: FakeTelegramServer) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    settings = {
        "TELEGRAM_WEBHOOK_URL": url,
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": port,
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-Token_1",
    }
    async with running(app, tg_server, **settings):
        assert tg_server.webhook["url"] == url
        assert tg_server.webhook["secret_token"] == "s3cret-Token_1"
        update = tg_server.make_update_message(TG_USER, TG_USER, "/help")
        assert await tg_server.post_update_to(url, update) == 403
        assert await tg_server.post_update_to(url, update, "wrong") == 403
        await asyncio.sleep(0.2)
        assert not tg_server.calls_to("sendMessage")
        assert await tg_server.post_update_to(url, update, "s3cret-Token_1") == 200
        await tg_server.wait_for("sendMessage")
    assert not tg_server.calls_to("getUpdates")


async def test_webhook_without_a_configured_secret_uses_a_random_one(
    app: App, tg_server: FakeTelegramServer
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    bot = TelegramBot(
        app,
        telegram_settings(
            tg_server,
            TELEGRAM_WEBHOOK_URL=url,
            TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
            TELEGRAM_WEBHOOK_PORT=port,
        ),
    )
    await bot.start()
    try:
        secret = tg_server.webhook["secret_token"]
        assert secret == bot.webhook_secret and len(secret) >= 32
        update = tg_server.make_update_message(TG_USER, TG_USER, "/help")
        assert await tg_server.post_update_to(url, update) == 403
        assert await tg_server.post_update_to(url, update, secret) == 200
        await tg_server.wait_for("sendMessage")
    finally:
        await bot.stop()


async def test_twenty_chats_at_once(telegram: TelegramHarness) -> None:
    telegram.simulator.faults.generation_latency = 0.5
    telegram.send("/say Warm up the voice list and the encoder.")
    await telegram.call("sendVoice")
    start = time.monotonic()
    for chat in range(2000, 2020):
        telegram.send(f"/say Hello from chat number {chat}.", chat=chat, user=chat)
    await until(lambda: len(telegram.sent("sendVoice")) == 21, timeout=20)
    elapsed = time.monotonic() - start
    assert elapsed < 4.0, f"20 chats took {elapsed:.1f} s; serially it would be ≥ 10 s"
    voices = telegram.sent("sendVoice")[1:]
    assert sorted(c.chat_id for c in voices) == list(range(2000, 2020))
    for call in voices:
        assert ogg_seconds(call.files["voice"].data)[0] == "opus"


async def test_the_token_and_user_keys_never_reach_the_logs(
    app: App, tg_server: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything logged at DEBUG while the bot starts, downloads, speaks, retries, stops."""
    token = tg_server.token
    user_key, leaked = make_api_key(), make_api_key()
    caplog.set_level(logging.DEBUG)
    bot = TelegramBot(app, telegram_settings(tg_server))
    await bot.start()
    try:
        audio = tg_server.add_file(tone(4.0), mime_type="audio/mpeg", file_name="x.mp3")
        tg_server.push_message(TG_USER, TG_USER, None, audio=audio, caption="/style_add Alice Z")
        tg_server.push_message(TG_USER, TG_USER, "/say Is the token safe?")
        await tg_server.wait_for("sendVoice")
        await until(lambda: any("Added" in c.params.get("text", "") for c in tg_server.calls))
        tg_server.fail_next("sendMessage", 1, 502, "Bad Gateway")
        tg_server.push_message(TG_USER, TG_USER, "/help")
        await tg_server.wait_for("sendMessage", 2, ok=True)
        tg_server.push_message(TG_USER, TG_USER, f"/key set {user_key}")  # a user's own secret
        tg_server.push_message(TG_GROUP, TG_USER, f"/key set {leaked}", chat_type="supergroup")
        await tg_server.wait_for("deleteMessage")
        await tg_server.wait_for("sendMessage", 4, ok=True)
    finally:
        await bot.stop()
    assert any(r.name.startswith("telegram") and r.levelno == logging.DEBUG for r in caplog.records)
    texts = [c.params.get("text", "") for c in tg_server.calls_to("sendMessage", ok=True)]
    assert any("saved" in t.lower() for t in texts), texts  # the key was used, not just seen
    for secret in (token, token.split(":", 1)[1], user_key, leaked):
        assert secret not in caplog.text
        for record in caplog.records:
            assert secret not in record.getMessage()
            assert secret not in str(record.args)
            assert record.exc_text is None or secret not in record.exc_text


async def test_transport_errors_carry_no_url() -> None:
    """The Bot API URL holds the token: failures must not repeat it."""
    request = AiohttpRequest(connect_timeout=1.0, read_timeout=0.2)
    await request.initialize()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2)  # accepts, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        refused = f"http://127.0.0.1:{_free_port()}/bot4242:SECRET/getMe"
        with pytest.raises(NetworkError) as failed:
            await request.do_request(refused, "POST")
        assert "SECRET" not in str(failed.value) and failed.value.__cause__ is None
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/bot4242:SECRET/getMe", "POST")
    finally:
        await request.shutdown()
        server.close()
