"""Simulator async tasks, templates, splitters and file uploads."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.vocu.simulator import Simulator
from tests.conftest import SimApi, data_url, wav_bytes


async def _task(sim_api: SimApi, *texts: str, **top: Any) -> dict[str, Any]:
    voice_id = await sim_api.voice_id()
    contents = [{"type": "text", "voiceId": voice_id, "text": t} for t in texts]
    data: dict[str, Any] = await sim_api.data(
        "POST", "/api/tts/generate", json={"contents": contents, **top}
    )
    return data


async def _settle(sim_api: SimApi, task_id: str) -> dict[str, Any]:
    for _ in range(50):
        data: dict[str, Any] = await sim_api.data("GET", f"/api/tts/generate/{task_id}")
        if data["status"] in ("generated", "failed"):
            return data
        await asyncio.sleep(0.05)
    raise AssertionError("task never settled")


async def test_lifecycle_and_audio(sim_api: SimApi, simulator: Simulator, api_key: str) -> None:
    task = await _task(sim_api, "First part.", "Second, longer part of the script.")
    assert task["status"] == "pending" and task["type"] == "vocu-neural-voice-001"
    assert task["metadata"]["characters"] == 45
    assert "audio" not in task["metadata"]
    assert simulator.account(api_key).balance == 10000 - 45  # frozen at submit
    await asyncio.sleep(0.12)
    streaming = await sim_api.data("GET", f"/api/tts/generate/{task['id']}?stream=true")
    assert streaming["status"] == "processing"
    assert "stream.mp3?auth=" in streaming["metadata"]["contents"][0]["audio"]
    done = await _settle(sim_api, task["id"])
    assert done["status"] == "generated" and done["metadata"]["generatedAt"]
    merged = done["metadata"]["audio"]
    assert merged.endswith("-merged.mp3")
    segment = done["metadata"]["contents"][1]["audio"]
    assert segment.endswith("-1.mp3")
    merged_mp3 = await sim_api.call("GET", merged, auth=False)
    assert merged_mp3.status == 200 and merged_mp3.headers["Content-Type"] == "audio/mpeg"
    assert simulator.account(api_key).balance == 10000 - 45


async def test_failed_task_refunds(sim_api: SimApi, simulator: Simulator, api_key: str) -> None:
    simulator.faults.fail_tasks = True
    task = await _task(sim_api, "Doomed.")
    assert simulator.account(api_key).balance == 10000 - 7
    done = await _settle(sim_api, task["id"])
    assert done["status"] == "failed" and "audio" not in done["metadata"]
    assert simulator.account(api_key).balance == 10000


async def test_sync_flag_returns_processing(sim_api: SimApi) -> None:
    task = await _task(sim_api, "Quick.", sync=True)
    assert task["status"] == "processing"


async def test_strict_contents_validation(sim_api: SimApi) -> None:
    voice_id = await sim_api.voice_id()
    bad_items = [
        {"voiceId": voice_id, "text": "x", "language": "en"},
        {"voiceId": voice_id, "text": "x", "emo_switch": [1, 2, 3]},
        {"voiceId": voice_id, "text": "x", "emo_switch": [0, 0, 0, 0, 11]},
        {"voiceId": voice_id, "text": "x", "speechRate": 3},
        {"voiceId": voice_id, "text": "x", "preset": "wild"},
        {"type": "audio", "voiceId": voice_id, "input_audio": "https://elsewhere/a.mp3"},
        {"type": "bogus", "text": "x"},
    ]
    for item in bad_items:
        reply = await sim_api.call("POST", "/api/tts/generate", json={"contents": [item]})
        assert reply.status == 400 and reply.body["code"] == "TTS_CONTENTS_INVALID", item
    cases = [
        ({"contents": [{"voiceId": voice_id, "text": ""}]}, 400, "TTS_TEXT_EMPTY"),
        ({"contents": [{"voiceId": "nope", "text": "x"}]}, 404, "VOICE_NOT_FOUND"),
        ({"contents": [], "text": "x", "splitterId": "s"}, 400, "VALIDATION_CONFLICT"),
        ({"text": "x", "splitterId": "unknown"}, 404, "SPLITTER_NOT_FOUND"),
        ({}, 400, "VALIDATION_MISSING_FIELD"),
    ]
    for body, status, code in cases:
        reply = await sim_api.call("POST", "/api/tts/generate", json=body)
        assert (reply.status, reply.body["code"]) == (status, code), body


async def test_unaccepted_keys_dropped(sim_api: SimApi) -> None:
    voice_id = await sim_api.voice_id()
    item = {"type": "text", "voiceId": voice_id, "text": "Hi", "flash": True, "vc_mode": "cover"}
    task = await sim_api.data("POST", "/api/tts/generate", json={"contents": [item]})
    assert task["metadata"]["contents"][0] == {"type": "text", "voiceId": voice_id, "text": "Hi"}


async def test_insufficient_credit_on_async(
    sim_api: SimApi, simulator: Simulator, api_key: str
) -> None:
    simulator.set_credits(api_key, credit=3, bonus=0)
    voice_id = await sim_api.voice_id()
    reply = await sim_api.call(
        "POST", "/api/tts/generate", json={"contents": [{"voiceId": voice_id, "text": "four"}]}
    )
    assert reply.status == 403 and reply.body["code"] == "BILLING_INSUFFICIENT_CREDIT"
    assert simulator.account(api_key).tasks == {}


async def test_delete_list_and_regenerate(sim_api: SimApi, simulator: Simulator) -> None:
    first = await _task(sim_api, "One.")
    second = await _task(sim_api, "Two.", "Three.")
    busy = await sim_api.call("DELETE", f"/api/tts/generate/{first['id']}")
    assert busy.status == 403 and busy.body["code"] == "GENERATE_DELETE_IN_PROGRESS"
    listed = await sim_api.data("GET", "/api/tts/generate?limit=1")
    assert [t["id"] for t in listed] == [second["id"]]
    await _settle(sim_api, second["id"])
    regen = await sim_api.data(
        "POST", f"/api/tts/generate/{second['id']}/regenerate", json={"contents": [1]}
    )
    assert regen["status"] == "pending"
    assert regen["metadata"]["regenerates"] == [{"characters": 6, "contents": [1]}]
    assert simulator.generation_calls() == 3
    await _settle(sim_api, first["id"])
    deleted = await sim_api.call("DELETE", f"/api/tts/generate/{first['id']}")
    assert deleted.body == {"status": 200, "message": "OK"}
    gone = await sim_api.call("GET", f"/api/tts/generate/{first['id']}")
    assert gone.status == 404 and gone.body["code"] == "GENERATE_NOT_FOUND"
    bad = await sim_api.call("GET", "/api/tts/generate?projectId=not-a-uuid")
    assert bad.body["code"] == "VALIDATION_INVALID_FORMAT"
    generated = await sim_api.data("GET", "/api/tts/generate?status=pending")
    assert [t["id"] for t in generated] == [second["id"]]


async def test_templates_meta_voice_ids(sim_api: SimApi) -> None:
    body = {
        "name": "Dialogue",
        "description": "two voices",
        "contents": [
            {"voiceId": "A", "text": "a1"},
            {"voiceId": "B", "text": "b1"},
            {"voiceId": "A", "text": "a2"},
            {"voiceId": "0", "text": "narration"},
        ],
    }
    created = await sim_api.data("POST", "/api/template", json=body)
    assert [c["metaVoiceId"] for c in created["contents"]] == [1, 2, 1, None]
    assert created["metadata"] == {"metaVoiceId": 2, "description": "two voices"}
    assert created["from"] == "self" and "voiceId" not in created["contents"][0]
    missing = await sim_api.call("POST", f"/api/template/{created['id']}", json={"name": "x"})
    assert missing.body["code"] == "VALIDATION_MISSING_FIELD"
    assert missing.body["detail"] == {"field": "contents"}
    update = {"contents": [{"voiceId": "Z", "text": "solo"}]}
    updated = await sim_api.call("POST", f"/api/template/{created['id']}", json=update)
    assert updated.body == {"status": 200, "message": "OK"}
    fetched = await sim_api.data("GET", f"/api/template/{created['id']}")
    assert fetched["name"] == "Dialogue" and fetched["metadata"] == {"metaVoiceId": 1}
    assert [t["id"] for t in await sim_api.data("GET", "/api/template")] == [created["id"]]
    deleted = await sim_api.call("DELETE", f"/api/template/{created['id']}")
    assert deleted.body == {"status": 200, "message": "OK"}
    again = await sim_api.call("DELETE", f"/api/template/{created['id']}")
    assert again.status == 404 and again.body["code"] == "RESOURCE_NOT_FOUND"


async def test_splitter_crud_and_generation(sim_api: SimApi) -> None:
    alice, bob = await sim_api.voice_id("Alice"), await sim_api.voice_id("Bob")
    config = {"splitterMarks": ["[]"], "fallbackConfig": {"voiceId": alice}, "B": {"voiceId": bob}}
    created = await sim_api.call("POST", "/api/splitter", json={"name": " S ", "config": config})
    assert set(created.body) == {"status", "data"} and created.body["data"]["name"] == "S"
    splitter_id = created.body["data"]["id"]
    listed = await sim_api.call("GET", "/api/splitter")
    assert listed.body["total"] == 1 and "message" not in listed.body
    invalid = await sim_api.call("POST", "/api/splitter", json={"name": "x", "config": {}})
    assert invalid.body["code"] == "TTS_SPLITTER_INVALID"
    too_long = await sim_api.call(
        "POST", "/api/splitter", json={"name": "n" * 101, "config": config}
    )
    assert too_long.body["code"] == "VALIDATION_TOO_LONG"
    text = "Narration first. [B] Bob speaks."
    task = await sim_api.data(
        "POST", "/api/tts/generate", json={"text": text, "splitterId": splitter_id}
    )
    voices = [c["voiceId"] for c in task["metadata"]["contents"]]
    assert voices == [alice, bob]
    renamed = await sim_api.data("POST", f"/api/splitter/{splitter_id}", json={"name": "T"})
    assert renamed["name"] == "T"
    assert (await sim_api.call("DELETE", f"/api/splitter/{splitter_id}")).body == {"status": 200}
    assert (await sim_api.call("DELETE", f"/api/splitter/{splitter_id}")).status == 404


async def test_file_uploads_and_lora(sim_api: SimApi) -> None:
    new = await sim_api.data("POST", "/api/editor/multipartUpload/newFile", json={"type": "zip"})
    for index in (0, 2):
        form = aiohttp.FormData()
        form.add_field("id", new["id"])
        form.add_field("index", str(index))
        form.add_field("file", b"zipdata", filename="part.bin")
        part = await sim_api.data("POST", "/api/editor/multipartUpload/uploadPart", data=form)
        assert part == {"id": new["id"], "index": index}
    gap = await sim_api.call("POST", "/api/editor/multipartUpload/finish", json={"id": new["id"]})
    assert gap.status == 400 and gap.body["code"] == "VALIDATION_BAD_PARAMS"
    form = aiohttp.FormData()
    form.add_field("id", new["id"])
    form.add_field("index", "1")
    form.add_field("file", b"more", filename="part.bin")
    await sim_api.data("POST", "/api/editor/multipartUpload/uploadPart", data=form)
    done = await sim_api.data("POST", "/api/editor/multipartUpload/finish", json={"id": new["id"]})
    assert done == {"id": new["id"]}
    body = {"name": "Pro", "prompt": data_url(wav_bytes(3.5)), "lora": new["id"], "language": "zh"}
    pro = await sim_api.data("POST", "/api/voice", json=body)
    assert pro["status"] == "lora-awaiting" and pro["needPollingVerify"] is True
    assert pro["id"] not in [v["id"] for v in await sim_api.data("GET", "/api/voice")]
    assert pro["id"] in [v["id"] for v in await sim_api.data("GET", "/api/voice?show=full")]
    user = (await sim_api.call("GET", "/api/account/info")).body["user"]
    assert user["loraQuota"] == 0
    again = await sim_api.call("POST", "/api/voice", json=body)
    assert again.status == 403 and again.body["code"] == "BILLING_QUOTA_EXCEEDED"
    await asyncio.sleep(0.25)
    assert (await sim_api.data("GET", f"/api/voice/{pro['id']}"))["status"] == "lora-success"
    simple = aiohttp.FormData()
    simple.add_field("file", b"abc", filename="x.zip")
    uploaded = await sim_api.data("POST", "/api/editor/upload", data=simple)
    assert (await sim_api.call("GET", uploaded["url"], auth=False)).body == b"abc"
    bad_type = await sim_api.call("POST", "/api/editor/multipartUpload/newFile", json={"type": "x"})
    assert bad_type.body["code"] == "VALIDATION_BAD_PARAMS"
