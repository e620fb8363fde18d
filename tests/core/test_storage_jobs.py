"""Storage jobs: life cycle, leases, and exactly-once delivery across instances and processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.storage import Job, Storage
from tests.core import test_storage_support as support

db = support.db
storage = support.storage
clock = support.clock
Db = support.Db
Clock = support.Clock
ROOT = Path(__file__).resolve().parents[2]


async def _job(storage: Storage, user: str = "u1", **kwargs: object) -> Job:
    return await storage.create_job("long", "tg", "chat", user, {"text": "hello"}, **kwargs)  # type: ignore[arg-type]


async def test_create_get_list(storage: Storage, clock: Clock) -> None:
    first = await storage.create_job(
        "dialogue", "tg", "chat", "u1", {"lines": [{"voice": "a", "text": "hi"}]}, reply_to="42"
    )
    assert (first.status, first.vocu_task_id, first.reply_to, first.kind) == (
        "created",
        None,
        "42",
        "dialogue",
    )
    assert first.lease_owner is None and first.delivered_at is None and first.attempts == 0
    assert await storage.get_job(first.id) == first
    assert await storage.get_job("no-such-job") is None
    clock.advance(1)
    second = await _job(storage)
    clock.advance(1)
    await _job(storage, user="u2")
    listed = await storage.list_jobs("tg", "u1")
    assert [j.id for j in listed] == [second.id, first.id]
    assert [j.id for j in await storage.list_jobs("tg", "u1", limit=1)] == [second.id]
    assert await storage.list_jobs("discord", "u1") == []
    with pytest.raises(ValueError, match="kind"):
        await storage.create_job("podcast", "tg", "c", "u", {})


async def test_status_flow_generated(storage: Storage) -> None:
    job = await _job(storage)
    assert await storage.set_vocu_task(job.id, "vocu-123") is True
    got = await storage.get_job(job.id)
    assert got is not None and (got.status, got.vocu_task_id) == ("submitted", "vocu-123")
    assert [j.id for j in await storage.claim_jobs("w1", 60)] == [job.id]
    assert await storage.mark_result(job.id, result_path="/a.mp3", result_url="https://x/a.mp3")
    got = await storage.get_job(job.id)
    assert got is not None
    assert (got.status, got.result_path, got.result_url) == (
        "generated",
        "/a.mp3",
        "https://x/a.mp3",
    )
    assert await storage.set_vocu_task(job.id, "vocu-999")  # does not regress the status
    assert (await storage.get_job(job.id)).status == "generated"  # type: ignore[union-attr]
    assert await storage.mark_delivered(job.id, "w1") is True
    done = await storage.get_job(job.id)
    assert done is not None and done.status == "delivered" and done.delivered_at is not None
    assert done.lease_until is None
    # Nothing changes a delivered job any more.
    assert await storage.mark_delivered(job.id, "w1") is False
    assert await storage.mark_result(job.id, error="late") is False
    assert await storage.set_vocu_task(job.id, "x") is False
    assert await storage.renew_lease(job.id, "w1", 60) is False
    assert await storage.claim_jobs("w2", 60) == []


async def test_failed_job_stays_failed_when_delivered(storage: Storage) -> None:
    job = await _job(storage, lease_owner="w1", lease_seconds=60)
    assert await storage.mark_result(job.id, error="insufficient credit") is True
    assert await storage.mark_delivered(job.id, "w1") is True
    got = await storage.get_job(job.id)
    assert got is not None
    assert (got.status, got.error) == ("failed", "insufficient credit")
    assert got.delivered_at is not None


async def test_claim_respects_leases_and_limit(storage: Storage, clock: Clock) -> None:
    jobs = []
    for _ in range(5):
        jobs.append(await _job(storage))
        clock.advance(1)
    held = await _job(storage, lease_owner="creator", lease_seconds=30)
    first = await storage.claim_jobs("w1", lease_seconds=10, limit=3)
    assert [j.id for j in first] == [j.id for j in jobs[:3]]  # oldest first
    assert all(j.lease_owner == "w1" and j.attempts == 1 for j in first)
    assert all(j.lease_until == clock.now + support.timedelta(seconds=10) for j in first)
    second = await storage.claim_jobs("w2", lease_seconds=10)
    assert [j.id for j in second] == [j.id for j in jobs[3:]]  # not held by w1 or the creator
    assert await storage.claim_jobs("w3", lease_seconds=10) == []
    clock.advance(11)  # w1's and w2's leases lapse; the creator's has not
    again = await storage.claim_jobs("w3", lease_seconds=60)
    assert {j.id for j in again} == {j.id for j in jobs}
    assert all(j.attempts == 2 for j in again)
    clock.advance(20)
    assert [j.id for j in await storage.claim_jobs("w4", 10)] == [held.id]


async def test_renew_and_release(storage: Storage, clock: Clock) -> None:
    job = await _job(storage)
    await storage.claim_jobs("w1", lease_seconds=10)
    clock.advance(8)
    assert await storage.renew_lease(job.id, "w1", 10) is True
    assert await storage.renew_lease(job.id, "intruder", 10) is False
    clock.advance(8)  # would have lapsed without the renewal
    assert await storage.claim_jobs("w2", 10) == []
    assert await storage.release_job(job.id, "intruder") is False
    assert await storage.release_job(job.id, "w1") is True
    [taken] = await storage.claim_jobs("w2", 10)
    assert taken.id == job.id and taken.lease_owner == "w2"
    # The previous owner can no longer renew or deliver.
    assert await storage.renew_lease(job.id, "w1", 10) is False
    assert await storage.mark_delivered(job.id, "w1") is False
    assert await storage.mark_delivered(job.id, "w2") is True


async def test_racing_mark_delivered_has_one_winner(db: Db, storage: Storage) -> None:
    other = await db.open()
    try:
        job = await _job(storage, lease_owner="w", lease_seconds=60)
        results = await asyncio.gather(
            *(s.mark_delivered(job.id, "w") for _ in range(10) for s in (storage, other))
        )
        assert results.count(True) == 1
    finally:
        await other.close()


async def _worker(store: Storage, owner: str, delivered: list[tuple[str, str]]) -> None:
    """Claim with short leases, sometimes too slow (so jobs get stolen), deliver once."""
    idle = 0
    while idle < 5:
        jobs = await store.claim_jobs(owner, lease_seconds=0.05, limit=4)
        idle = 0 if jobs else idle + 1
        for n, job in enumerate(jobs):
            if n % 3 == 2:
                await asyncio.sleep(0.06)  # let the lease lapse: the other worker may steal it
            await store.mark_result(job.id, result_path=f"/r/{job.id}")
            if await store.mark_delivered(job.id, owner):
                delivered.append((job.id, owner))
        await asyncio.sleep(0.01 if not jobs else 0)


async def test_two_instances_deliver_each_job_exactly_once(db: Db, storage: Storage) -> None:
    ids = {(await _job(storage, user=f"u{i % 7}")).id for i in range(50)}
    other = await db.open()
    delivered: list[tuple[str, str]] = []
    try:
        await asyncio.wait_for(
            asyncio.gather(_worker(storage, "A", delivered), _worker(other, "B", delivered)), 60
        )
    finally:
        await other.close()
    counts = Counter(job_id for job_id, _ in delivered)
    assert set(counts) == ids
    assert set(counts.values()) == {1}
    for job_id in ids:
        job = await storage.get_job(job_id)
        assert job is not None and job.status == "delivered"


_PROCESS_WORKER = """
import asyncio, json, sys
from bot.storage import Storage

async def main() -> None:
    args = json.loads(sys.argv[1])
    store = await Storage.open(args["url"], schema=args["schema"], secret=args["secret"])
    mine, idle = [], 0
    try:
        while idle < 20:
            jobs = await store.claim_jobs(args["owner"], lease_seconds=0.2, limit=3)
            idle = 0 if jobs else idle + 1
            for job in jobs:
                await store.mark_result(job.id, result_path="/r")
                if await store.mark_delivered(job.id, args["owner"]):
                    mine.append(job.id)
            await asyncio.sleep(0 if jobs else 0.02)
    finally:
        await store.close()
    print(json.dumps(mine))

asyncio.run(main())
"""


async def test_two_processes_deliver_each_job_exactly_once(db: Db, storage: Storage) -> None:
    ids = {(await _job(storage)).id for _ in range(50)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _PROCESS_WORKER,
            json.dumps({**db.open_args(), "owner": owner}),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for owner in ("P1", "P2")
    ]
    outputs = [await asyncio.wait_for(p.communicate(), 90) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    delivered = [job_id for out, _ in outputs for job_id in json.loads(out)]
    assert Counter(delivered) == Counter(ids)
