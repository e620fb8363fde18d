"""Sync generation, byte streams, replay, presets, VC upload and downloads (simulator)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.vocu import GenerationParams, VocuClient
from bot.vocu import errors as E
from tests.media import tone

TEXT = "Hello from the simulator, this is a test sentence."


async def _voice_id(vocu: VocuClient) -> str:
    voice = await vocu.voices.create(name="Speaker", prompt=tone(3.5))
    ready = await vocu.voices.wait_ready(voice.id, timeout=30, interval=0.1)
    return ready.generate_id


async def _collect(vocu: VocuClient, url: str) -> bytes:
    return b"".join([chunk async for chunk in vocu.download(url)])


async def test_generate_and_download(vocu: VocuClient, simulator: Any, api_key: str) -> None:
    voice_id = await _voice_id(vocu)
    params = GenerationParams(preset="stable", language="en-us", speed=2.0, seed=7, srt=True)
    result = await vocu.tts.generate(voice_id=voice_id, text=TEXT, params=params)
    assert result.id and result.audio and result.credit_used
    audio = await _collect(vocu, result.audio)
    assert len(audio) > 100
    assert simulator.generation_calls(api_key) == 1


async def test_account_balance_drops(vocu: VocuClient) -> None:
    voice_id = await _voice_id(vocu)
    before = await vocu.account.info()
    assert before.is_paid and before.total_balance > 0 and before.quota is not None
    await vocu.tts.generate(voice_id=voice_id, text=TEXT)
    after = await vocu.account.info()
    assert after.total_balance < before.total_balance


async def test_insufficient_credit(vocu: VocuClient, simulator: Any, api_key: str) -> None:
    voice_id = await _voice_id(vocu)
    simulator.set_credits(api_key, credit=0, bonus=0)
    with pytest.raises(E.InsufficientCredit) as info:
        await vocu.tts.generate(voice_id=voice_id, text=TEXT)
    assert info.value.request_id


async def test_post_stream_metadata_and_replay(vocu: VocuClient) -> None:
    voice_id = await _voice_id(vocu)
    async with vocu.tts.stream(voice_id=voice_id, text=TEXT) as stream:
        assert stream.audio_id and stream.metadata.credit_used
        assert stream.metadata.estimated_duration is None or stream.metadata.estimated_duration > 0
        chunks = [c async for c in stream.iter_chunks()]
    audio = b"".join(chunks)
    assert audio[:3] == b"ID3" or audio[0] == 0xFF
    async with vocu.tts.replay(stream.audio_id) as replay:
        again = await replay.read()
    assert again == audio


async def test_get_stream_variants(vocu: VocuClient, simulator: Any) -> None:
    voice_id = await _voice_id(vocu)
    params = GenerationParams(language="en-us", vivid=True, flash=True, emo_switch=[1, 0, 0, 0, 0])
    async with vocu.tts.stream_get(voice_id=voice_id, text=TEXT, params=params) as stream:
        audio = await stream.read()
    assert audio
    async with vocu.tts.stream_get(voice_id=voice_id, text=TEXT, mp3_suffix=False) as stream:
        assert await stream.read()
    paths = [
        r.path for r in simulator.request_log if r.method == "GET" and "simple-generate" in r.path
    ]
    assert paths == ["/api/tts/simple-generate.mp3", "/api/tts/simple-generate"]


async def test_replay_unknown_is_not_found(vocu: VocuClient) -> None:
    with pytest.raises(E.NotFound):
        async with vocu.tts.replay("no-such-audio"):
            pass


async def test_truncated_stream_raises_and_is_not_retried(
    vocu: VocuClient, simulator: Any, api_key: str
) -> None:
    voice_id = await _voice_id(vocu)
    simulator.faults.truncate_streams_after = 1000
    with pytest.raises(E.VocuTruncatedStream):
        async with vocu.tts.stream(voice_id=voice_id, text=TEXT * 5) as stream:
            await stream.read()
    assert simulator.generation_calls(api_key) == 1


async def test_generation_never_sent_twice_after_500(
    vocu: VocuClient, simulator: Any, api_key: str
) -> None:
    voice_id = await _voice_id(vocu)
    simulator.faults.fail_next(
        1, status=500, code="SYSTEM_INTERNAL_ERROR", path_contains="simple-generate"
    )
    with pytest.raises(E.ServerError):
        await vocu.tts.generate(voice_id=voice_id, text=TEXT)
    sent = [r for r in simulator.request_log if "simple-generate" in r.path]
    assert len(sent) == 1


async def test_generation_never_sent_twice_after_drop(vocu: VocuClient, simulator: Any) -> None:
    voice_id = await _voice_id(vocu)
    simulator.faults.drop_next(1, path_contains="simple-generate")
    with pytest.raises(E.VocuConnectionError):
        await vocu.tts.generate(voice_id=voice_id, text=TEXT)
    sent = [r for r in simulator.request_log if "simple-generate" in r.path]
    assert len(sent) <= 1


async def test_generation_retried_after_429(vocu: VocuClient, simulator: Any) -> None:
    voice_id = await _voice_id(vocu)
    simulator.faults.fail_next(1, retry_after=0, path_contains="simple-generate")
    result = await vocu.tts.generate(voice_id=voice_id, text=TEXT)
    assert result.audio
    statuses = [r.status for r in simulator.request_log if "simple-generate" in r.path]
    assert statuses == [429, 200]


async def test_hang_beyond_timeout(vocu: VocuClient, simulator: Any) -> None:
    voice_id = await _voice_id(vocu)
    simulator.faults.hang_next(1, 3.0, path_contains="simple-generate")
    with pytest.raises(E.VocuTimeout):
        await vocu.tts.generate(voice_id=voice_id, text=TEXT, timeout=0.3)


async def test_presets_and_upload_audio(vocu: VocuClient) -> None:
    presets = await vocu.tts.presets()
    assert any(p.key == "v3_balance" for p in presets)
    uploaded = await vocu.tts.upload_audio(audio=tone(4.0), mime="audio/mpeg")
    assert uploaded.url.startswith("http")


BAD_PARAMS: list[dict[str, Any]] = [
    {"speech_rate": 3.0},
    {"speechRate": 0.1},
    {"emo_switch": [1, 2, 3]},
    {"emo_switch": [1, 2, 3, 4, 11]},
    {"language": "en"},
    {"preset": "wild"},
    {"seed": -5},
    {"speed": 0},
    {"speed": 2.0, "speech_rate": 1.0},
    {"bogus": True},
]


@pytest.mark.parametrize("bad", BAD_PARAMS)
def test_generation_params_validation(bad: dict[str, Any]) -> None:
    with pytest.raises(E.VocuValidationError):
        GenerationParams(**bad)


def test_generation_params_wire() -> None:
    params = GenerationParams(
        preset="v3_balance_pro", speed=2.0, emo_switch=[0, 1, 2, 3, 4], extra={"temperature": 0.9}
    )
    wire = params.to_wire()
    assert wire == {
        "preset": "v3_balance_pro",
        "speechRate": 0.5,
        "emo_switch": [0, 1, 2, 3, 4],
        "temperature": 0.9,
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"voice_id": "", "text": "hi"},
        {"voice_id": "v", "text": "   "},
        {"voice_id": "v", "text": "hi", "style_id": ""},
        {"voice_id": "v", "text": "hi", "params": {"speechRate": 1}},
    ],
)
async def test_generation_validation_sends_nothing(
    vocu: VocuClient, simulator: Any, kwargs: dict[str, Any]
) -> None:
    before = len(simulator.request_log)
    with pytest.raises(E.VocuValidationError):
        await vocu.tts.generate(**kwargs)
    with pytest.raises(E.VocuValidationError):
        vocu.tts.stream(**kwargs)
    with pytest.raises(E.VocuValidationError):
        vocu.tts.stream_get(**kwargs)
    assert len(simulator.request_log) == before


async def test_download_rejects_relative_url(vocu: VocuClient) -> None:
    with pytest.raises(E.VocuValidationError):
        await _collect(vocu, "/relative.mp3")
