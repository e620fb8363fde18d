"""Fixtures shared by every test layer: a running simulator and an API key.

Tests only talk to loopback servers, so proxies from the environment are removed at import.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import secrets
import string
import wave
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.vocu.simulator import Simulator, SimulatorConfig

for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

_KEY_ALPHABET = string.ascii_lowercase + string.digits


def make_api_key() -> str:
    """A well-formed Vocu API key: `sk-` + 32 lowercase alphanumerics."""
    return "sk-" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))


def fast_config(**overrides: object) -> SimulatorConfig:
    """Simulator settings with short lifecycles for tests."""
    settings: dict[str, object] = {
        "voice_creating_seconds": 0.2,
        "task_pending_seconds": 0.1,
        "task_processing_seconds": 0.2,
        **overrides,
    }
    return SimulatorConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    """A simulator on 127.0.0.1 (any free port) with fast timings; stopped afterwards."""
    sim = Simulator(fast_config())
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
def api_key() -> str:
    """A fresh, valid API key (its account is created on first use)."""
    return make_api_key()


def wav_bytes(seconds: float, rate: int = 8000, freq: float = 220.0) -> bytes:
    """A mono 16-bit WAV tone (a voice sample PyAV can measure)."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        value = int(12000 * math.sin(2 * math.pi * freq * i / rate))
        frames += value.to_bytes(2, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()


def data_url(data: bytes, mime: str = "audio/wav") -> str:
    """`data:<mime>;base64,…`."""
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@dataclass
class Reply:
    """A decoded simulator answer."""

    status: int
    body: Any
    headers: Mapping[str, str]


class SimApi:
    """Plain-aiohttp access to a running simulator with one API key."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, key: str) -> None:
        self.session = session
        self.base_url = base_url
        self.key = key

    def headers(self, key: str | None = None) -> dict[str, str]:
        """The Authorization header of `key` (default: this helper's key)."""
        return {"Authorization": f"Bearer {key or self.key}"}

    async def call(
        self, method: str, path: str, *, key: str | None = None, auth: bool = True, **kw: Any
    ) -> Reply:
        """One request; the body is parsed as JSON when it is JSON."""
        headers = self.headers(key) if auth else {}
        url = path if path.startswith("http") else self.base_url + path
        async with self.session.request(method, url, headers=headers, **kw) as response:
            raw = await response.read()
            body: Any = raw
            if response.content_type == "application/json":
                body = json.loads(raw)
            return Reply(response.status, body, response.headers)

    async def data(self, method: str, path: str, **kw: Any) -> Any:
        """`data` of a successful call (asserts status 200)."""
        reply = await self.call(method, path, **kw)
        assert reply.status == 200, reply.body
        return reply.body["data"]

    async def voice_id(self, name: str = "Alice") -> str:
        """The id of a seed voice."""
        voices = await self.data("GET", "/api/voice")
        return next(v["id"] for v in voices if v["name"] == name)


@pytest.fixture
async def sim_api(simulator: Simulator, api_key: str) -> AsyncIterator[SimApi]:
    """A SimApi on the `simulator` fixture, authenticated with `api_key`."""
    async with aiohttp.ClientSession() as session:
        yield SimApi(session, simulator.base_url, api_key)
