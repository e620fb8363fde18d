"""/long, /tasks and /task against the recording context and the simulator."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot import audio
from bot.app import App
from bot.jobs import JobRunner, JobTimings
from bot.storage import Job
from bot.text import billable_chars
from bot.vocu.models import TaskContent
from tests.core.conftest import run
from tests.core.recording import RecordingContext

FAST = JobTimings(lease_seconds=5, poll_seconds=0.2, initial_interval=0.05, max_interval=0.2)
TEXT = "Hello {{laugh}} there, this is a long text. 你好，世界！ It has several sentences."


@pytest.fixture
async def runner(app: App) -> AsyncIterator[JobRunner]:
    """The app's runner with fast polling (commands find it through `runner_for`)."""
    jobs = JobRunner(app, timings=FAST)
    yield jobs
    await jobs.stop()


def cost_in(question: str) -> int:
    match = re.search(r"use (\d+) credits", question)
    assert match, question
    return int(match.group(1))


async def only_job(app: App, ctx: RecordingContext) -> Job:
    jobs = await app.storage.list_jobs(ctx.platform, ctx.user_id)
    assert len(jobs) == 1
    return jobs[0]


async def test_long_shows_the_cost_then_delivers(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    app.limits.request_chars = 40  # several blocks: the cost is their sum
    account = simulator.account(api_key)
    before = account.balance
    await run(app, ctx, f"/long {TEXT}")
    assert len(ctx.questions) == 1
    cost = cost_in(ctx.questions[0])
    job = await only_job(app, ctx)
    assert job.status == "delivered" and job.delivered_at is not None
    task = account.tasks[job.vocu_task_id or ""]
    assert cost == task.characters == before - account.balance  # billed exactly as shown
    remote = await app.vocu.tasks.get(task.id)
    assert cost == sum(billable_chars(c.text or "") for c in remote.metadata.contents)
    assert len(task.contents) > 1
    assert len(ctx.audio) == 1 and audio.mp3_duration(ctx.audio[0].mp3) > 0
    assert ctx.audio[0].voice_name == "Alice"
    assert any("queued" in p or "being generated" in p for p in ctx.progress_updates)
    assert "is done" in ctx.progress_updates[-1]
    assert (app.data_dir / "results" / f"{job.id}.mp3").read_bytes() == ctx.audio[0].mp3
    assert simulator.generation_calls(api_key) == 1


async def test_long_cost_counts_code_points_without_markers(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    await run(app, ctx, "/long {{whisper}}你好 world 😀")
    job = await only_job(app, ctx)
    billed = simulator.account(api_key).tasks[job.vocu_task_id or ""].characters
    assert cost_in(ctx.questions[0]) == 10 == billed


async def test_long_cancelled_costs_nothing(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    ctx.answers = [False]
    await run(app, ctx, "/long Some text to read.")
    assert "Cancelled" in ctx.last
    assert await app.storage.list_jobs(ctx.platform, ctx.user_id) == []
    assert simulator.generation_calls(api_key) == 0


async def test_long_without_text_shows_usage(
    app: App, ctx: RecordingContext, runner: JobRunner
) -> None:
    await run(app, ctx, "/long")
    assert "/long" in ctx.last and not ctx.questions


async def test_failed_task_gives_a_clear_reply(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator
) -> None:
    simulator.faults.fail_tasks = True
    await run(app, ctx, "/long This one will fail.")
    job = await only_job(app, ctx)
    assert job.status == "failed" and job.delivered_at is not None
    assert not ctx.audio
    assert "failed at Vocu" in ctx.last and job.id[:8] in ctx.last


async def test_no_credit_is_refused_and_recorded(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    simulator.set_credits(api_key, 0, 0)
    await run(app, ctx, "/long Too poor to say this.")
    assert "out of credits" in ctx.last
    job = await only_job(app, ctx)
    assert job.status == "failed" and job.delivered_at is not None and not ctx.audio


async def test_tasks_lists_jobs_and_task_shows_actions(
    app: App, ctx: RecordingContext, runner: JobRunner
) -> None:
    await run(app, ctx, "/tasks")
    assert "no tasks" in ctx.last
    await run(app, ctx, "/long First long text.")
    job = await only_job(app, ctx)
    sid = job.id[:8]
    await run(app, ctx, "/tasks")
    assert sid in ctx.last and "delivered" in ctx.last and "First long text." in ctx.last
    await run(app, ctx, f"/task {sid}")
    text, choices = ctx.choices[-1]
    assert "Vocu: generated" in text and "Characters: 16" in text
    assert [c.command for c in choices] == [
        f"task {sid} regenerate",
        f"task {sid} delete",
        f"task {sid} send",
    ]
    ctx.capabilities.clear()
    await run(app, ctx, f"/task {sid}")
    assert f"/task {sid} regenerate|delete|send" in ctx.last
    await run(app, ctx, "/task nosuchid")
    assert "can't find a task" in ctx.last


async def test_task_send_again(app: App, ctx: RecordingContext, runner: JobRunner) -> None:
    await run(app, ctx, "/long Send me twice.")
    sid = (await only_job(app, ctx)).id[:8]
    await run(app, ctx, f"/task {sid} send")
    assert len(ctx.audio) == 2 and ctx.audio[0].mp3 == ctx.audio[1].mp3


async def test_task_delete_refused_while_running(
    app: App, ctx: RecordingContext, runner: JobRunner
) -> None:
    voice = next(v for v in await app.voices(app.vocu) if v.name == "Alice")
    task = await app.vocu.tasks.create([TaskContent.text_block(voice.generate_id, "Running.")])
    job = await app.storage.create_job("long", ctx.platform, ctx.chat_id, ctx.user_id, {})
    await app.storage.set_vocu_task(job.id, task.id)
    await run(app, ctx, f"/task {job.id[:8]} delete")
    assert "still being generated" in ctx.last and not ctx.questions
    await app.vocu.tasks.wait(task.id, timeout=10, initial_interval=0.05)
    await run(app, ctx, f"/task {job.id[:8]} delete")
    assert ctx.questions and "deleted at Vocu" in ctx.last
    await run(app, ctx, f"/task {job.id[:8]}")
    assert "Vocu: deleted" in ctx.last
    await run(app, ctx, f"/task {job.id[:8]} delete")
    assert "no longer exists" in ctx.last


async def test_task_regenerate_delivers_new_audio(
    app: App, ctx: RecordingContext, runner: JobRunner, simulator, api_key: str
) -> None:
    await run(app, ctx, "/long Say it again.")
    first = await only_job(app, ctx)
    await run(app, ctx, f"/task {first.id[:8]} regenerate")
    assert cost_in(ctx.questions[-1]) == billable_chars("Say it again.")
    assert len(ctx.audio) == 2
    task = simulator.account(api_key).tasks[first.vocu_task_id or ""]
    assert len(task.regenerates) == 1
    jobs = await app.storage.list_jobs(ctx.platform, ctx.user_id)
    assert len(jobs) == 2 and all(j.status == "delivered" for j in jobs)
    assert simulator.generation_calls(api_key) == 2
