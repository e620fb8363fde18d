"""Fixtures of the SDK tests: a client on the simulator, and a tiny scriptable HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.vocu import VocuClient

FAST: dict[str, Any] = {"backoff_base": 0.01, "backoff_max": 0.02, "ws_retry_delay": 0.05}


@pytest.fixture
async def vocu(simulator: Any, api_key: str) -> AsyncIterator[VocuClient]:
    """A client of the running simulator with short back-offs."""
    async with VocuClient(api_key, base_url=simulator.base_url, **FAST) as client:
        yield client


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class TinyServer:
    """A loopback aiohttp server whose routes a test defines; counts hits per path."""

    app: web.Application = field(default_factory=web.Application)
    hits: list[web.Request] = field(default_factory=list)
    base_url: str = ""
    runner: web.AppRunner | None = None

    def route(self, method: str, path: str, handler: Handler) -> None:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.hits.append(request)
            return await handler(request)

        self.app.router.add_route(method, path, counted)

    def count(self, path: str) -> int:
        return sum(1 for r in self.hits if r.path == path)

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app, shutdown_timeout=0.1, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    def client(self, **kw: Any) -> VocuClient:
        return VocuClient("sk-" + "t" * 32, base_url=self.base_url, **{**FAST, **kw})


@pytest.fixture
async def tiny() -> AsyncIterator[TinyServer]:
    """A TinyServer; add routes before calling `await tiny.start()`."""
    server = TinyServer()
    yield server
    if server.runner is not None:
        await server.runner.cleanup()


def envelope(data: Any = None, status: int = 200, **extra: Any) -> web.Response:
    """A Vocu success envelope with a request id header."""
    body = {"status": status, "message": "OK", **extra}
    if data is not None:
        body["data"] = data
    return web.json_response(body, headers={"X-Vocu-App-Request-Id": "rid-ok"})


def error(
    status: int, code: str | None, *, rid: str | None = "rid-body", **headers: str
) -> web.Response:
    """A Vocu error envelope."""
    body: dict[str, Any] = {"status": status, "message": f"boom {code}"}
    if code:
        body["code"] = code
    if rid:
        body["requestId"] = rid
    return web.json_response(
        body, status=status, headers={"X-Vocu-App-Request-Id": "rid-header", **headers}
    )
