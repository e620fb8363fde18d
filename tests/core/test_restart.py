"""Jobs survive restarts: resumed from storage, never billed twice, delivered exactly once.

The in-process tests drive JobRunner directly; the last two run the real console bot in child
processes, kill one with SIGKILL mid-generation and let fresh processes finish its job.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot import audio
from bot.app import App, Limits
from bot.context import AudioReply
from bot.jobs import JobRunner, JobTimings
from bot.storage import Job, Storage
from bot.vocu.client import VocuClient
from bot.vocu.models import TaskContent
from bot.vocu.simulator import Simulator
from tests.conftest import fast_config

ROOT = Path(__file__).resolve().parents[2]
FAST = JobTimings(lease_seconds=5, poll_seconds=0.2, initial_interval=0.05, max_interval=0.2)


@dataclass
class RecordingCourier:
    """A Courier that records what it was asked to send."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    audio: list[tuple[str, AudioReply]] = field(default_factory=list)

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        self.texts.append((chat_id, text))

    async def send_audio(
        self, chat_id: str, audio: AudioReply, *, reply_to: str | None = None
    ) -> None:
        self.audio.append((chat_id, audio))


@pytest.fixture
def courier(app: App) -> RecordingCourier:
    app.couriers["test"] = sent = RecordingCourier()
    return sent


async def _blocks(app: App, text: str = "Resume me, please.") -> list[TaskContent]:
    voice = next(v for v in await app.voices(app.vocu) if v.name == "Alice")
    return [TaskContent.text_block(voice.generate_id, text)]


async def _orphan(app: App, contents: list[TaskContent], **kwargs: Any) -> Job:
    """A job as a worker that died left it: its lease already lapsed."""
    payload = {"contents": [c.to_wire() for c in contents], "voice_name": "Alice", "locale": "en"}
    return await app.storage.create_job(
        "long", "test", "c1", "u1", payload, lease_owner="gone:1:x", lease_seconds=0, **kwargs
    )


async def _resume(app: App, owner: str = "w1") -> JobRunner:
    runner = JobRunner(app, owner, timings=FAST)
    await runner.start()
    await app.drain()
    await runner.stop()
    return runner


async def test_resumes_a_submitted_job_through_the_courier(
    app: App, courier: RecordingCourier, simulator, api_key: str
) -> None:
    contents = await _blocks(app)
    job = await _orphan(app, contents)
    task = await app.vocu.tasks.create(contents)
    await app.storage.set_vocu_task(job.id, task.id)
    await _resume(app)
    assert [chat for chat, _ in courier.audio] == ["c1"]
    assert audio.mp3_duration(courier.audio[0][1].mp3) > 0
    done = await app.storage.get_job(job.id)
    assert done is not None and done.status == "delivered"
    await _resume(app, "w2")  # nothing left to do
    assert len(courier.audio) == 1 and simulator.generation_calls(api_key) == 1


async def test_created_job_adopts_the_task_that_reached_vocu(
    app: App, courier: RecordingCourier, simulator, api_key: str
) -> None:
    contents = await _blocks(app)
    older = await app.vocu.tasks.create(contents)  # same text, but another job's task
    bound = await app.storage.create_job("long", "test", "c1", "u1", {})
    await app.storage.set_vocu_task(bound.id, older.id)
    assert [j.id for j in await app.storage.claim_jobs("other", 60)] == [bound.id]
    assert await app.storage.mark_delivered(bound.id, "other")
    job = await _orphan(app, contents)
    reached = await app.vocu.tasks.create(contents)  # the crash came before set_vocu_task
    await _resume(app)
    done = await app.storage.get_job(job.id)
    assert done is not None and done.vocu_task_id == reached.id
    assert len(courier.audio) == 1
    assert simulator.generation_calls(api_key) == 2  # the two above: nothing billed again


