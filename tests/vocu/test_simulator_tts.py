"""Simulator sync generation: real MP3s, streaming, replay, presets, VC upload."""

from __future__ import annotations

import io
import json
from array import array

import av

from bot.vocu.simulator import Simulator
from tests.conftest import SimApi, data_url, wav_bytes


def mp3_seconds(data: bytes) -> float:
    """Decode an MP3 fully with PyAV; returns its duration and checks it is not flat."""
    samples, rate, peaks = 0, 0, []
    with av.open(io.BytesIO(data), "r") as container:
        assert container.format.name == "mp3"
        for frame in container.decode(audio=0):
            samples += frame.samples
            rate = frame.sample_rate
            assert frame.format.name == "fltp"
            values = array("f", bytes(frame.planes[0]))[: frame.samples]
            peaks.append(max(abs(v) for v in values[::25]))
    assert max(peaks) > 0.05 and min(peaks) < max(peaks) * 0.9  # audible and not flat
    return samples / rate


async def _generate(sim_api: SimApi, text: str, **extra: object) -> dict[str, object]:
    voice_id = await sim_api.voice_id()
    body = {"voiceId": voice_id, "text": text, **extra}
    data: dict[str, object] = await sim_api.data("POST", "/api/tts/simple-generate", json=body)
    return data


async def test_json_result_is_real_mp3_growing_with_text(sim_api: SimApi) -> None:
    short = await _generate(sim_api, "Short text here.")
    long = await _generate(sim_api, "A much longer sentence with many more characters in it." * 2)
    assert set(short) == {"id", "audio", "credit_used"}
    assert "/sim-storage/generate/" in str(short["audio"])
    short_mp3 = await sim_api.call("GET", str(short["audio"]), auth=False)
    long_mp3 = await sim_api.call("GET", str(long["audio"]), auth=False)
    assert short_mp3.headers["Content-Type"] == "audio/mpeg"
    short_s, long_s = mp3_seconds(short_mp3.body), mp3_seconds(long_mp3.body)
    assert 0.8 < short_s < 1.3  # 16 chars x 0.06 s
    assert long_s > short_s * 5


async def test_speech_rate_scales_and_sync_is_lenient(sim_api: SimApi) -> None:
    slow = await _generate(sim_api, "x" * 30, speechRate=2.0, language="en", seed=-5)
    odd = await _generate(sim_api, "x" * 30, speechRate=9, preset="nonsense")
    slow_s = mp3_seconds((await sim_api.call("GET", str(slow["audio"]))).body)
    odd_s = mp3_seconds((await sim_api.call("GET", str(odd["audio"]))).body)
    assert abs(slow_s - 3.6) < 0.2 and abs(odd_s - 1.8) < 0.2
    voice_id = await sim_api.voice_id()
    bad = await sim_api.call(
        "POST",
        "/api/tts/simple-generate",
        json={"voiceId": voice_id, "text": "x", "emo_switch": [1, 2]},
    )
    assert bad.status == 400 and bad.body["code"] == "VALIDATION_INVALID_VALUE"
    unknown = await sim_api.call(
        "POST", "/api/tts/simple-generate", json={"voiceId": "nope", "text": "x"}
    )
    assert unknown.status == 404 and unknown.body["code"] == "VOICE_NOT_FOUND"


async def test_stream_and_srt_urls(sim_api: SimApi) -> None:
    data = await _generate(sim_api, "Subtitles please.", stream=True, srt=True)
    assert "stream.mp3?auth=" in str(data["streamUrl"])
    stream = await sim_api.call("GET", str(data["streamUrl"]), auth=False)
    assert stream.status == 200 and mp3_seconds(stream.body) > 0.5
    srt = await sim_api.call("GET", str(data["srt"]), auth=False)
    assert b"-->" in srt.body


async def test_direct_stream_headers(sim_api: SimApi, simulator: Simulator, api_key: str) -> None:
    voice_id = await sim_api.voice_id()
    body = {"voiceId": voice_id, "text": "Streaming bytes right away.", "direct_stream": True}
    async with sim_api.session.post(
        sim_api.base_url + "/api/tts/simple-generate", json=body, headers=sim_api.headers()
    ) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "audio/mpeg"
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert response.headers["X-Accel-Buffering"] == "no"
        meta = json.loads(response.headers["X-Reecho-Response-Data"])
        chunks = [chunk async for chunk in response.content.iter_chunked(4096)]
    assert meta["id"] == response.headers["X-Reecho-Audio-Id"]
    assert "stream.mp3?auth=" in meta["streamUrl"] and meta["audio"].endswith(".mp3")
    assert meta["credit_used"] == 27 and meta["billing"] == {"characters": 27, "credits": 27}
    assert meta["estimatedDuration"] > 1.5
    assert mp3_seconds(b"".join(chunks)) > 1.5
    balance = simulator.account(api_key).balance
    replay = await sim_api.call("GET", f"/api/tts/stream/{meta['id']}")
    assert replay.status == 200 and replay.body == b"".join(chunks)
    assert simulator.account(api_key).balance == balance  # replay is free
    missing = await sim_api.call("GET", "/api/tts/stream/unknown")
    assert missing.status == 404 and missing.body["code"] == "RESOURCE_NOT_FOUND"


async def test_get_variants_and_prompt_prefix(sim_api: SimApi, simulator: Simulator) -> None:
    voices = await sim_api.data("GET", "/api/voice")
    alice = voices[0]
    calm = alice["metadata"]["prompts"][2]["id"]
    for path in ("/api/tts/simple-generate", "/api/tts/simple-generate.mp3"):
        query = {"voiceId": alice["id"], "text": "Hello there", "promptId": calm[:8]}
        reply = await sim_api.call("GET", path, params=query)
        assert reply.status == 200 and reply.headers["X-Reecho-Audio-Id"]
        assert mp3_seconds(reply.body) > 0.5
    assert simulator.generation_calls() == 2


async def test_presets_envelope(sim_api: SimApi) -> None:
    reply = await sim_api.call("GET", "/api/tts/presets")
    assert set(reply.body) == {"status", "data"}
    keys = {p["key"] for p in reply.body["data"]}
    assert {"v2_balance", "v3_balance_pro", "v3_creative"} <= keys and len(keys) == 12
    v2 = next(p for p in reply.body["data"] if p["key"] == "v2_balance")
    assert v2["config"]["top_k"] == 1024 and v2["i18n_description"] == "v2_balanceDesc"


async def test_upload_audio_and_voice_conversion(sim_api: SimApi) -> None:
    uploaded = await sim_api.data(
        "POST", "/api/tts/upload-audio", json={"audio": data_url(wav_bytes(2.5))}
    )
    assert "/vc-input/" in uploaded["url"] and abs(uploaded["duration"] - 2.5) < 0.05
    result = await _generate(sim_api, "", input_audio=uploaded["url"])
    assert result["credit_used"] == 3
    foreign = await sim_api.call(
        "POST",
        "/api/tts/simple-generate",
        json={"voiceId": await sim_api.voice_id(), "input_audio": "https://evil.example/a.mp3"},
    )
    assert foreign.body["code"] == "TTS_INPUT_AUDIO_INVALID"
    junk = await sim_api.call(
        "POST", "/api/tts/upload-audio", json={"audio": data_url(b"not audio at all")}
    )
    assert junk.status == 400 and junk.body["code"] == "UPLOAD_AUDIO_INVALID"
