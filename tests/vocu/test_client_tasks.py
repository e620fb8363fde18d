"""Async tasks, templates and the account against the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.vocu import GenerationParams, TaskContent, Template, VocuClient
from bot.vocu import errors as E
from bot.vocu.resources.templates import TemplatesResource
from tests.media import tone


async def _voice_id(vocu: VocuClient, name: str = "Narrator") -> str:
    voice = await vocu.voices.create(name=name, prompt=tone(3.5))
    return (await vocu.voices.wait_ready(voice.id, timeout=30, interval=0.1)).generate_id


async def test_task_lifecycle(vocu: VocuClient) -> None:
    voice_id = await _voice_id(vocu)
    params = GenerationParams(language="en-us", flash=True, emo_switch=[0, 5, 0, 0, 0])
    blocks = [
        TaskContent.text_block(voice_id, "First part.", params=params),
        TaskContent.text_block(voice_id, "Second part."),
    ]
    task = await vocu.tasks.create(blocks, srt=True)
    assert task.status in ("pending", "processing") and not task.is_done
    sent = task.metadata.contents[0].model_dump(by_alias=True)
    assert "flash" not in sent  # not an async key: dropped by the client

    done = await vocu.tasks.wait(task.id, timeout=30, initial_interval=0.05, max_interval=0.2)
    assert done.status == "generated" and done.audio
    audio = b"".join([chunk async for chunk in vocu.tasks.iter_audio(done)])
    assert len(audio) > 100
    assert (await vocu.tasks.get(task.id)).id == task.id

    listed = await vocu.tasks.list(limit=5, status="generated")
    assert task.id in {t.id for t in listed}
    await vocu.tasks.delete(task.id)
    with pytest.raises(E.NotFound):
        await vocu.tasks.get(task.id)


async def test_sync_task_and_delete_in_progress(vocu: VocuClient) -> None:
    voice_id = await _voice_id(vocu)
    task = await vocu.tasks.create([TaskContent.text_block(voice_id, "Hi there.")], sync=True)
    assert task.status == "processing"
    with pytest.raises(E.Forbidden) as info:
        await vocu.tasks.delete(task.id)
    assert info.value.code == "GENERATE_DELETE_IN_PROGRESS"


async def test_failed_task_and_regenerate(vocu: VocuClient, simulator: Any) -> None:
    voice_id = await _voice_id(vocu)
    simulator.faults.fail_tasks = True
    task = await vocu.tasks.create([TaskContent.text_block(voice_id, "Will fail.")])
    done = await vocu.tasks.wait(task.id, timeout=30, initial_interval=0.05, max_interval=0.2)
    assert done.status == "failed"
    simulator.faults.fail_tasks = False
    again = await vocu.tasks.regenerate(task.id, contents=[0])
    assert again.status == "pending"
    final = await vocu.tasks.wait(task.id, timeout=30, initial_interval=0.05, max_interval=0.2)
    assert final.status == "generated"
    assert await vocu.tasks.regenerate(task.id)


async def test_wait_timeout_and_cancellation(vocu: VocuClient, simulator: Any) -> None:
    voice_id = await _voice_id(vocu)
    task = await vocu.tasks.create([TaskContent.text_block(voice_id, "Slow one.")])
    with pytest.raises(E.VocuTimeout):
        await vocu.tasks.wait(task.id, timeout=0.1, initial_interval=0.05)
    waiter = asyncio.create_task(vocu.tasks.wait(task.id, initial_interval=0.05))
    await asyncio.sleep(0.15)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    polls = len([r for r in simulator.request_log if task.id in r.path])
    await asyncio.sleep(0.3)
    assert len([r for r in simulator.request_log if task.id in r.path]) == polls


@pytest.mark.parametrize(
    "contents",
    [
        [],
        [TaskContent(type="text", voiceId="v", text="  ")],
        [TaskContent(type="text", voiceId="", text="hi")],
        ["not a block"],
    ],
)
async def test_task_validation_sends_nothing(
    vocu: VocuClient, simulator: Any, contents: list[Any]
) -> None:
    before = len(simulator.request_log)
    with pytest.raises(E.VocuValidationError):
        await vocu.tasks.create(contents)
    assert len(simulator.request_log) == before


async def test_task_argument_checks(vocu: VocuClient) -> None:
    with pytest.raises(E.VocuValidationError):
        await vocu.tasks.list(limit=0)
    with pytest.raises(E.VocuValidationError):
        await vocu.tasks.list(status="weird")
    with pytest.raises(E.VocuValidationError):
        await vocu.tasks.regenerate("t", contents=[-1])
    with pytest.raises(E.VocuValidationError):
        await vocu.tasks.wait("")


async def test_templates_roundtrip_and_bind(vocu: VocuClient) -> None:
    a, b = await _voice_id(vocu, "A"), await _voice_id(vocu, "B")
    blocks = [
        TaskContent.text_block(a, "Line one."),
        TaskContent.text_block(b, "Line two."),
        TaskContent.text_block(a, "Line three."),
        TaskContent(type="sfx", text="door slam"),
    ]
    template = await vocu.templates.create("Scene", blocks, description="d")
    assert [c.meta_voice_id for c in template.contents] == [1, 2, 1, None]
    assert template.metadata.meta_voice_id == 2
    assert (await vocu.templates.get(template.id)).name == "Scene"
    assert template.id in {t.id for t in await vocu.templates.list(limit=10, from_="self")}

    bound = vocu.templates.bind(template, {1: b, 2: a})
    assert [c.voice_id for c in bound] == [b, a, b, None]
    assert bound[3].type == "sfx"
    with pytest.raises(E.VocuValidationError):
        vocu.templates.bind(template, {1: a})
    assert len(vocu.templates.bind(template, {1: a}, skip_unbound=True)) == 3

    await vocu.templates.update(template.id, name="Scene 2", contents=blocks[:2])
    updated = await vocu.templates.get(template.id)
    assert updated.name == "Scene 2" and len(updated.contents) == 2
    await vocu.templates.delete(template.id)
    with pytest.raises(E.NotFound):
        await vocu.templates.delete(template.id)


def test_bind_null_voiced_block() -> None:
    template = Template.model_validate(
        {"id": "t", "contents": [{"metaVoiceId": None, "text": "x", "type": "text"}]}
    )
    with pytest.raises(E.VocuValidationError):
        TemplatesResource.bind(template, {})


async def test_template_validation(vocu: VocuClient) -> None:
    with pytest.raises(E.VocuValidationError):
        await vocu.templates.create("x", [])
    with pytest.raises(E.VocuValidationError):
        await vocu.templates.create(" ", [TaskContent.text_block("v", "t")])
    with pytest.raises(E.VocuValidationError):
        await vocu.templates.list(limit=500)
    with pytest.raises(E.VocuValidationError):
        await vocu.templates.update("t", contents=["bad"])  # type: ignore[list-item]


async def test_account(vocu: VocuClient) -> None:
    account = await vocu.account.info()
    assert account.id and account.is_paid
    assert account.total_balance == (account.credit or 0) + (account.bonus_credit or 0)
