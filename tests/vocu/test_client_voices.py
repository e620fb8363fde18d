"""Voices and styles against the simulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from bot.vocu import VocuClient, Voice
from bot.vocu import errors as E
from tests.media import png, tone
from tests.vocu.conftest import FAST

SAMPLE = tone(3.5)


async def _ready_voice(vocu: VocuClient, name: str = "Alice", **kw: Any) -> Voice:
    voice = await vocu.voices.create(name=name, prompt=SAMPLE, **kw)
    return await vocu.voices.wait_ready(voice.id, timeout=30, interval=0.1)


async def test_create_json_then_wait_ready(vocu: VocuClient) -> None:
    voice = await vocu.voices.create(
        name="Alice", prompt=SAMPLE, description="calm", language="en-us", avatar=png()
    )
    assert voice.status == "creating" and voice.name == "Alice"
    assert [s.id for s in voice.styles] == ["default"]
    ready = await vocu.voices.wait_ready(voice.id, timeout=30, interval=0.1)
    assert ready.is_usable and ready.status == "pending"
    assert ready.generate_id == ready.id
    assert ready.description == "calm"
    assert ready.avatar_url


async def test_create_multipart(vocu: VocuClient) -> None:
    voice = await vocu.voices.create(name="Bob", prompt=SAMPLE, multipart=True, avatar=png())
    assert voice.name == "Bob"
    got = await vocu.voices.get(voice.id)
    assert got.id == voice.id


async def test_list_get_and_market(vocu: VocuClient) -> None:
    voice = await _ready_voice(vocu)
    mine = await vocu.voices.list()
    assert voice.id in {v.id for v in mine}
    with_market = await vocu.voices.list(show_market=True, show_full=True)
    assert any(v.id.startswith("market:") for v in with_market)
    uploads = await vocu.voices.list(from_="upload")
    assert all(v.from_ in (None, "upload") for v in uploads)


async def test_wait_ready_times_out_when_stuck(vocu: VocuClient, simulator: Any) -> None:
    simulator.faults.stuck_creating = True
    voice = await vocu.voices.create(name="Stuck", prompt=SAMPLE)
    with pytest.raises(E.VocuTimeout):
        await vocu.voices.wait_ready(voice.id, timeout=0.3, interval=0.1)
    with pytest.raises(E.VoiceCreating):
        await vocu.tts.generate(voice_id=voice.id, text="hello")


async def test_info_avatar_styles_lifecycle(vocu: VocuClient) -> None:
    voice = await _ready_voice(vocu)
    renamed = await vocu.voices.update_info(voice.id, name="Alicia", description="new")
    assert renamed.name == "Alicia" and renamed.description == "new"
    with_avatar = await vocu.voices.upload_avatar(voice.id, image=png())
    assert with_avatar.avatar_url

    styled = await vocu.voices.add_style(voice.id, name="Happy", prompt=SAMPLE, language="en-us")
    new_style = next(s for s in styled.styles if s.name == "Happy")
    assert new_style.id != "default"

    await vocu.voices.set_transcript(voice.id, new_style.id, "hello there")
    assert await vocu.voices.get_transcript(voice.id, new_style.id) == "hello there"
    info = await vocu.voices.update_style_info(voice.id, new_style.id, name="Joy", description="d")
    assert any(s.name == "Joy" for s in info.styles)
    reset = await vocu.voices.reset_style(voice.id, new_style.id, enhance=True)
    assert reset.id == voice.id

    swapped = await vocu.voices.set_default_style(voice.id, new_style.id)
    assert swapped.styles[0].id == "default" and swapped.styles[0].name == "Joy"
    demoted = swapped.styles[1]
    after = await vocu.voices.delete_style(voice.id, demoted.id)
    assert demoted.id not in {s.id for s in after.styles}
    assert any(s.deleted for s in after.metadata.prompts)


async def test_delete_default_style_refused_locally(vocu: VocuClient, simulator: Any) -> None:
    before = len(simulator.request_log)
    with pytest.raises(E.VocuValidationError):
        await vocu.voices.delete_style("v", "default")
    assert len(simulator.request_log) == before


async def test_share_and_import(vocu: VocuClient, simulator: Any) -> None:
    voice = await _ready_voice(vocu)
    share_id = await vocu.voices.share(voice.id)
    async with VocuClient("sk-" + "b" * 32, base_url=simulator.base_url, **FAST) as other:
        copy = await other.voices.import_shared(share_id)
        assert copy.id != voice.id and copy.name == voice.name
        with pytest.raises(E.NotFound):
            await other.voices.import_shared(share_id)  # single use (PC-25)


async def test_delete_and_not_found(vocu: VocuClient) -> None:
    voice = await _ready_voice(vocu)
    await vocu.voices.delete(voice.id)
    with pytest.raises(E.NotFound) as info:
        await vocu.voices.get(voice.id)
    assert info.value.code == "VOICE_NOT_FOUND" and info.value.request_id


async def test_legacy_voice_path(simulator: Any, api_key: str) -> None:
    async with VocuClient(
        api_key, base_url=simulator.base_url, voice_path="/api/tts/voice", **FAST
    ) as vocu:
        voice = await vocu.voices.create(name="Legacy", prompt=SAMPLE)
        assert (await vocu.voices.get(voice.id)).id == voice.id
    assert any(r.path.startswith("/api/tts/voice") for r in simulator.request_log)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": " ", "prompt": SAMPLE},
        {"name": "x", "prompt": b""},
        {"name": "x", "prompt": SAMPLE, "language": "klingon"},
    ],
)
async def test_create_validation_sends_nothing(
    vocu: VocuClient, simulator: Any, kwargs: dict[str, Any]
) -> None:
    before = len(simulator.request_log)
    with pytest.raises(E.VocuValidationError):
        await vocu.voices.create(**kwargs)
    assert len(simulator.request_log) == before


async def test_empty_ids_send_nothing(vocu: VocuClient, simulator: Any) -> None:
    before = len(simulator.request_log)
    with pytest.raises(E.VocuValidationError):
        await vocu.voices.get("")
    with pytest.raises(E.VocuValidationError):
        await vocu.voices.add_style(" ", name="a", prompt=SAMPLE)
    with pytest.raises(E.VocuValidationError):
        await vocu.voices.import_shared("")
    assert len(simulator.request_log) == before
