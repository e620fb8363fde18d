"""In-process fake Discord (REST API v10 + gateway) that the REAL discord.py client talks to.

Usage::

    server = FakeDiscordServer()
    await server.start()
    with patch_discord_py(server):          # Route.BASE + DiscordWebSocket.DEFAULT_GATEWAY
        client = discord.Client(intents=..., guild_ready_timeout=0.05)
        ...

discord.py needs TWO redirects: ``discord.http.Route.BASE = server.api_base`` (REST, incl.
interaction callbacks/webhooks) and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY =
yarl.URL(server.gateway_url)`` - a plain ``discord.Client`` never calls GET /gateway/bot
(only AutoShardedClient does); it connects straight to DEFAULT_GATEWAY. Resumes use READY's
``resume_gateway_url`` (also this server).

The REST half lives in discord_rest.py, message building/validation/CDN in
discord_messages.py, the gateway + event helpers in discord_gateway.py, payload builders
(default world: guild 3000, text 2001, voice 2002, bot 1000, alice 4001 admin, bob 4002)
in discord_payloads.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiohttp import web

from tests.fakes.discord_gateway import GatewayConnection, GatewayMixin
from tests.fakes.discord_payloads import BOT_ID, make_guild, make_user
from tests.fakes.discord_rest import NO_CONTENT, ApiError, RestMixin

__all__ = ["FakeDiscordServer", "Rec", "RecFile", "patch_discord_py"]


class RecFile(NamedTuple):
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Rec:
    """One recorded HTTP request. ``json`` is the JSON body, or the parsed ``payload_json``
    of a multipart body; ``files`` are the multipart file parts; ``form`` other fields."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    json: Any = None
    files: list[RecFile] = field(default_factory=list)
    form: dict[str, str] = field(default_factory=dict)
    status: int = 0

    def file(self, index: int = 0) -> RecFile:
        return self.files[index]


@dataclass
class _Fault:
    path_contains: str
    status: int
    body: Any
    method: str | None
    times: int
    headers: dict[str, str]


