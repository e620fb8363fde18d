"""Every core command against the recording context and the simulator."""

from __future__ import annotations

import io

import av

from bot.registry import REGISTRY, visible_commands
from tests.core.conftest import attachment, run
from tests.core.recording import RecordingContext
from tests.media import png, tone


def _mp3_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as container:
        return sum(float(f.samples) / f.sample_rate for f in container.decode(audio=0))


async def test_help_lists_every_command(app, ctx):
    await run(app, ctx, "/help")
    for cmd in visible_commands():
        assert f"/{cmd.name}" in ctx.last
    await run(app, ctx, "/start")
    assert "/say" in ctx.last


async def test_say_delivers_real_audio_in_one_round_trip(app, ctx, simulator, api_key):
    await run(app, ctx, "/voices")  # warms the voice list
    before = simulator.generation_calls(api_key)
    requests_before = len(simulator.request_log)
    await run(app, ctx, "/say Hello there, this is a test.")
    assert len(ctx.audio) == 1, ctx.texts
    reply = ctx.audio[0]
    assert simulator.generation_calls(api_key) == before + 1
    assert len(simulator.request_log) == requests_before + 1  # direct_stream only, no download
    assert reply.duration is None  # measured only when a delivery needs it
    assert abs(_mp3_seconds(reply.mp3) - reply.seconds()) < 0.2
    assert reply.seconds() > 1.0
    assert ctx.working_entered >= 1


async def test_long_text_is_split_and_delivered_as_one_clip(app, ctx, simulator, api_key):
    app.limits.request_chars = 60
    text = " ".join(f"This is sentence number {i}." for i in range(8))
    await run(app, ctx, f"/say {text}")
    assert len(ctx.audio) == 1, ctx.texts
    assert simulator.generation_calls(api_key) >= 4
    short = RecordingContext(user_id="u2")
    await run(app, short, "/say This is sentence number 1.")
    assert ctx.audio[0].seconds() > 3 * short.audio[0].seconds()


async def test_use_resolves_prefix_case_and_style(app, ctx):
    await run(app, ctx, "/use ali cheer")
    assert "Alice" in ctx.last and "Cheerful" in ctx.last
    await run(app, ctx, "/say Good morning!")
    assert ctx.audio[-1].title == "Alice (Cheerful)"
    settings = await app.storage.get_user_settings("test", "u1")
    assert settings.style_id not in (None, "default")


async def test_use_unknown_and_ambiguous(app, ctx, simulator, api_key):
    await run(app, ctx, "/use Alcie")
    assert "Alice" in ctx.last  # suggestion
    await run(app, ctx, "/use Zebra")
    assert "Zebra" in ctx.last and "/voices" in ctx.last
    await run(app, ctx, "/use Alice Nope")
    assert "Cheerful" in ctx.last  # lists the styles
    assert simulator.generation_calls(api_key) == 0


async def test_voices_and_voice_details(app, ctx):
    await run(app, ctx, "/voices")
    assert "Alice" in ctx.last and "Bob" in ctx.last and "Cheerful" in ctx.last
    labels = [c.label for c in ctx.choices[-1][1]]
    assert "Alice" in labels
    await run(app, ctx, "/voice bob")
    assert "Bob" in ctx.last and "Serious" in ctx.last


async def test_clone_with_consent_then_ready(app, ctx, simulator, api_key):
    await run(app, ctx, "/clone Carol", attachment(tone(4.0), "carol.mp3", "audio/mpeg"))
    assert ctx.questions and "permission" in ctx.questions[0]
    assert "Carol" in ctx.last
    await app.drain()
    assert "ready" in ctx.last
    await run(app, ctx, "/use carol")
    await run(app, ctx, "/say Hi, I am Carol.")
    assert ctx.audio[-1].voice_name == "Carol"


async def test_clone_cancelled_makes_no_call(app, simulator, api_key):
    ctx = RecordingContext(answers=[False])
    before = len(simulator.request_log)
    await run(app, ctx, "/clone Dave", attachment(tone(4.0), "d.mp3"))
    assert "Cancelled" in ctx.last
    assert len(simulator.request_log) == before


async def test_style_add_and_remove(app, ctx):
    await run(
        app, ctx, "/style_add Alice Whisper", attachment(tone(3.5, "ogg"), "w.ogg", "audio/ogg")
    )
    assert "Whisper" in ctx.last
    await run(app, ctx, "/voice Alice")
    assert "Whisper" in ctx.last
    await run(app, ctx, "/style_remove Alice Whisper")
    assert "Removed" in ctx.last
    await run(app, ctx, "/style_remove Alice Default")
    assert "can't be removed" in ctx.last


async def test_avatar(app, ctx, simulator, api_key):
    await run(app, ctx, "/avatar Alice", attachment(png(2000, 1000), "a.png", "image/png"))
    assert "1024×512" in ctx.last
    state = simulator.account(api_key)
    assert state is not None


async def test_share_and_import_once(app, ctx):
    await run(app, ctx, "/share Bob")
    card = ctx.last
    share_id = card.split("/import ")[-1].strip()
    assert len(share_id) == 36
    other = RecordingContext(user_id="u9")
    await run(app, other, f"/import https://vocu.ai/share/{share_id}")
    assert "Added the voice Bob" in other.last
    await run(app, other, f"/import {share_id}")
    assert "Added" not in other.last  # one-time id


async def test_delete_needs_confirmation(app, simulator, api_key):
    cancel = RecordingContext(answers=[False])
    await run(app, cancel, "/delete Bob")
    assert "Cancelled" in cancel.last
    ctx = RecordingContext(answers=[True])
    await run(app, ctx, "/delete Bob")
    assert "Deleted" in ctx.last
    await run(app, ctx, "/voices")
    assert "Bob" not in ctx.last


async def test_account_shows_total_and_parts(app, ctx):
    await run(app, ctx, "/account")
    assert "10,000" in ctx.last


async def test_settings_change_delivery_and_language(app, ctx):
    await run(app, ctx, "/settings delivery file")
    await run(app, ctx, "/say Hello")
    assert ctx.audio[-1].prefer_file
    await run(app, ctx, "/settings speed 3")
    assert "0.5" in ctx.last
    await run(app, ctx, "/settings language zh")
    await run(app, ctx, "/say")
    assert "告诉我" in ctx.last


async def test_start_deep_link_imports(app, ctx):
    await run(app, ctx, "/share Alice")
    share_id = ctx.last.split("/import ")[-1].strip()
    other = RecordingContext(user_id="deep")
    await run(app, other, f"/start import_{share_id}")
    assert "Added the voice Alice" in other.last


def test_registry_names_and_descriptions():
    for cmd in REGISTRY.values():
        assert len(cmd.description("en")) <= 100 and len(cmd.description("zh")) <= 100
        assert cmd.description("en") != f"cmd.{cmd.name}"
