"""The job runner: async Vocu tasks that survive restarts and are delivered exactly once.

A job is written to storage BEFORE its Vocu task is created, then followed to delivery by the
worker holding its lease (renewed while it works). The command that started it follows it with
its live ChatContext; after a restart, or when that worker died, another worker claims the job
once its lease lapses and delivers through `app.couriers[job.platform]`. `mark_delivered` is
called before sending, so two workers sharing one database never both deliver.

A job that died before it learnt its Vocu task id ("created", resumed) may or may not have
reached Vocu. Creating the task again could bill twice, so the resumed worker first looks among
the account's most recent Vocu tasks for one with the same blocks (voice and text), created since
the job was written and not already bound to another job of the user, and adopts it. Only when
none is found is the task created. (If two identical scripts were sent at the same moment by users
sharing a key, one may adopt the other's task: both still get exactly the audio they asked for.)

Worker ids carry host and pid, so `adopt` can take over at once the jobs of a worker on this host
whose process is gone (kill -9), instead of waiting for the lease to lapse. Delivery is
"mark, then send": a send that fails after the mark is not repeated automatically (the live chat
falls back to the courier once), but the audio stays in `data_dir/results` for `/task <id> send`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.context import AudioReply, ChatContext
from bot.i18n import t
from bot.job_parts import (
    TRANSIENT,
    Deferred,
    JobTimings,
    Lease,
    Lost,
    Target,
    confirm_cost,
    failure_text,
    job_cost,
    new_owner,
    owner_is_dead,
    parse_time,
    reply_from_file,
    short_id,
    write_atomically,
)
from bot.storage import Job
from bot.vocu import errors as ve
from bot.vocu.models import Task, TaskContent

if TYPE_CHECKING:
    from bot.app import App
    from bot.vocu.client import VocuClient

log = logging.getLogger(__name__)

__all__ = [
    "JobRunner",
    "JobTimings",
    "confirm_cost",
    "failure_text",
    "job_cost",
    "reply_from_file",
    "runner_for",
    "short_id",
]

_RUNNERS: dict[int, JobRunner] = {}


def runner_for(app: App) -> JobRunner:
    """The app's runner (the one started by the entry point, else a new unstarted one)."""
    runner = _RUNNERS.get(id(app))
    if runner is None or runner.app is not app:
        runner = JobRunner(app)
    return runner


