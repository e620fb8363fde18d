"""/long (an async task for long text), /tasks and /task: status, regenerate, delete, resend."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot import synth
from bot.app import App
from bot.context import Capability, ChatContext, Choice, confirmed
from bot.errors import UsageError, UserFacingError
from bot.i18n import t
from bot.jobs import confirm_cost, job_cost, reply_from_file, runner_for, short_id
from bot.registry import Arg, ArgKind, Args, command
from bot.storage import Job
from bot.text import billable_chars, split_sentences
from bot.vocu import errors as ve
from bot.vocu.models import Task, TaskContent

ACTIONS = ("regenerate", "delete", "send")
RUNNING = frozenset({"pending", "processing"})


@command(
    "long",
    Arg("text", ArgKind.TEXT),
    Arg("voice", ArgKind.VOICE, required=False, positional=False),
    Arg("style", ArgKind.STYLE, required=False, positional=False),
)
async def long(app: App, ctx: ChatContext, args: Args) -> None:
    """Speak a long text as a Vocu task; the audio follows when it is generated."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    req = await synth.build_request(
        app, ctx, vocu, args.get("text"), voice=args.get("voice"), style=args.get("style")
    )
    contents = [
        TaskContent.text_block(
            req.voice.generate_id, piece, style_id=req.style.id, params=req.params
        )
        for piece in split_sentences(req.text, app.limits.request_chars)
    ]
    if not await confirm_cost(ctx, job_cost(contents)):
        return
    style = "" if req.style.id == "default" else f" ({req.style.label})"
    payload = {
        "title": f"{req.voice.name}{style}",
        "voice_name": req.voice.name,
        "prefer_file": req.prefer_file,
        "summary": req.text[:80],
        "characters": job_cost(contents),
    }
    await runner_for(app).submit(ctx, "long", payload, contents)


def _status(locale: str, job: Job) -> str:
    return t(locale, f"jobstatus.{job.status}")


@command("tasks")
async def tasks(app: App, ctx: ChatContext, args: Args) -> None:
    """Your recent long jobs, dialogues and templates with their status."""
    jobs = await app.storage.list_jobs(ctx.platform, ctx.user_id, 20)
    if not jobs:
        await ctx.reply_text(t(ctx.locale, "tasks.none"))
        return
    lines = [t(ctx.locale, "tasks.header", count=len(jobs))]
    for job in jobs:
        lines.append(
            t(
                ctx.locale,
                "tasks.line",
                id=short_id(job),
                kind=t(ctx.locale, f"jobkind.{job.kind}"),
                status=_status(ctx.locale, job),
                when=job.created_at.strftime("%Y-%m-%d %H:%M"),
                summary=str(job.payload.get("summary") or "")[:40],
            )
        )
    text = "\n".join(lines)
    if ctx.can(Capability.BUTTONS):
        await ctx.reply_choices(text, [Choice(short_id(j), f"task {short_id(j)}") for j in jobs])
    else:
        await ctx.reply_text(text)


async def find_job(app: App, ctx: ChatContext, query: str) -> Job:
    """One of the user's jobs by (a prefix of) its id or its Vocu task id."""
    q = query.strip().lower()
    jobs = await app.storage.list_jobs(ctx.platform, ctx.user_id, 200)
    found = [j for j in jobs if q and (j.id.startswith(q) or j.vocu_task_id == query.strip())]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError("task.ambiguous", query=query)
    raise UserFacingError("task.not_found", query=query)


async def _vocu_task(app: App, job: Job) -> Task | None:
    """The job's Vocu task; None when it has none yet or Vocu no longer has it."""
    if not job.vocu_task_id:
        return None
    vocu = await app.client_for(job.platform, job.user_id)
    try:
        return await vocu.tasks.get(job.vocu_task_id)
    except ve.NotFound:
        return None