async def test_created_job_without_a_task_creates_it_once(
    app: App, courier: RecordingCourier, simulator, api_key: str
) -> None:
    job = await _orphan(app, await _blocks(app, "Never reached Vocu."))
    await _resume(app)
    done = await app.storage.get_job(job.id)
    assert done is not None and done.status == "delivered" and done.vocu_task_id
    assert len(courier.audio) == 1 and simulator.generation_calls(api_key) == 1


async def test_resumed_failure_is_reported(app: App, courier: RecordingCourier, simulator) -> None:
    simulator.faults.fail_tasks = True
    job = await _orphan(app, await _blocks(app))
    await _resume(app)
    assert not courier.audio and len(courier.texts) == 1
    assert "failed at Vocu" in courier.texts[0][1] and job.id[:8] in courier.texts[0][1]


async def test_waits_for_a_courier(app: App, simulator) -> None:
    job = await _orphan(app, await _blocks(app))
    runner = JobRunner(app, "w1", timings=FAST)
    await runner.start()
    await app.drain()
    held = await app.storage.get_job(job.id)
    assert held is not None and held.status == "generated" and not held.delivered_at
    assert held.lease_until is None  # given back for a worker that can deliver it
    app.couriers["test"] = courier = RecordingCourier()
    for _ in range(100):  # the poller picks it up again
        await asyncio.sleep(0.05)
        await app.drain()
        if courier.audio:
            break
    await runner.stop()
    assert len(courier.audio) == 1


@pytest.fixture
async def second_app(simulator, api_key: str, app: App) -> AsyncIterator[App]:
    """Another App (own storage engine, own client) on the same database file."""
    storage = await Storage.open(
        f"sqlite+aiosqlite:///{app.data_dir / 'bot.sqlite3'}", secret=None, data_dir=app.data_dir
    )
    async with VocuClient(api_key, base_url=simulator.base_url) as vocu:
        yield App(vocu=vocu, storage=storage, data_dir=app.data_dir, limits=Limits())
    await storage.close()


async def test_two_workers_on_one_database_deliver_once(
    app: App, second_app: App, simulator, api_key: str
) -> None:
    first, second = RecordingCourier(), RecordingCourier()
    app.couriers["test"], second_app.couriers["test"] = first, second
    jobs = [await _orphan(app, await _blocks(app, f"Job number {n}.")) for n in range(6)]
    runners = [JobRunner(a, f"w{n}", timings=FAST) for n, a in enumerate((app, second_app))]
    await asyncio.gather(*(r.start() for r in runners))
    await asyncio.gather(app.drain(), second_app.drain())
    await asyncio.gather(*(r.stop() for r in runners))
    delivered = [a.voice_name for _, a in first.audio + second.audio]
    assert len(delivered) == len(jobs)
    assert simulator.generation_calls(api_key) == len(jobs)
    for job in jobs:
        done = await app.storage.get_job(job.id)
        assert done is not None and done.status == "delivered"


# ------------------------------------------------------------------ real processes, kill -9


@pytest.fixture
async def slow_simulator() -> AsyncIterator[Simulator]:
    sim = Simulator(fast_config(task_pending_seconds=2.0, task_processing_seconds=2.0))
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()


