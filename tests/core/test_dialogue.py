"""/dialogue: script parsing, speaker resolution before any generation, one merged clip."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import audio
from bot.app import App
from bot.commands.dialogue import Line, parse_script
from bot.errors import LimitError, UsageError
from bot.jobs import JobRunner, JobTimings
from tests.core.conftest import run
from tests.core.recording import RecordingContext

FAST = JobTimings(lease_seconds=5, poll_seconds=0.2, initial_interval=0.05, max_interval=0.2)


@pytest.fixture
async def runner(app: App) -> AsyncIterator[JobRunner]:
    jobs = JobRunner(app, timings=FAST)
    yield jobs
    await jobs.stop()


def test_parse_script() -> None:
    script = (
        "Alice: Hello there!\n\n  Bob (Serious) :  Hi, Alice.\nAlice：你好\nBob（Serious）：再见"
    )
    assert parse_script(script) == [
        Line("Alice", None, "Hello there!"),
        Line("Bob", "Serious", "Hi, Alice."),
        Line("Alice", None, "你好"),
        Line("Bob", "Serious", "再见"),
    ]
    assert parse_script("Alice: one | Bob: two") == [
        Line("Alice", None, "one"),
        Line("Bob", None, "two"),
    ]
    assert parse_script("Dr Who: time: relative")[0] == Line("Dr Who", None, "time: relative")


@pytest.mark.parametrize(
    ("script", "key"),
    [
        ("", "dialogue.usage"),
        ("Alice: hi\njust words", "dialogue.bad_line"),
        ("Alice:", "dialogue.bad_line"),
    ],
)
def test_parse_script_refuses(script: str, key: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_script(script)
    assert info.value.key == key
    if key == "dialogue.bad_line":
        assert info.value.params["line"] == len(script.splitlines())


def test_parse_script_limits_lines() -> None:
    with pytest.raises(LimitError):
        parse_script("\n".join(f"Alice: line {n}" for n in range(101)))


async def test_dialogue_is_one_task_with_one_block_per_line(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    await run(app, ctx, "/dialogue Alice: Hello Bob!\nBob (Serious): Hello Alice.\nalice: Bye.")
    assert len(ctx.questions) == 1 and "use 26 credits" in ctx.questions[0]
    assert len(ctx.audio) == 1 and audio.mp3_duration(ctx.audio[0].mp3) > 0
    assert ctx.audio[0].title == "Dialogue: Alice, Bob"
    [job] = await app.storage.list_jobs(ctx.platform, ctx.user_id)
    assert job.kind == "dialogue" and job.status == "delivered"
    task = await app.vocu.tasks.get(job.vocu_task_id or "")
    voices = {v.name: v for v in await app.voices(app.vocu)}
    serious = next(s.id for s in voices["Bob"].styles if s.name == "Serious")
    blocks = [(c.voice_id, c.prompt_id, c.text) for c in task.metadata.contents]
    assert blocks == [
        (voices["Alice"].generate_id, "default", "Hello Bob!"),
        (voices["Bob"].generate_id, serious, "Hello Alice."),
        (voices["Alice"].generate_id, "default", "Bye."),
    ]
    assert task.metadata.characters == 26
    assert simulator.generation_calls(api_key) == 1


async def test_unknown_speakers_and_styles_cost_nothing(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    await run(app, ctx, "/dialogue Alice: Hi\nCarol: Who am I?\nBob (Angry): Grr\nAlice: ok")
    reply = ctx.last
    assert "Nothing was generated" in reply
    assert "Carol" in reply and "Angry" in reply and "Serious" in reply  # Bob's real styles
    assert "• Alice" not in reply
    assert not ctx.questions and not ctx.audio
    assert await app.storage.list_jobs(ctx.platform, ctx.user_id) == []
    assert simulator.generation_calls(api_key) == 0


async def test_dialogue_without_script_and_bad_lines(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    await run(app, ctx, "/dialogue")
    assert "/dialogue" in ctx.last
    await run(app, ctx, "/dialogue Alice: hi\nno speaker here")
    assert "Line 2" in ctx.last
    assert simulator.generation_calls(api_key) == 0


async def test_dialogue_too_long_costs_nothing(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    app.limits.max_text_chars = 20
    await run(app, ctx, "/dialogue Alice: " + "x" * 15 + "\nBob: " + "y" * 15)
    assert "limit is 20" in ctx.last
    assert simulator.generation_calls(api_key) == 0
