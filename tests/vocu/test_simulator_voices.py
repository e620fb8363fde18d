"""Simulator voices and styles: seeds, creation, lifecycle, styles, share, avatar."""

from __future__ import annotations

import asyncio
import base64

import aiohttp

from bot.vocu.simulator import Simulator
from tests.conftest import SimApi, data_url, make_api_key, wav_bytes

SAMPLE = data_url(wav_bytes(3.5))
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def _create(sim_api: SimApi, **fields: object) -> dict[str, object]:
    body = {"name": "Clone", "prompt": SAMPLE, **fields}
    data: dict[str, object] = await sim_api.data("POST", "/api/voice", json=body)
    return data


async def test_seed_voices(sim_api: SimApi) -> None:
    voices = await sim_api.data("GET", "/api/voice")
    assert [v["name"] for v in voices] == ["Alice", "Bob", "陈晨"]
    alice = voices[0]
    assert alice["status"] == "pending" and alice["version"] == "v3.0"
    assert alice["from"] == "upload"
    assert [p["name"] for p in alice["metadata"]["prompts"]] == [
        "Default Style",
        "Cheerful",
        "Calm",
    ]
    assert alice["metadata"]["prompts"][0]["id"] == "default"
    avatar = await sim_api.call("GET", alice["metadata"]["avatar"], auth=False)
    assert avatar.status == 200 and avatar.body.startswith(b"\x89PNG")
    with_market = await sim_api.data("GET", "/api/voice?showMarket=true")
    assert with_market[0]["id"].startswith("market:") and with_market[0]["from"] == "market"
    bare = with_market[0]["id"].removeprefix("market:")
    assert (await sim_api.data("GET", f"/api/voice/{bare}"))["id"] == with_market[0]["id"]
    filtered = await sim_api.data("GET", "/api/voice?showMarket=true&from=upload")
    assert all(v["from"] == "upload" for v in filtered)


async def test_create_json_lifecycle(sim_api: SimApi) -> None:
    voice = await _create(sim_api, description="mine")
    assert voice["status"] == "creating"
    busy = await sim_api.call(
        "POST", "/api/tts/simple-generate", json={"voiceId": voice["id"], "text": "hi"}
    )
    assert busy.status == 409 and busy.body["code"] == "VOICE_CREATING"
    await asyncio.sleep(0.25)
    ready = await sim_api.data("GET", f"/api/voice/{voice['id']}")
    assert ready["status"] == "pending"
    style = ready["metadata"]["prompts"][0]
    assert style == style | {"id": "default", "name": "Default Style", "vocalFilter": True}
    sample = await sim_api.call("GET", style["promptOriginAudioStorageUrl"], auth=False)
    assert sample.status == 200 and sample.body.startswith(b"RIFF")


async def test_create_multipart(sim_api: SimApi) -> None:
    form = aiohttp.FormData()
    form.add_field("name", "Multi")
    form.add_field("vocalFilter", "false")
    form.add_field("prompt", wav_bytes(3.2), filename="s.wav", content_type="audio/wav")
    form.add_field("avatar", PNG_1PX, filename="a.png", content_type="image/png")
    reply = await sim_api.call("POST", "/api/tts/voice", data=form)
    assert reply.status == 200, reply.body
    voice = reply.body["data"]
    assert voice["name"] == "Multi" and voice["metadata"]["avatar"]
    assert voice["metadata"]["prompts"][0]["vocalFilter"] is False


async def test_create_validation(simulator: Simulator, sim_api: SimApi) -> None:
    cases = [
        ({"name": "x", "prompt": "data:audio/wav;base64,@@@"}, 400, "VALIDATION_INVALID_FORMAT"),
        ({"name": "x", "prompt": "data:audio/wav;base64,"}, 400, "VOICE_PROMPT_MISSING"),
        ({"name": "x"}, 400, "VOICE_PROMPT_MISSING"),
        ({"prompt": SAMPLE}, 400, "VALIDATION_BAD_PARAMS"),
        (
            {"name": "x", "prompt": SAMPLE, "modelVersion": "v2.0"},
            400,
            "VOICE_MODEL_VERSION_INVALID",
        ),
        ({"name": "x", "prompt": data_url(wav_bytes(1.0))}, 400, "MINIMUM_DURATION_NOT_MET"),
        (
            {"name": "x", "prompt": SAMPLE, "lora": "nope", "language": "en-us"},
            400,
            "VOICE_LORA_ARTIFACT_MISSING",
        ),
    ]
    for body, status, code in cases:
        reply = await sim_api.call("POST", "/api/voice", json=body)
        assert (reply.status, reply.body["code"]) == (status, code), body
    simulator.config.voice_prompt_max_bytes = 1000
    reply = await sim_api.call("POST", "/api/voice", json={"name": "x", "prompt": SAMPLE})
    assert reply.status == 413 and reply.body["code"] == "VOICE_PROMPT_TOO_LARGE"


async def test_failed_and_stuck_voices(simulator: Simulator, sim_api: SimApi) -> None:
    simulator.faults.fail_voices = True
    failed = await _create(sim_api)
    simulator.faults.fail_voices = False
    simulator.faults.stuck_creating = True
    stuck = await _create(sim_api)
    await asyncio.sleep(0.25)
    assert (await sim_api.data("GET", f"/api/voice/{failed['id']}"))["status"] == "failed"
    assert (await sim_api.data("GET", f"/api/voice/{stuck['id']}"))["status"] == "creating"
    reply = await sim_api.call(
        "POST", "/api/tts/generate", json={"contents": [{"voiceId": failed["id"], "text": "x"}]}
    )
    assert reply.body["code"] == "VOICE_CREATE_FAILED"


