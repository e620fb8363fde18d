"""Async tasks: create, list, get, delete, regenerate (§12.3–12.7, §17.1)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web

from .entities import Task, mono, new_id
from .errors import ApiError, missing_field
from .helpers import account_of, as_bool, as_int, read_json, reply, state_of
from .state import Account, SimState
from .task_input import Block, parse_block, split_text, validate_splitter_config

routes = web.RouteTableDef()
_STATUSES = frozenset({"pending", "processing", "generated", "failed"})
_MAX_SYNC_WAIT = 90.0


def _raw_contents(account: Account, body: dict[str, Any]) -> list[Any]:
    """`contents`, or the utterances of `text` + `splitter`/`splitterId`."""
    has_splitter = "splitter" in body or "splitterId" in body
    if "contents" in body:
        if has_splitter or "text" in body:
            raise ApiError(400, "VALIDATION_CONFLICT", "Use either contents or text + splitter.")
        contents = body["contents"]
        if not isinstance(contents, list):
            raise ApiError(400, "VALIDATION_INVALID_FORMAT", "contents must be an array.")
        if not contents:
            raise ApiError(400, "TTS_CONTENTS_INVALID", "contents is empty.")
        return contents
    if not has_splitter:
        raise missing_field("contents")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "TTS_TEXT_EMPTY")
    if "splitterId" in body:
        saved = account.splitters.get(str(body["splitterId"]))
        if saved is None:
            raise ApiError(404, "SPLITTER_NOT_FOUND", "Splitter not found.")
        config = saved["config"]
    else:
        config = validate_splitter_config(body["splitter"])
    return split_text(text, config)


def _register_audio(state: SimState, task: Task, blocks: list[Block]) -> None:
    """Segment, merged and stream files of the task's current run."""
    run = task.run
    storage = state.storage
    task.segments = [block.segments for block in blocks]
    task.audio_urls = [
        storage.put_audio(f"generate/{run}/{run}-{index}.mp3", block.segments)
        for index, block in enumerate(blocks)
    ]
    merged = tuple(segment for block in blocks for segment in block.segments)
    task.merged_url = storage.put_audio(f"generate/{run}/{run}-merged.mp3", merged)
    storage.put_audio(f"generate/{run}/stream.mp3", merged)
    task.stream_url = storage.url(f"generate/{run}/stream.mp3?auth={task.stream_token}")


def _schedule(state: SimState, task: Task) -> None:
    """Start (or restart) the pending → processing → settled timeline."""
    now, cfg = mono(), state.config
    task.pending_until = now + cfg.task_pending_seconds
    task.processing_until = task.pending_until + cfg.task_processing_seconds
    task.will_fail = state.faults.fail_tasks
    task.settled = None


def _distinct_voices(blocks: list[Block]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for block in blocks:
        if block.voice is not None:
            seen.setdefault(block.voice["id"], block.voice)
    return list(seen.values())


@routes.post("/api/tts/generate")
async def create_task(request: web.Request) -> web.Response:
    """Queue a task; credits are frozen now and refunded if it fails."""
    state, account = state_of(request), account_of(request)
    body = await read_json(request)
    blocks = [parse_block(state, account, raw) for raw in _raw_contents(account, body)]
    cost = sum(block.cost for block in blocks)
    split = account.charge(cost)
    task = Task(
        id=new_id(),
        user_id=account.id,
        contents=[block.content for block in blocks],
        segments=[],
        characters=cost,
        voices=_distinct_voices(blocks),
        is_premium=account.is_paid,
        srt=as_bool(body.get("srt")) and account.is_paid,
        pending_until=0.0,
        processing_until=0.0,
        will_fail=False,
        frozen=split,
        seq=state.next_seq(),
        project_id=body.get("projectId"),
        track_id=body.get("trackId"),
    )
    _schedule(state, task)
    _register_audio(state, task, blocks)
    account.tasks[task.id] = task
    if as_bool(body.get("sync")):
        wait = task.pending_until - mono()
        if wait > _MAX_SYNC_WAIT:
            raise ApiError(400, "STREAM_TIMEOUT")
        await asyncio.sleep(max(0.0, wait))
    return reply(task.to_json())


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@routes.get("/api/tts/generate")
async def list_tasks(request: web.Request) -> web.Response:
    """Own tasks, newest first, paged by limit/offset (no total)."""
    account, query = account_of(request), request.query
    limit = min(max(as_int(query.get("limit"), 20), 1), 100)
    offset = max(as_int(query.get("offset"), 0), 0)
    project = query.get("projectId")
    if project is not None and not _is_uuid(project):
        raise ApiError(400, "VALIDATION_INVALID_FORMAT", "projectId must be a uuid.")
    status = query.get("status") if query.get("status") in _STATUSES else None
    track = query.get("trackId")
    untracked = as_bool(query.get("includeUntracked"))
    tasks = sorted(account.tasks.values(), key=lambda t: t.seq, reverse=True)
    selected = [
        task
        for task in tasks
        if (status is None or task.status() == status)
        and (project is None or task.project_id == project)
        and (track is None or task.track_id == track or (untracked and task.track_id is None))
    ]
    stream = as_bool(query.get("stream"))
    return reply([task.to_json(stream=stream) for task in selected[offset : offset + limit]])


def _task(request: web.Request) -> Task:
    task = account_of(request).tasks.get(request.match_info["task_id"])
    if task is None:
        raise ApiError(404, "GENERATE_NOT_FOUND")
    return task


@routes.get("/api/tts/generate/{task_id}")
async def get_task(request: web.Request) -> web.Response:
    """Poll one task (`stream=true` exposes the stream URL from `processing` on)."""
    return reply(_task(request).to_json(stream=as_bool(request.query.get("stream"))))


@routes.delete("/api/tts/generate/{task_id}")
async def delete_task(request: web.Request) -> web.Response:
    """Delete a settled task; no refund, no data in the envelope."""
    task = _task(request)
    if task.running():
        raise ApiError(403, "GENERATE_DELETE_IN_PROGRESS")
    del account_of(request).tasks[task.id]
    return reply()


@routes.post("/api/tts/generate/{task_id}/regenerate")
async def regenerate(request: web.Request) -> web.Response:
    """PC-20: regenerate all or some segments; charges their characters; back to pending."""
    state, account = state_of(request), account_of(request)
    body = await read_json(request)
    task = _task(request)
    if task.running():
        raise ApiError(403, "GENERATE_DELETE_IN_PROGRESS")
    indices = body.get("contents")
    if indices is None:
        indices = list(range(len(task.contents)))
    if not isinstance(indices, list) or not all(
        isinstance(i, int) and 0 <= i < len(task.contents) for i in indices
    ):
        raise ApiError(400, "VALIDATION_BAD_PARAMS", "contents must list segment indices.")
    blocks = [parse_block(state, account, dict(item)) for item in task.contents]
    characters = sum(blocks[i].cost for i in set(indices))
    task.frozen = account.charge(characters)
    task.characters += characters
    task.regenerates.append({"characters": characters, "contents": sorted(set(indices))})
    task.run = new_id()
    _schedule(state, task)
    _register_audio(state, task, blocks)
    task.generated_at = None
    return reply(task.to_json())
