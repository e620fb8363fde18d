"""bot.readaloud: chat messages made speakable, "<name> said", and streamed speech as PCM."""

from __future__ import annotations

from typing import Any

import pytest

from bot import audio, synth
from bot.app import App
from bot.errors import LimitError
from bot.readaloud import MAX_CHARS, Names, SpeakerTracker, admit, clean, speech_pcm
from bot.text import billable_chars
from tests.core.recording import RecordingContext

NAMES = Names(users={"1": "Alice"}, roles={"2": "Moderators"}, channels={"3": "general"})


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("hi <@1> and <@!1>", "hi Alice and Alice"),
        ("ask <@&2> in <#3>", "ask Moderators in general"),
        ("who is <@999>?", "who is?"),
        ("see https://www.youtube.com/watch?v=x now", "see a link to youtube.com now"),
        ("<https://example.org/a>", "a link to example.org"),
        ("[the docs](https://docs.python.org/3) rock", "the docs rock"),
        ("```py\nprint('x')\n``` done", "a code block. done"),
        ("run `make test` please", "run make test please"),
        ("the end is ||a twist|| wow", "the end is a spoiler wow"),
        ("<:pepe_laugh:123> lol <a:dance:456>", "pepe laugh lol dance"),
        (":thumbsup: nice", "thumbsup nice"),
        ("**bold** _it_ ~~gone~~ __under__", "bold it gone under"),
        ("> quoted\n# Title\n- item", "quoted. Title. item"),
        ("at <t:1700000000:R> ok", "at ok"),
        ("use </say:123> now", "use say now"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("https://x.com", "a link to x.com"),
        ("   ", ""),
        ("<:blank:1> ...", "blank"),
        ("!!!", ""),
    ],
)
def test_clean(raw: str, spoken: str) -> None:
    assert clean(raw, NAMES) == spoken


def test_clean_in_chinese_and_long_text() -> None:
    assert clean("看 https://github.com/a", locale="zh-CN") == "看 一个github.com的链接"
    assert clean("```x```", locale="zh") == "一段代码"
    long = clean("word " * 400)
    assert len(long) <= MAX_CHARS + 1 and long.endswith("…")


def test_speaker_changes_are_announced() -> None:
    tracker = SpeakerTracker(again_after=60)
    assert tracker.narrate("c", "u1", "Alice", "hi", now=0) == "Alice said: hi"
    assert tracker.narrate("c", "u1", "Alice", "again", now=10) == "again"
    assert tracker.narrate("other", "u1", "Alice", "elsewhere", now=11) == "Alice said: elsewhere"
    assert tracker.narrate("c", "u2", "Bob", "yo", now=12) == "Bob said: yo"
    assert tracker.narrate("c", "u1", "Alice", "back", now=13) == "Alice said: back"
    assert tracker.narrate("c", "u1", "Alice", "later", now=100) == "Alice said: later"
    tracker.forget("c")
    assert tracker.narrate("c", "u1", "Alice", "fresh", now=101) == "Alice said: fresh"
    assert tracker.narrate("z", "u9", "陈晨", "你好", locale="zh", now=0) == "陈晨说：你好"


async def test_speech_pcm_streams_every_piece(app: App, ctx: RecordingContext) -> None:
    app.limits.request_chars = 20
    req = await synth.build_request(app, ctx, app.vocu, "First sentence here. Second one there.")
    await admit(app, ctx, req)
    frames = [frame async for frame in speech_pcm(app, ctx, app.vocu, req)]
    assert frames and {len(f) for f in frames} == {audio.PCM_FRAME_BYTES}
    await app.usage.flush()
    assert await app.storage.usage_today(ctx.platform, ctx.user_id) == billable_chars(req.text)
    whole = await synth.generate(app, app.vocu, req)
    assert len(frames) * 0.02 == pytest.approx(whole.seconds(), abs=0.25)


async def test_speech_pcm_plays_cached_audio_without_vocu(
    app: App, ctx: RecordingContext, simulator: Any, api_key: str
) -> None:
    req = await synth.build_request(app, ctx, app.vocu, "Cached words.")
    reply = await synth.speak(app, ctx, app.vocu, req)  # /say stores it in the cache
    calls = simulator.generation_calls(api_key)
    frames = [frame async for frame in speech_pcm(app, ctx, app.vocu, req)]
    assert simulator.generation_calls(api_key) == calls
    assert len(frames) * 0.02 == pytest.approx(reply.seconds(), abs=0.15)


async def test_admit_applies_the_rate_limit(app: App, ctx: RecordingContext) -> None:
    app.rate_limiter.per_minute = 1
    req = await synth.build_request(app, ctx, app.vocu, "Hello.")
    await admit(app, ctx, req)
    with pytest.raises(LimitError):
        await admit(app, ctx, req)
