"""Adapter fixtures: the core App on the simulator, plus one section per platform.

Tests only talk to loopback servers: proxy variables are dropped before any HTTP client exists.
"""

from __future__ import annotations

import os

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import asyncio  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
from collections.abc import AsyncIterator, Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import av  # noqa: E402
import pytest  # noqa: E402

from bot.app import App, Limits  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.storage import Storage  # noqa: E402
from bot.vocu.client import VocuClient  # noqa: E402
from bot.vocu.simulator import Simulator  # noqa: E402
from tests.fakes.telegram_objects import Call  # noqa: E402
from tests.fakes.telegram_server import FakeTelegramServer  # noqa: E402

# ---------------------------------------------------------------- shared: the core


@pytest.fixture
async def app(simulator: Simulator, api_key: str, tmp_path: Path) -> AsyncIterator[App]:
    """The core App on the simulator and a fresh SQLite database."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    storage = await Storage.open(url, secret=None, data_dir=tmp_path)
    async with VocuClient(api_key, base_url=simulator.base_url) as vocu:
        limits = Limits(voice_ready_timeout=10)
        application = App(vocu=vocu, storage=storage, data_dir=tmp_path, limits=limits)
        yield application
        await application.drain()
    await storage.close()


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:  # noqa: ASYNC109
    """Poll `check()` until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := check()):
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)
    return result


# ---------------------------------------------------------------- Telegram

TG_USER = 1001
TG_OTHER = 1002
TG_GROUP = -100500


