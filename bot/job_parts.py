"""Pieces of the job runner: timings, owner ids, costs, delivery targets, file helpers."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot import audio
from bot.context import AudioReply, ChatContext, Courier, confirmed
from bot.i18n import t
from bot.storage import Job
from bot.text import billable_chars
from bot.vocu import errors as ve
from bot.vocu.models import TaskContent

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

TRANSIENT = (ve.VocuConnectionError, ve.RateLimited, ve.ServerError)


@dataclass(slots=True)
class JobTimings:
    """How often the runner works; tests shorten these."""

    lease_seconds: float = 30.0  # a dead worker's jobs are taken over after this
    poll_seconds: float = 10.0  # how often to look for jobs whose lease lapsed
    initial_interval: float = 0.5  # Vocu status polling, with back-off
    max_interval: float = 5.0
    task_timeout: float = 1800.0  # one attempt's wait; then the job is deferred
    max_age: float = 6 * 3600.0  # a job still unfinished this long after it began fails


def new_owner() -> str:
    """A worker id: host and pid (so a dead local worker can be recognised) plus a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """Whether `owner` was a worker on this host whose process no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but not ours to signal
        return False
    return False


def job_cost(contents: Sequence[TaskContent]) -> int:
    """Credits the task will cost: characters as Vocu bills them (code points, no {{…}})."""
    return sum(billable_chars(block.text or "") for block in contents)


def short_id(job: Job) -> str:
    """The id users see and type."""
    return job.id[:8]


async def confirm_cost(ctx: ChatContext, characters: int) -> bool:
    """Show the cost and ask before a billable job; tells the user when they cancel."""
    return await confirmed(ctx, t(ctx.locale, "job.cost_confirm", characters=characters))


def reply_from_file(job: Job, path: Path) -> AudioReply:
    """The stored result of `job` as an AudioReply."""
    mp3 = path.read_bytes()
    p = job.payload
    return AudioReply(
        mp3=mp3,
        title=str(p.get("title") or p.get("voice_name") or "speech"),
        duration=audio.mp3_duration(mp3),
        voice_name=str(p.get("voice_name") or "speech"),
        prefer_file=bool(p.get("prefer_file")),
    )


class Deferred(Exception):
    """Not finished this time: release the lease, another attempt will follow."""


class Lost(Exception):
    """Another worker holds or delivered the job: stop quietly."""


@dataclass(slots=True)
class Lease:
    lost: bool = False


@dataclass(slots=True)
class Target:
    """Where a job's messages go: the live context, else the platform's courier."""

    job: Job
    ctx: ChatContext | None
    courier: Courier | None

    @property
    def locale(self) -> str:
        return self.ctx.locale if self.ctx else str(self.job.payload.get("locale") or "en")

    @property
    def reachable(self) -> bool:
        return self.ctx is not None or self.courier is not None

    async def progress(self, text: str) -> None:
        if self.ctx is not None:
            try:
                await self.ctx.progress(text)
            except Exception:  # cosmetic: never let it stop the job
                log.warning("progress update failed", exc_info=True)

    async def text(self, text: str) -> None:
        if self.ctx is not None:
            await self.ctx.reply_text(text)
        elif self.courier is not None:
            await self.courier.send_text(self.job.chat_id, text, reply_to=self.job.reply_to)

    async def audio(self, reply: AudioReply) -> None:
        if self.ctx is not None:
            await self.ctx.reply_audio(reply)
        elif self.courier is not None:
            await self.courier.send_audio(self.job.chat_id, reply, reply_to=self.job.reply_to)


def failure_text(job: Job, locale: str) -> str:
    """What to tell the user about a failed job."""
    error = job.error or "job.failed"
    return t(locale, error, id=short_id(job)) if error.startswith("job.") else error


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{uuid.uuid4().hex[:6]}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
