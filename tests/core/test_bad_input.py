"""The bad-input corpus: each case gets a clear reply and costs zero Vocu calls."""

from __future__ import annotations

import pytest

from tests.core.conftest import attachment, run
from tests.core.recording import RecordingContext
from tests.media import png, tone

MB = 1024 * 1024


def _cases() -> list[tuple[str, str, list, str]]:
    mp3 = tone(4.0)
    return [
        ("empty say", "/say", [], "what to say"),
        ("blank say", "/say     ", [], "what to say"),
        ("oversized say", "/say " + "a" * 6000, [], "limit"),
        ("unknown voice", "/use Zebra", [], "couldn't find"),
        ("ambiguous-free typo", "/voice Alcie", [], "Did you mean"),
        ("unknown style", "/use Alice Sleepy", [], "no style"),
        ("clone without file", "/clone Carol", [], "attach"),
        ("clone without name", "/clone", [attachment(mp3, "c.mp3")], "Missing"),
        (
            "clone corrupt audio",
            "/clone Carol",
            [attachment(b"\x00garbage" * 100, "c.mp3")],
            "couldn't read",
        ),
        (
            "clone image as audio",
            "/clone Carol",
            [attachment(png(), "c.png", "image/png")],
            "couldn't read",
        ),
        ("clone too short", "/clone Carol", [attachment(tone(1.5), "c.mp3")], "too short"),
        ("clone huge", "/clone Carol", [attachment(mp3, "c.mp3", size=101 * MB)], "too large"),
        ("clone empty file", "/clone Carol", [attachment(b"", "c.ogg")], "couldn't read"),
        (
            "style huge",
            "/style_add Alice Loud",
            [attachment(mp3, "s.mp3", size=21 * MB)],
            "too large",
        ),
        (
            "style corrupt",
            "/style_add Alice Loud",
            [attachment(b"RIFF....WAVEfmt", "s.wav")],
            "couldn't read",
        ),
        ("style without file", "/style_add Alice Loud", [], "attach"),
        ("avatar without file", "/avatar Alice", [], "attach"),
        (
            "avatar corrupt",
            "/avatar Alice",
            [attachment(b"\x89PNG\r\n\x1a\nbroken", "a.png")],
            "couldn't read",
        ),
        (
            "avatar audio as image",
            "/avatar Alice",
            [attachment(mp3, "a.jpg", "image/jpeg")],
            "couldn't read",
        ),
        ("avatar huge", "/avatar Alice", [attachment(png(), "a.png", size=11 * MB)], "too large"),
        ("import malformed", "/import not-a-share-id", [], "share ID"),
        ("import empty", "/import", [], "Missing"),
        ("delete default style", "/style_remove Alice Default Style", [], "can't be removed"),
        ("settings bad speed", "/settings speed fast", [], "0.5"),
        ("settings bad preset", "/settings preset loud", [], "creative"),
        ("settings bad name", "/settings colour red", [], "delivery"),
        ("use without voice", "/use", [], "Missing"),
    ]


CASES = _cases()


@pytest.mark.parametrize(
    ("line", "files", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_input_costs_nothing(app, simulator, api_key, line, files, expect):
    warm = RecordingContext()
    await run(app, warm, "/voices")  # the voice list is cached; nothing below may call Vocu
    credits_before = (await app.vocu.account.info()).total_balance
    log_before = len(simulator.request_log)
    ctx = RecordingContext()
    await run(app, ctx, line, *files)
    assert ctx.texts, "no reply"
    assert expect.lower() in ctx.last.lower(), ctx.last
    assert "went wrong" not in ctx.last
    assert not ctx.audio
    assert len(simulator.request_log) == log_before, [
        r.path for r in simulator.request_log[log_before:]
    ]
    assert (await app.vocu.account.info()).total_balance == credits_before
