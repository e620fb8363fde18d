"""Simulator basics: auth, envelopes, request ids, path families, account and credits."""

from __future__ import annotations

import aiohttp

from bot.vocu.simulator import Simulator, SimulatorConfig
from tests.conftest import SimApi, make_api_key

RID = "X-Vocu-App-Request-Id"


async def test_missing_or_bad_auth_is_401_with_request_id(sim_api: SimApi) -> None:
    reply = await sim_api.call("GET", "/api/account/info", auth=False)
    assert reply.status == 401
    assert reply.body["code"] == "AUTH_UNAUTHORIZED"
    assert reply.body["message"] == "Unauthorized."
    assert reply.body["requestId"] == reply.headers[RID]
    async with sim_api.session.get(
        sim_api.base_url + "/api/voice", headers={"Authorization": "Basic abc"}
    ) as response:
        assert response.status == 401


async def test_account_envelope_under_user(sim_api: SimApi) -> None:
    reply = await sim_api.call("GET", "/api/account/info")
    assert reply.status == 200
    assert set(reply.body) == {"status", "message", "user"}
    user = reply.body["user"]
    assert user["isPaid"] is True
    assert user["bonusCredit"] == 10000 and user["credits"] == 10000 and user["credit"] == 0
    assert user["quota"]["syncPaidConcurrent"] == 4 and user["loraQuota"] == 1
    assert RID in reply.headers


async def test_request_id_on_every_response(sim_api: SimApi) -> None:
    voice_id = await sim_api.voice_id()
    calls = [
        ("GET", "/api/voice"),
        ("GET", "/api/tts/presets"),
        ("GET", "/api/no/such/route"),
        ("DELETE", "/api/voice/unknown"),
        ("GET", f"/api/tts/simple-generate?voiceId={voice_id}&text=hi"),
        ("GET", "/sim-storage/nothing-here"),
    ]
    seen = set()
    for method, path in calls:
        reply = await sim_api.call(method, path)
        assert reply.headers.get(RID), (method, path)
        seen.add(reply.headers[RID])
        if isinstance(reply.body, dict) and "requestId" in reply.body:
            assert reply.body["requestId"] == reply.headers[RID]
    assert len(seen) == len(calls)


async def test_unknown_route_is_json_404(sim_api: SimApi) -> None:
    reply = await sim_api.call("GET", "/api/definitely/not/here")
    assert reply.status == 404 and reply.body["status"] == 404
    assert reply.body["code"] == "RESOURCE_NOT_FOUND"


async def test_both_path_families_share_state(sim_api: SimApi) -> None:
    canonical = await sim_api.data("GET", "/api/voice")
    legacy = await sim_api.data("GET", "/api/tts/voice")
    assert [v["id"] for v in canonical] == [v["id"] for v in legacy]
    voice_id = canonical[0]["id"]
    detail = await sim_api.data("GET", f"/api/tts/voice/{voice_id}")
    assert detail["id"] == voice_id
    reply = await sim_api.call("DELETE", f"/api/tts/voice/{voice_id}")
    assert reply.body == {"status": 200, "message": "OK"}
    missing = await sim_api.call("GET", f"/api/voice/{voice_id}")
    assert missing.status == 404 and missing.body["code"] == "VOICE_NOT_FOUND"


async def test_state_is_per_key(sim_api: SimApi) -> None:
    mine = await sim_api.voice_id()
    other_key = make_api_key()
    reply = await sim_api.call("GET", f"/api/voice/{mine}", key=other_key)
    assert reply.status == 404 and reply.body["code"] == "VOICE_NOT_FOUND"


async def test_credit_debit_bonus_first(
    sim_api: SimApi, simulator: Simulator, api_key: str
) -> None:
    voice_id = await sim_api.voice_id()
    simulator.set_credits(api_key, credit=100, bonus=5)
    text = "Hello {{softly}}世界!"  # markers are not billed: 9 code points
    data = await sim_api.data(
        "POST", "/api/tts/simple-generate", json={"voiceId": voice_id, "text": text}
    )
    assert data["credit_used"] == 9
    user = (await sim_api.call("GET", "/api/account/info")).body["user"]
    assert user["bonusCredit"] == 0 and user["credit"] == 96
    assert simulator.account(api_key).balance == 96


async def test_insufficient_credit_refused_before_audio(
    sim_api: SimApi, simulator: Simulator, api_key: str
) -> None:
    voice_id = await sim_api.voice_id()
    simulator.set_credits(api_key, credit=0, bonus=0)
    reply = await sim_api.call(
        "POST", "/api/tts/simple-generate", json={"voiceId": voice_id, "text": "hello"}
    )
    assert reply.status == 403 and reply.body["code"] == "BILLING_INSUFFICIENT_CREDIT"
    stream = await sim_api.call("GET", f"/api/tts/simple-generate.mp3?voiceId={voice_id}&text=hi")
    assert stream.status == 403 and stream.headers["Content-Type"].startswith("application/json")
    assert simulator.account(api_key).audios == {}
    assert simulator.generation_calls(api_key) == 2


async def test_login_token_and_free_account_refused_on_sync(
    sim_api: SimApi, simulator: Simulator, api_key: str
) -> None:
    voice_id = await sim_api.voice_id()
    body = {"voiceId": voice_id, "text": "hello"}
    token = "eyJhbGciOiJIUzI1NiJ9.login.token"
    own = await sim_api.call("GET", "/api/voice", key=token)
    token_body = {"voiceId": own.body["data"][0]["id"], "text": "hello"}
    reply = await sim_api.call("POST", "/api/tts/simple-generate", json=token_body, key=token)
    assert reply.status == 403 and reply.body["code"] == "TTS_SESSION_TOKEN_NOT_ALLOWED"
    task = await sim_api.call(
        "POST", "/api/tts/generate", json={"contents": [token_body]}, key=token
    )
    assert task.status == 200  # async works with login tokens
    simulator.account(api_key).is_paid = False
    reply = await sim_api.call("POST", "/api/tts/simple-generate", json=body)
    assert reply.status == 403 and reply.body["code"] == "TTS_PAID_ONLY"


async def test_strict_keys() -> None:
    good = make_api_key()
    sim = Simulator(SimulatorConfig(strict_keys=True, api_keys=[good]))
    base = await sim.start()
    try:
        async with aiohttp.ClientSession() as session:
            api = SimApi(session, base, good)
            assert (await api.call("GET", "/api/account/info")).status == 200
            other = await api.call("GET", "/api/account/info", key=make_api_key())
            assert other.status == 401
    finally:
        await sim.stop()


async def test_request_log_and_generation_count(
    sim_api: SimApi, simulator: Simulator, api_key: str
) -> None:
    voice_id = await sim_api.voice_id()
    simulator.reset_log()
    await sim_api.call("POST", "/api/tts/simple-generate", json={"voiceId": voice_id, "text": "a"})
    await sim_api.call("GET", "/api/account/info")
    record = simulator.request_log[0]
    assert (record.method, record.path, record.api_key, record.status, record.billable) == (
        "POST",
        "/api/tts/simple-generate",
        api_key,
        200,
        True,
    )
    assert simulator.generation_calls() == 1 and simulator.generation_calls("sk-other") == 0
    async with sim_api.session.get(sim_api.base_url + "/_sim/log") as response:
        log = await response.json()
    assert log["generation_calls"] == 1 and len(log["records"]) == 2