async def test_styles_add_delete_default_swap(sim_api: SimApi) -> None:
    voice_id = await sim_api.voice_id("Bob")
    path = f"/api/voice/{voice_id}/prompt"
    added = await sim_api.data("POST", path, json={"name": "Whisper", "prompt": SAMPLE})
    new_style = added["metadata"]["prompts"][-1]
    assert new_style["name"] == "Whisper" and new_style["id"] != "default"
    no_default = await sim_api.call("DELETE", f"{path}/default")
    assert no_default.status == 400 and no_default.body["code"] == "VALIDATION_BAD_PARAMS"
    swapped = await sim_api.call("POST", f"{path}/{new_style['id']}/default")
    assert "message" not in swapped.body
    prompts = swapped.body["data"]["metadata"]["prompts"]
    assert prompts[0]["id"] == "default" and prompts[0]["name"] == "Whisper"
    demoted = next(p for p in prompts if p["name"] == "Default Style")
    assert demoted["id"] not in ("default", new_style["id"])
    assert swapped.body["data"]["userId"] and swapped.body["data"]["deletedAt"] is None
    deleted = await sim_api.data("DELETE", f"{path}/{demoted['id']}")
    flagged = [p for p in deleted["metadata"]["prompts"] if p.get("deleted")]
    assert len(deleted["metadata"]["prompts"]) == 3 and flagged[0]["id"] == demoted["id"]
    gone = await sim_api.call("GET", f"{path}/{demoted['id']}/stt")
    assert gone.status == 404 and gone.body["code"] == "RESOURCE_NOT_FOUND"


async def test_style_stt_info_reset(sim_api: SimApi) -> None:
    voice_id = await sim_api.voice_id()
    base = f"/api/voice/{voice_id}/prompt/default"
    stt = await sim_api.call("GET", f"{base}/stt")
    assert stt.body == {"status": 200, "data": "Hello, this is Alice."}
    updated = await sim_api.call("POST", f"{base}/stt", json={"text": "New words"})
    assert updated.body["data"]["metadata"]["prompts"][0]["baseSpeechRate"] > 0
    info = await sim_api.call("POST", f"{base}/info", json={"name": "", "description": "d"})
    style = info.body["data"]["metadata"]["prompts"][0]
    assert style["name"] == "Default Style" and style["description"] == "d"
    reset = await sim_api.call("POST", f"{base}/reset", json={"enhance": True})
    style = reset.body["data"]["metadata"]["prompts"][0]
    assert style["enhance"] is True and style["vocalFilter"] is False
    unknown = await sim_api.call("POST", f"/api/voice/{voice_id}/prompt/nope/reset")
    assert unknown.status == 200


async def test_voice_info_and_market_forbidden(sim_api: SimApi) -> None:
    voice_id = await sim_api.voice_id()
    reply = await sim_api.call("POST", f"/api/voice/{voice_id}/info", json={"name": "Alicia"})
    assert set(reply.body) == {"status", "data"}
    assert reply.body["data"]["name"] == "Alicia" and reply.body["data"]["originId"] is None
    assert reply.body["data"]["metadata"]["description"] == ""
    market = (await sim_api.data("GET", "/api/voice?showMarket=true"))[0]["id"]
    forbidden = await sim_api.call("POST", f"/api/voice/{market}/info", json={"name": "x"})
    assert forbidden.status == 403 and forbidden.body["code"] == "AUTH_FORBIDDEN"
    assert (await sim_api.call("DELETE", f"/api/voice/{market}")).status == 404


async def test_avatar_upload(sim_api: SimApi) -> None:
    voice_id = await sim_api.voice_id()
    path = f"/api/voice/{voice_id}/avatar"
    reply = await sim_api.call("POST", path, json={"avatar": data_url(PNG_1PX, "image/png")})
    assert reply.status == 200
    fetched = await sim_api.call("GET", reply.body["data"]["metadata"]["avatar"], auth=False)
    assert fetched.body == PNG_1PX
    missing = await sim_api.call("POST", path, json={})
    assert missing.body["code"] == "VALIDATION_MISSING_FIELD"
    bad = await sim_api.call("POST", path, json={"avatar": data_url(b"not an image", "image/png")})
    assert bad.body["code"] == "VALIDATION_INVALID_FORMAT"


async def test_share_is_one_time(sim_api: SimApi) -> None:
    voice_id = await sim_api.voice_id()
    share = await sim_api.data("GET", f"/api/voice/{voice_id}/share")
    other = make_api_key()
    redeemed = await sim_api.call(
        "POST", "/api/tts/voice/byShareId", json={"shareId": share["shareId"]}, key=other
    )
    assert redeemed.status == 200
    assert redeemed.body["voiceId"] == redeemed.body["data"]["id"] != voice_id
    assert redeemed.body["data"]["name"] == "Alice"
    copy = await sim_api.call("GET", f"/api/voice/{redeemed.body['voiceId']}", key=other)
    assert copy.body["data"]["from"] == "upload"
    again = await sim_api.call(
        "POST", "/api/voice/byShareId", json={"shareId": share["shareId"]}, key=other
    )
    assert again.status == 404 and again.body["code"] == "RESOURCE_NOT_FOUND"
    fresh = await sim_api.data("GET", f"/api/voice/{voice_id}/share")
    assert fresh["shareId"] != share["shareId"]
