"""Discord adapter, voice channels: streamed playback through the audio source (fake voice
client, no UDP), /join /speak /skip /stop /leave, permission checks, leaving, and /autoread."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.discord_app.player import FrameSource, GuildPlayer, Track
from bot import audio, live_audio
from tests.adapters.conftest import (
    DC_ALICE,
    DC_BOB,
    DC_TEXT,
    DC_VOICE,
    DiscordHarness,
    FakeVoice,
    discord_settings,
    running_discord,
    until,
)
from tests.fakes.discord_payloads import P_CONNECT, P_SPEAK
from tests.media import tone

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EPHEMERAL = 64


async def _slowly(data: bytes, arrived: list[float], size: int = 2048) -> AsyncIterator[bytes]:
    """`data` in small chunks, as a slow network would deliver it; notes when the last came."""
    for start in range(0, len(data), size):
        await asyncio.sleep(0.03)
        yield data[start : start + size]
    arrived.append(time.perf_counter())


async def test_playback_streams_frames_before_the_clip_has_arrived() -> None:
    mp3 = tone(2.0)
    duration = audio.mp3_duration(mp3)
    arrived: list[float] = []
    voice = FakeVoice(channel=None, pace=0.005)
    idle = asyncio.Event()

    async def on_idle() -> None:
        idle.set()

    player = GuildPlayer(voice, on_idle=on_idle, idle_timeout=0.5)
    player.enqueue(Track(live_audio.pcm_frames(_slowly(mp3, arrived))))
    await until(lambda: arrived and voice.sources and voice.sources[0].closed, timeout=20)
    source: FrameSource = voice.sources[0]
    assert voice.frames[0][0] < arrived[0]  # the first frame played before the last chunk came
    assert {length for _, length in voice.frames} == {3840}  # 20 ms of 48 kHz stereo s16
    # every frame of the clip, plus at most ~0.1 s: a streaming MP3 decoder also plays the
    # encoder delay/padding and the silent Xing frame that a container-aware decode trims
    assert math.ceil(duration / 0.02) <= source.audio_frames <= math.ceil(duration / 0.02) + 5
    assert len(voice.frames) == source.audio_frames + source.silence_frames
    await asyncio.wait_for(idle.wait(), 5)  # leaves after being idle
    await player.close()


async def test_a_track_taken_off_the_queue_still_counts_as_ahead() -> None:
    async def frames() -> AsyncIterator[bytes]:
        await asyncio.sleep(10)  # a generation still under way
        yield b""

    async def on_idle() -> None:
        pass

    player = GuildPlayer(FakeVoice(channel=None), on_idle=on_idle)
    ahead = [player.enqueue(Track(frames()))]
    for _ in range(3):  # the player task takes it; every moment in between counts it ahead
        await asyncio.sleep(0)
        ahead.append(player.enqueue(Track(frames())))
    assert ahead == [0, 1, 2, 3]
    assert player.stop()  # drops the queued three and the current one
    assert player.enqueue(Track(frames())) <= 1  # at most the one being torn down
    await player.close()


async def test_frame_source_bridges_threads() -> None:
    source = FrameSource(stall_timeout=0.05)
    await source.put(b"\x01" * 3840)
    await source.put(None)
    frames = await asyncio.to_thread(lambda: [source.read(), source.read(), source.read()])
    assert frames == [b"\x01" * 3840, b"", b""]
    stalled = FrameSource(stall_timeout=0.05)
    reads = await asyncio.to_thread(lambda: [stalled.read() for _ in range(4)])
    assert reads[0] == bytes(3840) and reads[-1] == b""  # silence on underrun, then give up


async def _in_voice(
    h: DiscordHarness, user: str = DC_ALICE, channel: str | None = DC_VOICE
) -> None:
    await h.server.voice_state_update(user, channel)
    guild = h.bot.get_guild(3000)
    await until(
        lambda: (guild.get_channel(2002).voice_states.get(int(user)) is not None) == bool(channel)
    )


async def test_join_speak_skip_stop_leave(discord_bot: DiscordHarness) -> None:
    inter = await discord_bot.command("join")
    reply = await discord_bot.text(inter)
    assert "Join a voice channel first" in reply["content"] and reply["flags"] & EPHEMERAL

    await _in_voice(discord_bot)
    inter = await discord_bot.command("join")
    await discord_bot.text(inter, "Joined <#2002>")
    [voice] = discord_bot.voices
    assert voice.channel.id == 2002

    discord_bot.simulator.faults.generation_latency = 0.3
    # each clip lasts ~6 s: still playing when the other arrives, even on a loaded machine
    long = "One two three four five six seven, eight nine ten eleven twelve thirteen fourteen."
    first = await discord_bot.command("speak", {"text": long})
    second = await discord_bot.command("speak", {"text": "And another sentence. " + long})
    # both arrive at once: whichever the bot took first speaks, the other queues behind it
    replies = sorted(
        [(await discord_bot.text(i, "<#2002>"))["content"] for i in (first, second)],
        key=lambda text: "ahead" in text,
    )
    assert "Speaking in" in replies[0] and "1 ahead" in replies[1]
    await until(lambda: voice.frames)
    skip = await discord_bot.command("skip")
    await discord_bot.text(skip, "Skipped")
    await until(lambda: len(voice.sources) == 2)
    stop = await discord_bot.command("stop")
    await discord_bot.text(stop, "Stopped")
    assert {length for _, length in voice.frames} == {3840}

    leave = await discord_bot.command("leave")
    await discord_bot.text(leave, "Left the voice channel")
    assert not voice.connected and discord_bot.bot.voices.get(3000) is None


async def test_join_names_missing_permissions(app: Any, dc_server: Any) -> None:
    channel = dc_server.channel(DC_VOICE)
    deny = str(P_CONNECT | P_SPEAK)
    channel["permission_overwrites"] = [{"id": "1000", "type": 1, "allow": "0", "deny": deny}]
    async with running_discord(app, discord_settings(dc_server)) as bot:
        h = DiscordHarness(dc_server, app, None, "", bot, [])  # type: ignore[arg-type]
        await _in_voice(h)
        inter = await h.command("join")
        reply = await h.text(inter, "missing")
        assert "Connect, Speak" in reply["content"] and reply["flags"] & EPHEMERAL


async def test_voice_unavailable_is_said(discord_bot: DiscordHarness) -> None:
    discord_bot.bot.voices.problem = "libopus was not found"
    await _in_voice(discord_bot)
    inter = await discord_bot.command("join")
    reply = await discord_bot.text(inter, "unavailable")
    assert "libopus" in reply["content"]


async def test_leaves_when_alone(discord_bot: DiscordHarness) -> None:
    await _in_voice(discord_bot)
    await discord_bot.text(await discord_bot.command("join"), "Joined")
    [voice] = discord_bot.voices
    await discord_bot.server.voice_state_update(DC_ALICE, None)
    await until(lambda: not voice.connected)
    assert discord_bot.bot.voices.get(3000) is None


async def test_autoread_reads_listeners_in_their_voice(
    discord_bot: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import readaloud

    spoken: list[str] = []
    real = readaloud.speech_pcm

    def spy(app: Any, ctx: Any, vocu: Any, req: Any) -> AsyncIterator[bytes]:
        spoken.append(req.text)
        return real(app, ctx, vocu, req)

    monkeypatch.setattr(readaloud, "speech_pcm", spy)
    denied = await discord_bot.command("autoread", {"mode": "on"}, user_id=DC_BOB)
    assert "admin" in (await discord_bot.text(denied))["content"]
    inter = await discord_bot.command("autoread", {"mode": "on"})
    await discord_bot.text(inter, "read new messages")
    scope = await discord_bot.app.storage.get_scope_settings("discord", "3000")
    assert scope.autoread_channels == (DC_TEXT,)

    await _in_voice(discord_bot)
    await discord_bot.text(await discord_bot.command("join"), "Joined")
    bob = discord_bot.server.users[DC_BOB]
    await discord_bot.server.message_create(DC_TEXT, DC_BOB, "not listening, not read")
    await discord_bot.server.message_create(
        DC_TEXT, DC_ALICE, "hi <@4002> see https://example.com/a", mentions=[bob]
    )
    await discord_bot.server.message_create(DC_TEXT, DC_ALICE, "```code``` <:wave:123>")
    await until(lambda: len(spoken) == 2)
    assert spoken == ["Alice said: hi Bob see a link to example.com", "a code block. wave"]
    [voice] = discord_bot.voices
    await until(lambda: voice.frames)

    off = await discord_bot.command("autoread", {"mode": "off"})
    await discord_bot.text(off, "no longer")
    await discord_bot.server.message_create(DC_TEXT, DC_ALICE, "quiet now")
    await asyncio.sleep(0.2)
    assert len(spoken) == 2


def test_startup_log_says_clearly_when_voice_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sys

    from adapters.discord_app import runtime

    caplog.set_level(logging.INFO)
    assert runtime.report_voice() is None and "voice ready" in caplog.text
    monkeypatch.setattr(runtime, "load_opus", lambda: None)
    assert "libopus" in (runtime.report_voice() or "")
    assert "voice unavailable: libopus was not found" in caplog.text
    monkeypatch.setitem(sys.modules, "davey", None)  # as if the package were missing
    assert "davey is not installed" in (runtime.report_voice() or "")