@command(
    "task",
    Arg("task", ArgKind.WORD),
    Arg("action", ArgKind.CHOICE, required=False, choices=ACTIONS),
)
async def task(app: App, ctx: ChatContext, args: Args) -> None:
    """A task's status, with buttons to regenerate, delete or send it again."""
    job = await find_job(app, ctx, args.get("task") or "")
    action = (args.get("action") or "").lower()
    if action and action not in ACTIONS:
        raise UsageError("task.bad_action", action=action, choices=", ".join(ACTIONS))
    if action == "send":
        await _send_again(app, ctx, job)
        return
    remote = await _vocu_task(app, job)
    if action == "delete":
        await _delete(app, ctx, job, remote)
    elif action == "regenerate":
        await _regenerate(app, ctx, job, remote)
    else:
        await _show(ctx, job, remote)


async def _show(ctx: ChatContext, job: Job, remote: Task | None) -> None:
    loc, sid = ctx.locale, short_id(job)
    vocu_status = remote.status if remote else ("deleted" if job.vocu_task_id else "none")
    lines = [
        t(loc, "task.title", id=sid, kind=t(loc, f"jobkind.{job.kind}")),
        t(loc, "task.status", status=_status(loc, job), vocu=t(loc, f"vocustatus.{vocu_status}")),
        t(loc, "task.characters", characters=job.payload.get("characters", "?")),
        t(loc, "task.summary", summary=job.payload.get("summary") or "—"),
    ]
    if job.error:
        lines.append(t(loc, "task.error", error=_error(loc, job)))
    text = "\n".join(lines)
    actions = [a for a in ACTIONS if a != "send" or job.result_path]
    if remote is None:
        actions = [a for a in actions if a == "send"]
    if ctx.can(Capability.BUTTONS) and actions:
        choices = [Choice(t(loc, f"task.action.{a}"), f"task {sid} {a}") for a in actions]
        await ctx.reply_choices(text, choices)
        return
    if actions:
        text += "\n" + t(loc, "task.hint", id=sid, actions="|".join(actions))
    await ctx.reply_text(text)


def _error(locale: str, job: Job) -> str:
    error = job.error or ""
    return t(locale, error, id=short_id(job)) if error.startswith("job.") else error


async def _delete(app: App, ctx: ChatContext, job: Job, remote: Task | None) -> None:
    sid = short_id(job)
    if remote is None:
        raise UserFacingError("task.gone", id=sid)
    if remote.status in RUNNING:
        raise UserFacingError("task.delete_running", id=sid)
    if not await confirmed(ctx, t(ctx.locale, "task.delete_confirm", id=sid)):
        return
    vocu = await app.client_for(job.platform, job.user_id)
    try:
        await vocu.tasks.delete(remote.id)
    except ve.Forbidden as exc:
        if exc.code == "GENERATE_DELETE_IN_PROGRESS":
            raise UserFacingError("task.delete_running", id=sid) from None
        raise
    except ve.NotFound:
        raise UserFacingError("task.gone", id=sid) from None
    await ctx.reply_text(t(ctx.locale, "task.deleted", id=sid))


async def _regenerate(app: App, ctx: ChatContext, job: Job, remote: Task | None) -> None:
    sid = short_id(job)
    if remote is None:
        raise UserFacingError("task.gone", id=sid)
    if remote.status in RUNNING or not job.delivered_at:
        raise UserFacingError("task.regenerate_running", id=sid)
    cost = sum(billable_chars(block.text or "") for block in remote.metadata.contents)
    if not await confirm_cost(ctx, cost):
        return
    await runner_for(app).regenerate(ctx, job, remote)


async def _send_again(app: App, ctx: ChatContext, job: Job) -> None:
    path = Path(job.result_path or "")
    if not job.result_path or not await asyncio.to_thread(path.is_file):
        raise UserFacingError("task.no_result", id=short_id(job))
    await ctx.reply_audio(await asyncio.to_thread(reply_from_file, job, path))