class JobRunner:
    """Submits, follows, resumes and delivers the jobs of one process."""

    def __init__(
        self, app: App, owner: str | None = None, *, timings: JobTimings | None = None
    ) -> None:
        self.app = app
        self.owner = owner or new_owner()
        self.timings = timings or JobTimings()
        self._poller: asyncio.Task[None] | None = None
        self._working: dict[str, asyncio.Task[Any]] = {}
        _RUNNERS[id(app)] = self

    @property
    def results_dir(self) -> Path:
        """Where generated audio is kept until (and after) delivery."""
        return self.app.data_dir / "results"

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Resume every unfinished job whose lease lapsed, then keep looking periodically."""
        await self._claim()
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="jobs-poller")

    async def stop(self) -> None:
        """Stop looking; jobs still in progress give their lease back for the next worker."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        working = list(self._working.values())
        for task in working:
            task.cancel()
        await asyncio.gather(*working, return_exceptions=True)
        if _RUNNERS.get(id(self.app)) is self:
            del _RUNNERS[id(self.app)]

    async def adopt(self, platform: str, user_id: str) -> list[Job]:
        """Release this user's jobs held by dead local workers, claim what is due; undelivered."""
        pending = [
            j for j in await self.app.storage.list_jobs(platform, user_id, 50) if not j.delivered_at
        ]
        for job in pending:
            owner = job.lease_owner
            if owner and owner != self.owner and owner_is_dead(owner):
                log.info("job %s: its worker %s died; taking it over", job.id, owner)
                await self.app.storage.release_job(job.id, owner)
        await self._claim()
        return pending

    async def settle(self, platform: str, user_id: str, *, within: float = 300.0) -> bool:
        """Wait until this user's jobs are delivered (by us or another live worker)."""
        deadline = time.monotonic() + within
        while True:
            await self.app.drain()
            if not await self.adopt(platform, user_id):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.25)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.timings.poll_seconds)
            try:
                await self._claim()
            except Exception:
                log.exception("claiming jobs failed")

    async def _claim(self) -> None:
        while True:
            jobs = await self.app.storage.claim_jobs(self.owner, self.timings.lease_seconds, 10)
            for job in jobs:
                log.info("job %s: resuming (%s, attempt %d)", job.id, job.status, job.attempts)
                self.app.spawn(self._process(job, None), name=f"job-{short_id(job)}")
            if len(jobs) < 10:
                return

    # ------------------------------------------------------------------ entry points

    async def submit(
        self, ctx: ChatContext, kind: str, payload: dict[str, Any], contents: list[TaskContent]
    ) -> Job:
        """Record a job, create its Vocu task and follow it with `ctx` until it is delivered."""
        data = {**payload, "contents": [c.to_wire() for c in contents], "locale": ctx.locale}
        return await self._start(ctx, kind, data)

    async def deliver_later(self, ctx: ChatContext, reply: AudioReply) -> Job:
        """Keep paid audio whose delivery failed: stored as a finished job, the runner sends
        it through the platform's courier (now, or after a restart)."""
        payload = {
            "title": reply.title,
            "voice_name": reply.voice_name,
            "prefer_file": reply.prefer_file,
            "locale": ctx.locale,
        }
        reply_to = getattr(ctx, "message_id", None)
        job = await self.app.storage.create_job(
            "say", ctx.platform, ctx.chat_id, ctx.user_id, payload,
            reply_to=str(reply_to) if reply_to else None,
        )  # fmt: skip
        path = self.results_dir / f"{job.id}.mp3"
        await asyncio.to_thread(write_atomically, path, reply.mp3)
        await self.app.storage.mark_result(job.id, result_path=str(path))
        return job

    async def regenerate(self, ctx: ChatContext, job: Job, task: Task) -> Job:
        """A new job that regenerates `job`'s Vocu task (settled) and delivers the new audio."""
        data = {
            **job.payload,
            "locale": ctx.locale,
            "regenerate_of": task.id,
            "regenerates_before": len(task.metadata.regenerates),
        }
        return await self._start(ctx, job.kind, data)

    async def _start(self, ctx: ChatContext, kind: str, data: dict[str, Any]) -> Job:
        reply_to = getattr(ctx, "message_id", None)  # optional hook: reply to the command
        job = await self.app.storage.create_job(
            kind,
            ctx.platform,
            ctx.chat_id,
            ctx.user_id,
            data,
            reply_to=str(reply_to) if reply_to else None,
            lease_owner=self.owner,
            lease_seconds=self.timings.lease_seconds,
        )
        return await self._process(job, ctx, fresh=True)

    # ------------------------------------------------------------------ processing

    async def _process(self, job: Job, ctx: ChatContext | None, *, fresh: bool = False) -> Job:
        """Take a job we hold to delivery; on anything unfinished, give the lease back."""
        current = asyncio.current_task()
        if current is not None:
            self._working[job.id] = current
        target = Target(job, ctx, self.app.couriers.get(job.platform))
        try:
            async with self._lease(job.id) as lease:
                job = await self._generate(job, target, lease, fresh=fresh)
                if not target.reachable:  # e.g. its adapter is not running in this process
                    raise Deferred(f"no courier for {job.platform}")
                await self._deliver(job, target, lease)
        except Lost:
            log.info("job %s: handled by another worker", job.id)
        except asyncio.CancelledError:
            await self._release(job)
            raise
        except Exception as exc:
            if not isinstance(exc, Deferred):
                log.exception("job %s: failed this time; it will be retried", job.id)
            await self._release(job)
            if ctx is not None:
                with contextlib.suppress(Exception):
                    await ctx.reply_text(t(ctx.locale, "job.deferred", id=short_id(job)))
        finally:
            self._working.pop(job.id, None)
        return await self.app.storage.get_job(job.id) or job

    async def _release(self, job: Job) -> None:
        with contextlib.suppress(Exception):
            await self.app.storage.release_job(job.id, self.owner)

    @contextlib.asynccontextmanager
    async def _lease(self, job_id: str) -> AsyncIterator[Lease]:
        """Hold the job's lease while working on it (renewed in the background)."""
        lease = Lease()

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.timings.lease_seconds / 3)
                try:
                    renewed = await self.app.storage.renew_lease(
                        job_id, self.owner, self.timings.lease_seconds
                    )
                except Exception:
                    log.warning("job %s: lease renewal failed", job_id, exc_info=True)
                    continue
                if not renewed:
                    lease.lost = True
                    return

        beater = asyncio.create_task(beat(), name=f"lease-{job_id[:8]}")
        try:
            yield lease
        finally:
            beater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beater

    async def _generate(self, job: Job, target: Target, lease: Lease, *, fresh: bool) -> Job:
        """Make sure the job has an outcome (audio on disk, or an error) recorded."""
        if job.status in ("generated", "failed"):
            return job
        if not fresh and self._too_old(job) and not job.vocu_task_id:
            return await self._record(job, error="job.failed")
        vocu = await self.app.client_for(job.platform, job.user_id)
        try:
            task_id = await self._ensure_task(job, vocu, fresh=fresh)
        except TRANSIENT as exc:  # it may have reached Vocu: decide when resuming
            raise Deferred(str(exc)) from exc
        except ve.VocuStatusError as exc:  # Vocu refused: no task was created
            from bot.router import error_reply  # lazily: the router imports every command

            return await self._record(job, error=error_reply(exc, target.locale))
        except ve.VocuValidationError:  # e.g. a job record without contents
            log.exception("job %s: cannot be submitted", job.id)
            return await self._record(job, error="job.failed")
        try:
            task = await self._wait(job, vocu, task_id, target, lease)
        except ve.NotFound:
            return await self._record(job, error="job.lost")
        if task.status == "failed":
            return await self._record(job, error="job.failed")
        path = await self._download(job, vocu, task)
        return await self._record(job, result_path=str(path), result_url=task.audio)

    def _too_old(self, job: Job) -> bool:
        return datetime.now(UTC) - job.created_at > timedelta(seconds=self.timings.max_age)

    async def _record(self, job: Job, **outcome: str | None) -> Job:
        if not await self.app.storage.mark_result(job.id, **outcome):
            raise Lost
        return await self.app.storage.get_job(job.id) or job

    async def _ensure_task(self, job: Job, vocu: VocuClient, *, fresh: bool) -> str:
        """The job's Vocu task id, creating (or regenerating) the task only when needed."""
        if job.vocu_task_id:
            return job.vocu_task_id
        storage, payload = self.app.storage, job.payload
        if regenerate_of := payload.get("regenerate_of"):
            task = await vocu.tasks.get(regenerate_of)
            if len(task.metadata.regenerates) <= int(payload.get("regenerates_before") or 0):
                await vocu.tasks.regenerate(regenerate_of)  # not done yet (it is counted)
            await storage.set_vocu_task(job.id, regenerate_of)
            return str(regenerate_of)
        contents = [TaskContent.model_validate(c) for c in payload.get("contents") or []]
        found = None if fresh else await self._find_task(job, vocu, contents)
        if found is None:
            found = (await vocu.tasks.create(contents)).id
        else:
            log.info("job %s: adopting Vocu task %s created before a restart", job.id, found)
        await storage.set_vocu_task(job.id, found)
        return found

    async def _find_task(
        self, job: Job, vocu: VocuClient, contents: list[TaskContent]
    ) -> str | None:
        """A recent Vocu task with the job's blocks, not bound to another job (see module doc)."""
        jobs = await self.app.storage.list_jobs(job.platform, job.user_id, 100)
        taken = {j.vocu_task_id for j in jobs if j.vocu_task_id}
        want = [(c.voice_id, c.text) for c in contents]
        since = job.created_at - timedelta(minutes=2)  # clock skew between us and Vocu
        for offset in (0, 20):
            page = await vocu.tasks.list(limit=20, offset=offset)
            for task in page:
                created = parse_time(task.created_at)
                if created is not None and created < since:
                    return None  # newest first: the rest is older still
                blocks = [(c.voice_id, c.text) for c in task.metadata.contents]
                if task.id not in taken and blocks == want:
                    return task.id
            if len(page) < 20:
                break
        return None

    async def _wait(
        self, job: Job, vocu: VocuClient, task_id: str, target: Target, lease: Lease
    ) -> Task:
        """Poll the task until it settles, showing each status change."""
        timings = self.timings
        deadline = time.monotonic() + timings.task_timeout
        interval, shown = timings.initial_interval, ""
        while True:
            if lease.lost:
                raise Lost
            try:
                task: Task | None = await vocu.tasks.get(task_id)
            except TRANSIENT:
                log.warning("job %s: polling failed; trying again", job.id, exc_info=True)
                task = None
            if task is not None and task.is_done:
                return task
            if task is not None and task.status != shown and task.status:
                shown = task.status
                key = "job.processing" if shown == "processing" else "job.pending"
                await target.progress(t(target.locale, key, id=short_id(job)))
            if time.monotonic() > deadline:
                if self._too_old(job):
                    return Task(id=task_id, status="failed")
                raise Deferred("task still running")
            await asyncio.sleep(interval)
            interval = min(timings.max_interval, interval * 1.5)

    async def _download(self, job: Job, vocu: VocuClient, task: Task) -> Path:
        """Store the merged audio before delivery, so a failed delivery can be retried."""
        data = b"".join([chunk async for chunk in vocu.tasks.iter_audio(task)])
        path = self.results_dir / f"{job.id}.mp3"
        await asyncio.to_thread(write_atomically, path, data)
        return path

    async def _deliver(self, job: Job, target: Target, lease: Lease) -> None:
        """Send the result (or the failure) once: `mark_delivered` first, then send."""
        reply = None
        if job.error is None:
            path = Path(job.result_path or "")
            if not await asyncio.to_thread(path.is_file):  # e.g. the folder was cleaned
                vocu = await self.app.client_for(job.platform, job.user_id)
                task = await vocu.tasks.get(job.vocu_task_id or "")
                path = await self._download(job, vocu, task)
            reply = await asyncio.to_thread(reply_from_file, job, path)
        if lease.lost or not await self.app.storage.mark_delivered(job.id, self.owner):
            raise Lost
        try:
            if reply is not None:
                await target.audio(reply)
                await target.progress(t(target.locale, "job.done", id=short_id(job)))
            else:
                await target.text(failure_text(job, target.locale))
        except Exception:
            log.exception("job %s: delivery failed", job.id)
            if target.ctx is None or target.courier is None:
                return
            fallback = Target(job, None, target.courier)  # the live chat failed: the courier
            with contextlib.suppress(Exception):
                if reply is not None:
                    await fallback.audio(reply)
                else:
                    await fallback.text(failure_text(job, target.locale))
