"""Splitter configurations (§19) against the simulator."""

from __future__ import annotations

import pytest

from bot.vocu.client import VocuClient
from bot.vocu.errors import BadRequest, NotFound, VocuValidationError


async def test_splitter_crud(vocu: VocuClient, simulator) -> None:
    voice = (await vocu.voices.list())[0]
    config = {"splitterMarks": ["[]"], "fallbackConfig": {"voiceId": voice.id}}
    created = await vocu.splitters.create("  Narration  ", config)
    assert created.name == "Narration" and created.config["fallbackConfig"]["voiceId"] == voice.id
    assert [s.id for s in await vocu.splitters.list()] == [created.id]
    assert (await vocu.splitters.get(created.id)).name == "Narration"
    renamed = await vocu.splitters.update(created.id, name="Story")
    assert renamed.name == "Story" and renamed.config == created.config  # a diff update
    await vocu.splitters.delete(created.id)
    with pytest.raises(NotFound) as err:
        await vocu.splitters.get(created.id)
    assert err.value.code == "RESOURCE_NOT_FOUND" and err.value.request_id
    with pytest.raises(NotFound):
        await vocu.splitters.delete(created.id)  # not idempotent


async def test_bad_splitters(vocu: VocuClient, simulator) -> None:
    with pytest.raises(BadRequest) as err:
        await vocu.splitters.create(
            "x", {"splitterMarks": ["[[]"], "fallbackConfig": {"voiceId": "v"}}
        )
    assert err.value.code == "TTS_SPLITTER_INVALID"
    before = len(simulator.request_log)
    with pytest.raises(VocuValidationError):
        await vocu.splitters.create("x", {"splitterMarks": ["[]"]})  # no fallback: local refusal
    with pytest.raises(VocuValidationError):
        await vocu.splitters.create("y" * 101, {"fallbackConfig": {"voiceId": "v"}})
    with pytest.raises(VocuValidationError):
        await vocu.splitters.update("some-id")
    with pytest.raises(VocuValidationError):
        await vocu.splitters.list(limit=51)
    assert len(simulator.request_log) == before  # nothing was sent