class FakeDiscordServer(RestMixin, GatewayMixin):
    def __init__(
        self,
        *,
        bot_id: str = BOT_ID,
        guilds: list[dict[str, Any]] | None = None,
        heartbeat_interval: int = 45000,
        application_flags: int = 0,
        max_upload_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.bot_id = bot_id
        self.bot_user = make_user(bot_id, "vocu-bot", bot=True)
        self.guilds: dict[str, dict[str, Any]] = {
            g["id"]: g for g in (guilds if guilds is not None else [make_guild(bot_id=bot_id)])
        }
        self.users: dict[str, dict[str, Any]] = {bot_id: self.bot_user}
        for g in self.guilds.values():
            for uid, member in g["members"].items():
                self.users.setdefault(uid, member["user"])
        self.heartbeat_interval = heartbeat_interval
        self.application_flags = application_flags
        self.max_upload_bytes = max_upload_bytes
        self.voice_blocked_channels: set[str] = set()  # POST voice message -> 400/50173
        # state
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[str, list[dict[str, Any]]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.dm_channels: dict[str, dict[str, Any]] = {}
        self.interactions: dict[str, dict[str, Any]] = {}
        self.interactions_by_token: dict[str, dict[str, Any]] = {}
        self.cdn: dict[str, tuple[bytes, str]] = {}
        self.uploads: dict[str, bytes] = {}
        # recordings
        self.requests: list[Rec] = []
        self.gateway_received: list[dict[str, Any]] = []
        self.gateway_connects: list[dict[str, str]] = []
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.dispatched: list[tuple[str, dict[str, Any]]] = []
        self._faults: list[_Fault] = []
        self._conns: set[GatewayConnection] = set()
        self._identified = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._route_table = self._routes()

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> FakeDiscordServer:
        app = web.Application(client_max_size=1024**3)
        app.router.add_get("/gateway", self._ws_handler)
        app.router.add_get("/gateway/", self._ws_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for conn in list(self._conns):
            await conn.ws.close(code=1001, message=b"server stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscordServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close every gateway socket (discord.py then reconnects + RESUMEs)."""
        for conn in list(self._conns):
            await conn.ws.close(code=code)

    # ---- world helpers -----------------------------------------------------------------
    def channel(self, channel_id: str) -> dict[str, Any] | None:
        for g in self.guilds.values():
            for c in g["channels"]:
                if c["id"] == str(channel_id):
                    return c
        for dm in self.dm_channels.values():
            if dm["id"] == str(channel_id):
                return dm
        return None

    def add_member(
        self,
        user_id: str,
        username: str,
        *,
        roles: list[str] | None = None,
        guild_id: str | None = None,
        bot: bool = False,
    ) -> dict[str, Any]:
        """Add a user (+ guild member). Call before the client connects to have it in
        GUILD_CREATE."""
        from tests.fakes.discord_payloads import make_member

        user = make_user(str(user_id), username, bot=bot)
        self.users[user["id"]] = user
        guild = self.guilds[guild_id or next(iter(self.guilds))]
        guild["members"][user["id"]] = make_member(user, roles)
        return user

    def add_attachment(
        self,
        data: bytes,
        filename: str = "file.bin",
        content_type: str = "application/octet-stream",
        *,
        channel_id: str = "0",
        **extra: Any,
    ) -> dict[str, Any]:
        """Serve ``data`` at a CDN-like URL on this server; returns a complete attachment
        dict (id, filename, size, url, proxy_url, content_type, + extra such as
        duration_secs/waveform) usable in ``resolved.attachments`` or message_create."""
        att = self.store_cdn(channel_id, data, filename, content_type)
        att.update(extra)
        return att

    # ---- interaction inspection --------------------------------------------------------
    def callbacks(self, interaction: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """[{type, data}] responses to one interaction (or to all, in order)."""
        states = (
            [self.interactions[interaction["id"]]] if interaction else self.interactions.values()
        )
        return [cb for st in states for cb in st["callbacks"]]

    def original_response(self, interaction: dict[str, Any]) -> dict[str, Any] | None:
        return self.messages.get(self.interactions[interaction["id"]]["original_id"] or "")

    def followups(self, interaction: dict[str, Any]) -> list[dict[str, Any]]:
        ids = self.interactions[interaction["id"]]["followup_ids"]
        return [self.messages[i] for i in ids if i in self.messages]

    def last_modal(self) -> dict[str, Any]:
        modals = [cb["data"] for cb in self.callbacks() if cb["type"] == 9]
        if not modals:
            raise LookupError("the bot has not opened a modal")
        return modals[-1]

    def messages_in(self, channel_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if m["channel_id"] == str(channel_id)]

    # ---- recording ---------------------------------------------------------------------
    def requests_to(self, path_contains: str, method: str | None = None) -> list[Rec]:
        return [
            r
            for r in self.requests
            if path_contains in r.path and (method is None or r.method == method.upper())
        ]

    async def wait_for(
        self,
        path_contains: str,
        method: str | None = None,
        count: int = 1,
        timeout: float = 10,  # noqa: ASYNC109 - the documented helper API
    ) -> list[Rec]:
        """Wait until ``count`` matching requests were answered; returns all matches."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.requests_to(path_contains, method) if r.status]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [f"{r.method} {r.path} -> {r.status}" for r in self.requests]
                raise TimeoutError(f"{count}x {method or '*'} {path_contains!r} not seen; {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    def fail_next(
        self,
        path_contains: str,
        status: int,
        json_body: Any = None,
        *,
        method: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``/``json_body``.
        429s get Discord's rate-limit headers incl. ``Via`` (without it discord.py treats a
        429 as a Cloudflare ban and raises instead of retrying) and a default body
        {"retry_after": 0.1, "global": false}. Note discord.py retries 5xx itself after
        sleeping 1 s+."""
        if json_body is None:
            json_body = (
                {"message": "You are being rate limited.", "retry_after": 0.1, "global": False}
                if status == 429
                else {"code": 0, "message": f"{status} error"}
            )
        hdrs = dict(headers or {})
        if status == 429:
            retry = float(json_body.get("retry_after", 0.1))
            is_global = bool(json_body.get("global"))
            hdrs = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(retry))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                "X-RateLimit-Reset-After": f"{retry:.3f}",
                "X-RateLimit-Scope": "global" if is_global else "user",
                **({"X-RateLimit-Global": "true"} if is_global else {}),
                **hdrs,
            }
        method = method.upper() if method else None
        self._faults.append(_Fault(path_contains, status, json_body, method, times, hdrs))

    def _take_fault(self, rec: Rec) -> _Fault | None:
        for fault in self._faults:
            if fault.path_contains in rec.path and fault.method in (None, rec.method):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _record(self, request: web.Request) -> Rec:
        rec = Rec(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
        )
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                raw = await part.read()  # type: ignore[union-attr]
                name = part.name or ""  # type: ignore[union-attr]
                if part.filename is not None:  # type: ignore[union-attr]
                    ctype = part.headers.get("Content-Type")  # type: ignore[union-attr]
                    rec.files.append(RecFile(name, part.filename, ctype, bytes(raw)))  # type: ignore[union-attr]
                else:
                    rec.form[name] = raw.decode()
            if "payload_json" in rec.form:
                rec.json = json.loads(rec.form["payload_json"])
        else:
            rec.body = await request.read()
            if rec.body and "json" in request.content_type:
                rec.json = json.loads(rec.body)
        self.requests.append(rec)
        return rec

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        rec = await self._record(request)
        try:
            response = await self._respond(rec)
        except ApiError as exc:
            response = _json_response(exc.body, status=exc.status)
        rec.status = response.status
        self._changed.set()
        return response

    async def _respond(self, rec: Rec) -> web.StreamResponse:
        fault = self._take_fault(rec)
        if fault is not None:
            return _json_response(fault.body, status=fault.status, headers=fault.headers)
        for method, pattern, handler in self._route_table:
            m = pattern.match(rec.path)
            if m is not None and method.fullmatch(rec.method):
                result = await handler(rec, **m.groupdict())
                if result is NO_CONTENT:
                    return web.Response(status=204)
                if isinstance(result, tuple):  # CDN bytes
                    return web.Response(body=result[0], content_type=result[1])
                return _json_response(result)
        raise ApiError(404, 0, f"404: Not Found ({rec.method} {rec.path})")


def _json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # discord.py only parses JSON when Content-Type is exactly "application/json" (no
    # charset suffix, which aiohttp's web.json_response adds).
    hdrs = {**(headers or {}), "Content-Type": "application/json"}
    return web.Response(body=json.dumps(body).encode(), status=status, headers=hdrs)


@contextlib.contextmanager
def patch_discord_py(server: FakeDiscordServer) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at ``server`` (restored on exit)."""
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gw = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = server.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gw
