"""Asynchronous jobs that survive restarts and are delivered exactly once across processes.

Life of a job: `create_job` (status "created", written BEFORE the Vocu task exists) →
`set_vocu_task` ("submitted") → `mark_result` ("generated" or "failed") → `mark_delivered`.
Workers `claim_jobs` under a lease; a job whose lease lapses (its worker died) is claimed again.
`mark_delivered` is the exactly-once guard: call it BEFORE sending, send only if it returns True.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import case, or_, select, update

from .base import StoreBase
from .models import JobRow
from .types import JOB_KINDS, Job

_NO_SYNC = {"synchronize_session": False}


def _job(row: JobRow) -> Job:
    """Row → record."""
    return Job(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]  # validated on write
        platform=row.platform,
        chat_id=row.chat_id,
        user_id=row.user_id,
        reply_to=row.reply_to,
        payload=dict(row.payload or {}),
        vocu_task_id=row.vocu_task_id,
        status=row.status,  # type: ignore[arg-type]
        result_path=row.result_path,
        result_url=row.result_url,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
        delivered_at=row.delivered_at,
        attempts=row.attempts,
    )


class JobStore(StoreBase):
    """The `jobs` table."""

    async def create_job(
        self,
        kind: str,
        platform: str,
        chat_id: str,
        user_id: str,
        payload: Mapping[str, Any],
        *,
        reply_to: str | None = None,
        lease_owner: str | None = None,
        lease_seconds: float = 0.0,
    ) -> Job:
        """Record a new job. With `lease_owner`, the creator holds it for `lease_seconds`
        (so pollers in other processes leave it alone while the creator works on it)."""
        if kind not in JOB_KINDS:
            raise ValueError(f"job kind must be one of {sorted(JOB_KINDS)}")
        now = self._now()
        row = JobRow(
            id=str(uuid.uuid4()),
            kind=kind,
            platform=platform,
            chat_id=chat_id,
            user_id=user_id,
            reply_to=reply_to,
            payload=dict(payload),
            status="created",
            created_at=now,
            updated_at=now,
            lease_owner=lease_owner,
            lease_until=now + timedelta(seconds=lease_seconds) if lease_owner else None,
            attempts=1 if lease_owner else 0,
        )
        async with self._write() as session:
            session.add(row)
        return _job(row)

    async def set_vocu_task(self, job_id: str, vocu_task_id: str) -> bool:
        """Remember the Vocu task of an undelivered job; "created" becomes "submitted"."""
        status = case((JobRow.status == "created", "submitted"), else_=JobRow.status)
        return await self._update(
            job_id, None, vocu_task_id=vocu_task_id, status=status, updated_at=self._now()
        )

    async def claim_jobs(self, owner: str, lease_seconds: float, limit: int = 10) -> list[Job]:
        """Atomically lease up to `limit` undelivered jobs whose lease has lapsed (oldest first).

        One statement: WITH due AS (SELECT … FOR UPDATE SKIP LOCKED) UPDATE … RETURNING. On
        PostgreSQL concurrent claimers skip each other's rows; on SQLite the write transaction
        (BEGIN IMMEDIATE) makes it atomic across processes sharing the file.
        """
        now = self._now()
        claimable = (
            JobRow.delivered_at.is_(None),
            or_(JobRow.lease_until.is_(None), JobRow.lease_until < now),
        )
        due = (
            select(JobRow.id)
            .where(*claimable)
            .order_by(JobRow.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")  # evaluated once: an IN (subquery) may be rescanned and overshoot LIMIT
        )
        stmt = (
            update(JobRow)
            .where(JobRow.id.in_(select(due.c.id)), *claimable)
            .values(
                lease_owner=owner,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=JobRow.attempts + 1,
                updated_at=now,
            )
            .returning(JobRow)
            .execution_options(**_NO_SYNC)
        )
        async with self._write() as session:
            rows = (await session.execute(stmt)).scalars().all()
            jobs = [_job(row) for row in rows]
        return sorted(jobs, key=lambda job: job.created_at)

    async def renew_lease(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease; False if the job was delivered or someone else holds it."""
        now = self._now()
        until = now + timedelta(seconds=lease_seconds)
        return await self._update(job_id, owner, lease_until=until, updated_at=now)

    async def release_job(self, job_id: str, owner: str) -> bool:
        """Give up `owner`'s lease so another worker may claim the job at once (shutdown)."""
        return await self._update(job_id, owner, lease_until=None, updated_at=self._now())

    async def mark_result(
        self,
        job_id: str,
        *,
        result_path: str | None = None,
        result_url: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Record the outcome: "failed" with `error`, else "generated" with the result.

        False if the job does not exist or was already delivered.
        """
        return await self._update(
            job_id,
            None,
            status="failed" if error is not None else "generated",
            result_path=result_path,
            result_url=result_url,
            error=error,
            updated_at=self._now(),
        )

    async def mark_delivered(self, job_id: str, owner: str) -> bool:
        """Flip the job to delivered; True only for the one caller that does it.

        The caller must hold the lease (`owner`). A failed job keeps status "failed" and gains
        `delivered_at` (the user has been told).
        """
        now = self._now()
        status = case((JobRow.status == "failed", "failed"), else_="delivered")
        return await self._update(
            job_id, owner, status=status, delivered_at=now, lease_until=None, updated_at=now
        )

    async def get_job(self, job_id: str) -> Job | None:
        """One job by its local id."""
        async with self._read() as session:
            row = await session.get(JobRow, job_id)
            return _job(row) if row else None

    async def list_jobs(self, platform: str, user_id: str, limit: int = 20) -> list[Job]:
        """The user's most recent jobs, newest first."""
        stmt = (
            select(JobRow)
            .where(JobRow.platform == platform, JobRow.user_id == user_id)
            .order_by(JobRow.created_at.desc(), JobRow.id)
            .limit(limit)
        )
        async with self._read() as session:
            return [_job(row) for row in (await session.execute(stmt)).scalars()]

    async def _update(self, job_id: str, owner: str | None, **values: Any) -> bool:
        """Conditionally update one undelivered job (held by `owner`, if given)."""
        stmt = update(JobRow).where(JobRow.id == job_id, JobRow.delivered_at.is_(None))
        if owner is not None:
            stmt = stmt.where(JobRow.lease_owner == owner)
        stmt = stmt.values(**values).execution_options(**_NO_SYNC)
        async with self._write() as session:
            result = await session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))
