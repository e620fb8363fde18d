"""/templates and /template create|show|update|delete|speak (and the typed `/template <action>`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import audio
from bot.app import App
from bot.commands.templates import parse_mapping
from bot.jobs import JobRunner, JobTimings
from bot.registry import REGISTRY
from tests.core.conftest import run
from tests.core.recording import RecordingContext

FAST = JobTimings(lease_seconds=5, poll_seconds=0.2, initial_interval=0.05, max_interval=0.2)
SCRIPT = "Alice: Good morning!\nBob (Serious): Morning.\nAlice: Coffee?"


@pytest.fixture
async def runner(app: App) -> AsyncIterator[JobRunner]:
    jobs = JobRunner(app, timings=FAST)
    yield jobs
    await jobs.stop()


def test_registered_as_a_group() -> None:
    for action in ("create", "show", "update", "delete", "speak"):
        cmd = REGISTRY[f"template_{action}"]
        assert (cmd.group, cmd.sub, cmd.hidden) == ("template", action, False)
    assert REGISTRY["template"].hidden and REGISTRY["template"].group is None


def test_parse_mapping() -> None:
    assert parse_mapping("1=Alice 2=Bob (Cheerful)") == {1: ("Alice", None), 2: ("Bob", "Cheerful")}
    assert parse_mapping("1 = Mary Ann, 2:Bob") == {1: ("Mary Ann", None), 2: ("Bob", None)}
    assert parse_mapping("Alice") == {}


async def test_create_show_list(app: App, ctx: RecordingContext, simulator, api_key: str) -> None:
    await run(app, ctx, f"/template create Morning {SCRIPT}")
    assert "Saved the template Morning (3 lines)" in ctx.last
    assert "1=Alice, 2=Bob" in ctx.last and "/template speak Morning 1=Alice 2=Bob" in ctx.last
    [saved] = simulator.account(api_key).templates.values()
    assert [c["metaVoiceId"] for c in saved["contents"]] == [1, 2, 1]
    assert [c["text"] for c in saved["contents"]] == ["Good morning!", "Morning.", "Coffee?"]
    await run(app, ctx, "/templates")
    text, choices = ctx.choices[-1]
    assert "Morning · 3 lines · 2 speakers" in text
    assert choices[0].command == f'template show "{saved["id"]}"'
    await run(app, ctx, f"/{choices[0].command}")
    assert "1: Good morning!\n2: Morning.\n1: Coffee?" in ctx.last
    assert "/template speak Morning 1=… 2=…" in ctx.last
    assert simulator.generation_calls(api_key) == 0


async def test_speak_with_a_mapping(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    await run(app, ctx, f"/template_create Morning {SCRIPT}")
    await run(app, ctx, "/template speak morn 1=Bob 2=Alice (Cheerful)")
    assert "use 28 credits" in ctx.questions[-1]
    assert len(ctx.audio) == 1 and audio.mp3_duration(ctx.audio[0].mp3) > 0
    [job] = await app.storage.list_jobs(ctx.platform, ctx.user_id)
    assert job.kind == "template" and job.status == "delivered"
    task = await app.vocu.tasks.get(job.vocu_task_id or "")
    voices = {v.name: v for v in await app.voices(app.vocu)}
    cheerful = next(s.id for s in voices["Alice"].styles if s.name == "Cheerful")
    assert [(c.voice_id, c.prompt_id) for c in task.metadata.contents] == [
        (voices["Bob"].generate_id, "default"),
        (voices["Alice"].generate_id, cheerful),
        (voices["Bob"].generate_id, "default"),
    ]
    assert simulator.generation_calls(api_key) == 1


async def test_speak_refuses_missing_or_unknown_speakers(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    await run(app, ctx, f"/template create Morning {SCRIPT}")
    await run(app, ctx, "/template speak Morning 1=Alice")
    assert "missing: 2" in ctx.last and "1=… 2=…" in ctx.last
    await run(app, ctx, "/template speak Morning")
    assert "missing: 1, 2" in ctx.last
    await run(app, ctx, "/template speak Morning 1=Alice 2=Zed")
    assert "Nothing was generated" in ctx.last and "2=Zed" in ctx.last
    await run(app, ctx, "/template speak Nope 1=Alice")
    assert "can't find a template Nope" in ctx.last
    assert not ctx.questions and simulator.generation_calls(api_key) == 0


async def test_update_and_delete(app: App, ctx: RecordingContext, simulator, api_key: str) -> None:
    await run(app, ctx, f"/template create Morning {SCRIPT}")
    await run(app, ctx, "/template update Morning Bob: Night.\nBob: Sleep well.")
    assert "Updated the template Morning (2 lines)" in ctx.last
    [saved] = simulator.account(api_key).templates.values()
    assert [(c["metaVoiceId"], c["text"]) for c in saved["contents"]] == [
        (1, "Night."),
        (1, "Sleep well."),
    ]
    ctx.answers = [False]
    await run(app, ctx, "/template delete Morning")
    assert "Cancelled" in ctx.last and simulator.account(api_key).templates
    await run(app, ctx, "/template delete Morning")
    assert "Deleted the template Morning" in ctx.last
    assert not simulator.account(api_key).templates
    await run(app, ctx, "/templates")
    assert "no templates" in ctx.last


async def test_create_refuses_unknown_voices_and_bad_actions(
    app: App, ctx: RecordingContext, simulator, api_key: str
) -> None:
    await run(app, ctx, "/template create Bad Alice: hi\nNobody: hello")
    assert "Nothing was generated" in ctx.last and "Nobody" in ctx.last
    assert not simulator.account(api_key).templates
    await run(app, ctx, "/template create Empty")
    assert "Missing script" in ctx.last
    await run(app, ctx, "/template explode now")
    assert "/template <create|show|update|delete|speak>" in ctx.last
    await run(app, ctx, "/template")
    assert "Missing action" in ctx.last
