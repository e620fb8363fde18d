"""Async generation tasks: `/api/tts/generate…`, polling with back-off, regenerate (PC-20)."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from .. import _conventions as conv
from ..errors import VocuStatusError, VocuTimeout, VocuValidationError
from ..models import TERMINAL_TASK_STATUSES, Task, TaskContent
from ..streams import DEFAULT_READ_CHUNK, iter_body
from . import Resource, model_list, seg

GENERATE = "/api/tts/generate"
TASK_STATUSES = frozenset({"pending", "processing", "generated", "failed"})
VOICE_BLOCKS = frozenset({"text", "audio"})
EXPIRED_URL = frozenset({403, 404, 410})  # PC-4: storage URL gone → re-fetch the task once


def _wire_contents(contents: Sequence[TaskContent]) -> list[dict[str, Any]]:
    """Checked request blocks: a voiced block needs a voice id; a text block needs text."""
    if not contents:
        raise VocuValidationError("a task needs at least one content block")
    wire = []
    for index, block in enumerate(contents):
        if not isinstance(block, TaskContent):
            raise VocuValidationError(f"contents[{index}] must be a TaskContent")
        kind = block.type or "text"
        if kind in VOICE_BLOCKS and not (block.voice_id or "").strip():
            raise VocuValidationError(f"contents[{index}] needs a voice id")
        if kind == "text" and not (block.text or "").strip():
            raise VocuValidationError(f"contents[{index}] has empty text")
        wire.append(block.to_wire())
    return wire


class TasksResource(Resource):
    """Create, list, poll, regenerate and delete async tasks."""

    async def create(
        self, contents: Sequence[TaskContent], *, srt: bool = False, sync: bool = False
    ) -> Task:
        """Queue a task (credits are frozen); `sync` waits until it is processing."""
        body = {"contents": _wire_contents(contents), "srt": srt, "sync": sync}
        timeout = self._client.generate_timeout if sync else None
        return await self._client._request(
            "POST", GENERATE, Task.model_validate, json=body, timeout=timeout, billable=True
        )

    async def list(
        self, *, limit: int = conv.PAGE_SIZE, offset: int = 0, status: str | None = None
    ) -> list[Task]:
        """One page, newest first; the last page has fewer than `limit` items."""
        if not 1 <= limit <= 100 or offset < 0:
            raise VocuValidationError("limit must be 1..100 and offset >= 0")
        if status is not None and status not in TASK_STATUSES:
            raise VocuValidationError(f"unknown task status {status!r}")
        params = {"limit": str(limit), "offset": str(offset)}
        if status:
            params["status"] = status
        return await self._client._request("GET", GENERATE, model_list(Task), params=params)

    async def get(self, task_id: str) -> Task:
        """One task."""
        return await self._client._request(
            "GET", f"{GENERATE}/{seg(task_id, 'task_id')}", Task.model_validate
        )

    async def delete(self, task_id: str) -> None:
        """Delete a settled task (a running one gets 403 GENERATE_DELETE_IN_PROGRESS)."""
        await self._client._request(
            "DELETE", f"{GENERATE}/{seg(task_id, 'task_id')}", lambda _: None, envelope=None
        )

    async def regenerate(self, task_id: str, *, contents: builtins.list[int] | None = None) -> Task:
        """EXPERIMENTAL (PC-20): regenerate all blocks, or the given 0-based indices."""
        if contents is not None and any(not isinstance(i, int) or i < 0 for i in contents):
            raise VocuValidationError("contents must be 0-based block indices")
        path = conv.REGENERATE_PATH.format(task_id=seg(task_id, "task_id"))
        body: dict[str, Any] = {} if contents is None else {"contents": contents}
        return await self._client._request(
            "POST", path, Task.model_validate, json=body, billable=True
        )

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float = 600,  # noqa: ASYNC109 - a polling deadline
        initial_interval: float = 0.5,
        max_interval: float = 5.0,
    ) -> Task:
        """Poll with back-off until `generated` or `failed`; VocuTimeout after `timeout` s.

        Cancelling the caller simply stops polling: no request is left behind.
        """
        seg(task_id, "task_id")
        deadline = time.monotonic() + timeout
        interval = initial_interval
        while True:
            task = await self.get(task_id)
            if task.status in TERMINAL_TASK_STATUSES:
                return task
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise VocuTimeout(f"task still {task.status} after {timeout:g}s")
            await asyncio.sleep(min(interval, remaining))
            interval = min(max_interval, interval * 1.5)

    async def iter_audio(
        self, task: Task, *, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> AsyncIterator[bytes]:
        """Download a generated task's audio; an expired URL re-fetches the task once (PC-4)."""
        if not task.audio:
            raise VocuValidationError("the task has no audio yet")
        try:
            resp = await self._client._open_download(task.audio)
        except VocuStatusError as exc:
            if exc.status not in EXPIRED_URL:
                raise
            fresh = await self.get(task.id)
            if not fresh.audio:
                raise
            resp = await self._client._open_download(fresh.audio)
        try:
            async for chunk in iter_body(resp, chunk_size):
                yield chunk
        finally:
            resp.release()
