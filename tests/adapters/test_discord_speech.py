"""Discord adapter, speech delivery: native voice messages over raw HTTP, the file fallback,
deferral within 3 s, the "Speak this message" menu, and replies that never ping."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest

from bot import synth
from tests.adapters.conftest import DC_BOB, DC_TEXT, DiscordHarness, ogg_seconds

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _webhook_posts(h: DiscordHarness, inter: dict) -> list:
    return h.server.requests_to(f"/webhooks/1000/{inter['token']}", "POST")


async def test_say_sends_a_native_voice_message(discord_bot: DiscordHarness) -> None:
    inter = await discord_bot.command("say", {"text": "Hello there, this is a test."})
    [message] = await discord_bot.replies(inter)
    assert discord_bot.server.callbacks(inter) == [{"type": 5, "data": {}}]  # deferred first
    [post] = _webhook_posts(discord_bot, inter)
    payload = post.json
    assert payload["flags"] == 8192 and message["flags"] & 8192
    [meta] = payload["attachments"]
    assert meta["filename"] == "voice-message.ogg" and meta["id"] == 0
    waveform = base64.b64decode(meta["waveform"])
    assert 0 < len(waveform) <= 256
    [part] = post.files
    assert (part.field, part.filename, part.content_type) == (
        "files[0]",
        "voice-message.ogg",
        "audio/ogg",
    )
    codec, seconds = ogg_seconds(part.data)
    assert codec == "opus" and part.data.startswith(b"OggS")
    assert meta["duration_secs"] == pytest.approx(seconds, abs=0.05)
    assert payload["allowed_mentions"] == {"parse": []}
    assert "content" not in payload  # voice messages carry no text


async def test_refused_voice_message_falls_back_to_an_mp3(discord_bot: DiscordHarness) -> None:
    discord_bot.server.voice_blocked_channels.add(DC_TEXT)
    inter = await discord_bot.command("say", {"text": "Fallback please."})
    [message] = await discord_bot.replies(inter)
    first, second = _webhook_posts(discord_bot, inter)
    assert first.status == 400 and first.json["flags"] == 8192
    assert not (second.json or {}).get("flags", 0) & 8192
    [audio] = second.files
    assert audio.filename.endswith(".mp3")
    assert audio.data.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"))  # tag or frame
    assert message["attachments"][0]["filename"] == audio.filename
    assert message["attachments"][0]["filename"].startswith(("Alice", "Market"))


async def test_file_delivery_setting_sends_mp3(discord_bot: DiscordHarness) -> None:
    await discord_bot.app.storage.update_user_settings("discord", "4001", delivery="file")
    inter = await discord_bot.command("say", {"text": "As a file."})
    [message] = await discord_bot.replies(inter)
    [post] = _webhook_posts(discord_bot, inter)
    assert post.files[0].filename.endswith(".mp3") and not message["flags"] & 8192


async def test_defers_before_slow_generation(discord_bot: DiscordHarness) -> None:
    discord_bot.simulator.faults.generation_latency = 1.5
    started = time.monotonic()
    inter = await discord_bot.command("say", {"text": "Slow one."})
    await discord_bot.server.wait_for(f"/interactions/{inter['id']}/", "POST")
    assert time.monotonic() - started < 1.0  # acknowledged long before generation ends
    assert discord_bot.server.callbacks(inter)[0]["type"] == 5
    await discord_bot.replies(inter)
    assert time.monotonic() - started >= 1.5


async def test_watchdog_defers_a_slow_command(
    discord_bot: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.discord_app.context.DEFER_AFTER", 0.1)
    real = synth.build_request

    async def slow(*args: object, **kw: object) -> synth.SpeechRequest:
        await asyncio.sleep(0.4)  # e.g. a slow voice list, before the core's working()
        return await real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(synth, "build_request", slow)
    inter = await discord_bot.command("say", {"text": "Hi."})
    await discord_bot.replies(inter)
    assert [cb["type"] for cb in discord_bot.server.callbacks(inter)] == [5]


async def test_speak_this_message_menu(
    discord_bot: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoken: list[str | None] = []
    real = synth.build_request

    async def spy(app, ctx, vocu, text, **kw):  # type: ignore[no-untyped-def]
        spoken.append(text)
        return await real(app, ctx, vocu, text, **kw)

    monkeypatch.setattr(synth, "build_request", spy)
    server = discord_bot.server
    msg = await server.message_create(
        DC_TEXT,
        DC_BOB,
        "Look <@4001> at ||this|| https://www.example.com/x",
        mentions=[server.users["4001"]],  # Discord resolves mentions in the payload
    )
    inter = await discord_bot.command(
        "Speak this message",
        command_type=3,
        target_id=msg["id"],
        resolved={"messages": {msg["id"]: msg}},
        user_id=DC_BOB,
    )
    [message] = await discord_bot.replies(inter)
    assert message["flags"] & 8192
    assert spoken == ["Look Alice at a spoiler a link to example.com"]


async def test_replies_never_ping(discord_bot: DiscordHarness) -> None:
    for command in ({"text": "Hi <@4002> @everyone"}, {"text": ""}):
        inter = await discord_bot.command("say", command)
        await discord_bot.replies(inter)
    inter = await discord_bot.command("help")
    await discord_bot.replies(inter)
    bodies = [
        r.json.get("data", r.json) if "/callback" in r.path else r.json
        for r in discord_bot.server.requests
        if r.method in ("POST", "PATCH")
        and isinstance(r.json, dict)
        and ("/webhooks/" in r.path or "/callback" in r.path)
    ]
    with_content = [b for b in bodies if b.get("content") or b.get("attachments")]
    assert with_content and all(b["allowed_mentions"] == {"parse": []} for b in with_content)


async def test_courier_delivers_late_results_to_a_channel(discord_bot: DiscordHarness) -> None:
    courier = discord_bot.app.couriers["discord"]
    reply = await synth.generate(
        discord_bot.app,
        discord_bot.app.vocu,
        await synth.build_request(
            discord_bot.app, _ctx(), discord_bot.app.vocu, "A result after a restart."
        ),
    )
    await courier.send_audio(DC_TEXT, reply)
    await courier.send_text(DC_TEXT, "Task finished.")
    posts = discord_bot.server.requests_to(f"/channels/{DC_TEXT}/messages", "POST")
    voice = [p for p in posts if (p.json or {}).get("flags") == 8192]
    assert len(voice) == 1 and voice[0].files[0].data.startswith(b"OggS")
    assert any((p.json or {}).get("content") == "Task finished." for p in posts)
    assert all((p.json or {}).get("allowed_mentions", {}).get("parse") == [] for p in posts)


def _ctx():  # a core context for building the request (voice resolution, settings)
    from tests.core.recording import RecordingContext

    return RecordingContext(platform="discord", user_id="4001")


async def test_any_rejected_voice_form_still_delivers_the_audio(
    discord_bot: DiscordHarness,
) -> None:
    discord_bot.server.fail_next(
        "/webhooks/", 400, {"code": 50035, "message": "Invalid Form Body"}, method="POST"
    )
    inter = await discord_bot.command("say", {"text": "Deliver me anyway."})
    [message] = await discord_bot.replies(inter)
    first, second = _webhook_posts(discord_bot, inter)
    assert first.status == 400 and second.files[0].filename.endswith(".mp3")
    assert message["attachments"][0]["filename"].endswith(".mp3")