def telegram_settings(server: FakeTelegramServer, **extra: Any) -> Settings:
    """Settings pointing the adapter at the fake Bot API server (no .env read)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_API_BASE_URL=server.base_url,
        TELEGRAM_FILE_BASE_URL=server.file_base_url,
        **extra,
    )


@dataclass
class TelegramHarness:
    """The running adapter, its fake Bot API server and the simulator behind the core."""

    server: FakeTelegramServer
    app: App
    simulator: Simulator
    api_key: str
    bot: Any  # adapters.telegram_app.TelegramBot

    def send(self, text: str | None, chat: int = TG_USER, user: int = TG_USER, **kw: Any) -> Any:
        """A user message (chat type follows the id's sign); returns the stored message."""
        if chat < 0:
            kw.setdefault("chat_type", "supergroup")
        return self.server.push_message(chat, user, text, **kw)

    def sent(self, method: str, chat: int | None = None) -> list[Call]:
        """Successful calls of `method`, optionally to one chat."""
        calls = self.server.calls_to(method, ok=True)
        return [c for c in calls if chat is None or c.chat_id == chat]

    def texts(self, chat: int = TG_USER) -> list[str]:
        """Texts of the bot's sendMessage calls to `chat`."""
        return [c.params["text"] for c in self.sent("sendMessage", chat)]

    async def reply(self, chat: int = TG_USER, contains: str = "", count: int = 1) -> str:
        """Wait for the `count`-th text to `chat` containing `contains`; return it."""
        found = await until(lambda: [t for t in self.texts(chat) if contains in t][count - 1 :])
        return str(found[0])

    async def call(self, method: str, chat: int | None = None, count: int = 1) -> Call:
        """Wait for the `count`-th successful call of `method` (to `chat`); return it."""
        found = await until(lambda: self.sent(method, chat)[count - 1 :])
        return found[0]

    def generations(self) -> int:
        return self.simulator.generation_calls(self.api_key)


@pytest.fixture
async def tg_server() -> AsyncIterator[FakeTelegramServer]:
    """A fake Telegram Bot API server on 127.0.0.1."""
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def telegram(
    app: App, tg_server: FakeTelegramServer, simulator: Simulator, api_key: str
) -> AsyncIterator[TelegramHarness]:
    """The real PTB Application of the adapter, polling the fake server."""
    from adapters.telegram_app import TelegramBot

    bot = TelegramBot(app, telegram_settings(tg_server))
    await bot.start()
    try:
        await tg_server.wait_for("deleteWebhook")  # polling starts right after
        yield TelegramHarness(tg_server, app, simulator, api_key, bot)
    finally:
        await bot.stop()


def ogg_seconds(data: bytes) -> tuple[str, float]:
    """(codec, seconds) of an OGG file, decoded."""
    with av.open(io.BytesIO(data), format="ogg") as container:
        codec = container.streams.audio[0].codec_context.name
        seconds = sum(f.samples / f.sample_rate for f in container.decode(audio=0))
    return codec, seconds


def aac_mp4(seconds: float) -> bytes:
    """A real MP4 with one AAC audio track (what a video note carries)."""
    from tests.media import tone

    pcm = av.open(io.BytesIO(tone(seconds, "wav", rate=48000)))
    out_buf = io.BytesIO()
    with pcm, av.open(out_buf, "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48000, layout="mono")
        for frame in pcm.decode(audio=0):
            frame.pts = None
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return out_buf.getvalue()


# ---------------------------------------------------------------- Discord

DC_TOKEN = "fake-discord-bot-token"
DC_GUILD, DC_TEXT, DC_VOICE = "3000", "2001", "2002"
DC_ALICE, DC_BOB = "4001", "4002"  # alice is an admin of the fake guild, bob is not


def discord_settings(server: Any, **extra: Any) -> Settings:
    """Settings pointing the Discord adapter at the fake REST API and gateway (no .env read)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        DISCORD_BOT_TOKEN=DC_TOKEN,
        DISCORD_API_BASE_URL=server.api_base,
        DISCORD_GATEWAY_URL=server.gateway_url,
        **extra,
    )


class FakeVoice:
    """A voice client without UDP: a thread reads the source every `pace` seconds, as
    discord.py's AudioPlayer does, and records what it read."""

    def __init__(self, channel: Any, pace: float = 0.02) -> None:
        import threading

        self.channel = channel
        self.pace = pace
        self.connected = True
        self.frames: list[tuple[float, int]] = []  # (perf_counter, length) per frame read
        self.sources: list[Any] = []
        self.moves: list[Any] = []
        self._stop = threading.Event()

    def play(self, source: Any, *, after: Callable[[Exception | None], Any]) -> None:
        import threading
        import time

        self.sources.append(source)
        self._stop.clear()

        def run() -> None:
            start, count = time.perf_counter(), 0
            while not self._stop.is_set():
                data = source.read()
                if not data:
                    break
                count += 1
                self.frames.append((time.perf_counter(), len(data)))
                time.sleep(max(0.0, start + self.pace * count - time.perf_counter()))
            source.cleanup()
            after(None)

        threading.Thread(target=run, daemon=True, name="fake-voice").start()

    def stop(self) -> None:
        self._stop.set()

    async def disconnect(self, *, force: bool = False) -> None:
        self.connected = False
        self._stop.set()

    async def move_to(self, channel: Any) -> None:
        self.moves.append(channel)
        self.channel = channel


@dataclass
class DiscordHarness:
    """The running Discord adapter, its fake Discord server and the simulator behind the core."""

    server: Any  # tests.fakes.discord_server.FakeDiscordServer
    app: App
    simulator: Simulator
    api_key: str
    bot: Any  # adapters.discord_app.client.DiscordBot
    voices: list[FakeVoice]

    async def command(self, name: str, options: Any = None, **kw: Any) -> dict[str, Any]:
        """Fire a slash command (INTERACTION_CREATE); returns the interaction payload."""
        return await self.server.interaction_command(name, options, **kw)

    def messages(self, inter: dict[str, Any]) -> list[dict[str, Any]]:
        """The interaction's visible messages: the original response (once not loading) and
        its follow-ups, in order."""
        original = self.server.original_response(inter)
        shown = [original] if original and not original["flags"] & 128 else []
        return shown + self.server.followups(inter)

    async def replies(self, inter: dict[str, Any], count: int = 1) -> list[dict[str, Any]]:
        """Wait until the interaction has `count` visible messages; return them all."""
        return list(await until(lambda: (m := self.messages(inter))[count - 1 :] and m))

    async def text(self, inter: dict[str, Any], contains: str = "") -> dict[str, Any]:
        """Wait for a message of the interaction whose content contains `contains`."""
        found = await until(
            lambda: [m for m in self.messages(inter) if contains in (m.get("content") or "")]
        )
        return dict(found[0])

    def generations(self) -> int:
        return self.simulator.generation_calls(self.api_key)


@pytest.fixture
async def dc_server() -> AsyncIterator[Any]:
    """A fake Discord REST API + gateway on 127.0.0.1."""
    from tests.fakes.discord_server import FakeDiscordServer

    server = FakeDiscordServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def running_discord(
    app: App, settings: Settings, voices: list[FakeVoice] | None = None, **options: Any
) -> AsyncIterator[Any]:
    """Start the adapter's real discord.py client (fake voice connections); close it after.

    The endpoints are process-wide in discord.py, so they are restored afterwards."""
    import discord.gateway
    import discord.http

    from adapters.discord_app.client import create_client
    from adapters.discord_app.runtime import configure_endpoints

    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    made = voices if voices is not None else []

    async def connector(channel: Any) -> FakeVoice:
        made.append(FakeVoice(channel))
        return made[-1]

    configure_endpoints(settings)
    bot = create_client(app, settings, connector=connector, guild_ready_timeout=0.05, **options)
    task = asyncio.create_task(bot.start(DC_TOKEN))
    try:
        ready = asyncio.create_task(bot.ready.wait())
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        assert bot.ready.is_set(), "the Discord adapter never became ready"
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 5)
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
async def discord_bot(
    app: App, dc_server: Any, simulator: Simulator, api_key: str
) -> AsyncIterator[DiscordHarness]:
    """The Discord adapter connected to the fake server, commands synced globally."""
    voices: list[FakeVoice] = []
    async with running_discord(app, discord_settings(dc_server), voices) as bot:
        yield DiscordHarness(dc_server, app, simulator, api_key, bot, voices)