class Bot:
    """`python -m bot console` in a child process, sharing `data` with its siblings."""

    def __init__(self, tmp: Path, name: str, sim: Simulator, key: str) -> None:
        self.out = tmp / f"out-{name}"
        self.log = tmp / f"{name}.log"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("VOCU", "TELEGRAM", "DISCORD"))
        }
        self.env |= {
            "VOCU_API_KEY": key,
            "VOCU_BASE_URL": sim.base_url,
            "VOCUBOT_DATA_DIR": str(tmp / "data"),
        }
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, *, keep_stdin: bool) -> None:
        with self.log.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "console",
                "--out",
                str(self.out),
                stdin=asyncio.subprocess.PIPE if keep_stdin else asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=ROOT,
                env=self.env,
            )

    async def type(self, text: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        await self.proc.stdin.drain()

    async def finish(self) -> int:
        assert self.proc is not None
        async with asyncio.timeout(25):
            return await self.proc.wait()

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no clean-up at all
        await self.proc.wait()  # reaped: its pid is gone


def _jobs(tmp: Path) -> list[tuple[Any, ...]]:
    db = tmp / "data" / "vocu-bot.sqlite3"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("SELECT id, vocu_task_id, status FROM jobs").fetchall()
    except sqlite3.OperationalError:  # not migrated yet, or busy
        return []


async def _until(check: Any) -> None:
    deadline = time.monotonic() + 15
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _delivered_audio(*bots: Bot) -> list[Path]:
    return [p for bot in bots if bot.out.exists() for p in bot.out.glob("*.mp3")]


async def _killed_mid_generation(tmp: Path, sim: Simulator, key: str, *, wait_for: str) -> Bot:
    """Process A takes a /long job and is killed with SIGKILL while Vocu generates it."""
    a = Bot(tmp, "a", sim, key)
    await a.start(keep_stdin=True)
    await a.type("/long This text survives a crash of the bot.\ny\n")
    if wait_for == "job":  # A recorded its Vocu task id
        await _until(lambda: any(row[1] for row in _jobs(tmp)))
    else:  # the task reached Vocu; A may not have recorded its id yet
        await _until(lambda: bool(sim.account(key).tasks))
    assert all(t.running() for t in sim.account(key).tasks.values()), "too late: already done"
    await a.kill()
    return a


async def test_kill_9_then_restart_delivers_once(
    tmp_path: Path, slow_simulator: Simulator, api_key: str
) -> None:
    a = await _killed_mid_generation(tmp_path, slow_simulator, api_key, wait_for="job")
    b = Bot(tmp_path, "b", slow_simulator, api_key)
    await b.start(keep_stdin=False)  # EOF at once: B must finish A's job before it exits
    assert await b.finish() == 0, b.log.read_text()
    files = _delivered_audio(a, b)
    assert len(files) == 1 and files[0].parent == b.out, b.log.read_text()
    assert audio.mp3_duration(files[0].read_bytes()) > 0
    assert [row[2] for row in _jobs(tmp_path)] == ["delivered"]
    assert slow_simulator.generation_calls(api_key) == 1


async def test_two_processes_resume_the_same_job_once(
    tmp_path: Path, slow_simulator: Simulator, api_key: str
) -> None:
    a = await _killed_mid_generation(tmp_path, slow_simulator, api_key, wait_for="task")
    b, c = Bot(tmp_path, "b", slow_simulator, api_key), Bot(tmp_path, "c", slow_simulator, api_key)
    await asyncio.gather(b.start(keep_stdin=False), c.start(keep_stdin=False))
    codes = await asyncio.gather(b.finish(), c.finish())
    assert codes == [0, 0], b.log.read_text() + c.log.read_text()
    files = _delivered_audio(a, b, c)
    assert len(files) == 1, b.log.read_text() + c.log.read_text()
    assert audio.mp3_duration(files[0].read_bytes()) > 0
    assert [row[2] for row in _jobs(tmp_path)] == ["delivered"]
    assert slow_simulator.generation_calls(api_key) == 1  # adopted, never created again


async def test_paid_say_whose_delivery_failed_is_delivered_later_once(
    app: App, courier: RecordingCourier, simulator, api_key: str
) -> None:
    from tests.core.conftest import run
    from tests.core.recording import RecordingContext

    class Broken(RecordingContext):
        async def reply_audio(self, audio: AudioReply, *, caption: str | None = None) -> None:
            raise ConnectionError("platform down")

    ctx = Broken()
    await run(app, ctx, "/say Paid for, so it must arrive.")
    assert "sending it failed" in ctx.last
    calls = simulator.generation_calls(api_key)
    await _resume(app)
    await _resume(app, owner="w2")  # a second worker finds nothing left to send
    assert len(courier.audio) == 1 and courier.audio[0][0] == "c1"
    assert courier.audio[0][1].voice_name
    assert simulator.generation_calls(api_key) == calls  # delivered, not generated again
