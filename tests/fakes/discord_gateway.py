"""Gateway half of the fake Discord server (mixed into FakeDiscordServer): the websocket
protocol plus helpers that build and dispatch INTERACTION_CREATE / MESSAGE_CREATE / ...
"""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_payloads import (
    ALICE_ID,
    GUILD_ID,
    TEXT_CHANNEL_ID,
    build_options,
    complete_attachment,
    find_component,
    guild_create_payload,
    make_message,
    make_user,
    member_permissions,
    modal_components,
    snowflake,
)

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeDiscordServer


class GatewayConnection:
    """One connected client. Sends JSON text frames, or zlib-stream binary frames when the
    client asked for ``compress=zlib-stream`` (discord.py always does, unless zstd is
    installed, in which case it asks for zstd-stream and we fall back to text frames -
    discord.py accepts uncompressed text frames either way)."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.seq = 0
        self.identified = False
        self.session_id = uuid.uuid4().hex
        self._lock = asyncio.Lock()
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None

    async def send(self, payload: dict[str, Any]) -> None:
        async with self._lock:
            if payload.get("op") == 0:
                self.seq += 1
                payload = {**payload, "s": self.seq}
            else:
                payload = {"s": None, "t": None, **payload}
            raw = json.dumps(payload)
            if self._zlib is None:
                await self.ws.send_str(raw)
            else:
                data = self._zlib.compress(raw.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)  # ends with 00 00 ff ff


class GatewayMixin:
    # ---- websocket ---------------------------------------------------------------------
    async def _ws_handler(self: FakeDiscordServer, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(ws, request.query.get("compress"))
        self.gateway_connects.append(dict(request.query))
        self._conns.add(conn)
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval}})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                self.gateway_received.append(payload)
                await self._on_gateway_op(conn, payload)
        finally:
            self._conns.discard(conn)
        return ws

    async def _on_gateway_op(self: FakeDiscordServer, conn: GatewayConnection, p: dict) -> None:
        op, d = p.get("op"), p.get("d")
        if op == 1:
            await conn.send({"op": 11})
        elif op == 2:
            self.identifies.append(d)
            await self._send_ready(conn, d)
        elif op == 6:
            self.resumes.append(d)
            conn.session_id = d.get("session_id") or conn.session_id
            conn.seq = int(d.get("seq") or 0)
            await conn.send({"op": 0, "t": "RESUMED", "d": {}})
            conn.identified = True
            self._identified.set()
        elif op == 8:
            guild = self.guilds.get(str(d.get("guild_id")))
            members = list(guild["members"].values()) if guild else []
            chunk = {
                "guild_id": str(d.get("guild_id")),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if d.get("nonce") is not None:
                chunk["nonce"] = d["nonce"]
            await conn.send({"op": 0, "t": "GUILD_MEMBERS_CHUNK", "d": chunk})

    async def _send_ready(self: FakeDiscordServer, conn: GatewayConnection, ident: dict) -> None:
        ready = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": gid, "unavailable": True} for gid in self.guilds],
            "session_id": conn.session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": ident.get("shard") or [0, 1],
            "application": {"id": self.bot_id, "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": ["us-east"],
        }
        await conn.send({"op": 0, "t": "READY", "d": ready})
        for guild in self.guilds.values():
            await conn.send({"op": 0, "t": "GUILD_CREATE", "d": guild_create_payload(guild)})
        conn.identified = True
        self._identified.set()

    async def dispatch(self: FakeDiscordServer, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) to every identified client; waits (up to 10 s) for one."""
        if not any(c.identified for c in self._conns):
            await asyncio.wait_for(self._identified.wait(), 10)
        self.dispatched.append((event, data))
        for conn in list(self._conns):
            if conn.identified and not conn.ws.closed:
                await conn.send({"op": 0, "t": event, "d": data})

    async def wait_until_identified(self: FakeDiscordServer, timeout: float = 10) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self._identified.wait(), timeout)

    # ---- interaction builders ----------------------------------------------------------
    def _interaction_base(
        self: FakeDiscordServer,
        itype: int,
        data: dict[str, Any],
        *,
        user_id: str,
        guild_id: str | None,
        channel_id: str | None,
        locale: str,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        user_id = str(user_id)
        payload: dict[str, Any] = {
            "id": snowflake(),
            "application_id": self.bot_id,
            "type": itype,
            "data": data,
            "token": "itok-" + uuid.uuid4().hex,
            "version": 1,
            "locale": locale,
            "attachment_size_limit": self.max_upload_bytes,
            "entitlements": [],
            "entitlement_sku_ids": [],
        }
        if guild_id is not None:
            guild = self.guilds[str(guild_id)]
            channel_id = str(channel_id or TEXT_CHANNEL_ID)
            member = guild["members"].get(user_id)
            if member is None:
                raise KeyError(f"user {user_id} is not a member of guild {guild_id}")
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": guild.get("preferred_locale", "en-US")},
                guild_locale=guild.get("preferred_locale", "en-US"),
                member={**member, "permissions": str(member_permissions(guild, user_id))},
                app_permissions=str(member_permissions(guild, self.bot_id)),
                authorizing_integration_owners={"0": str(guild_id)},
                context=0,
            )
        else:
            user = self.users.get(user_id) or make_user(user_id, f"user{user_id}")
            dm = self.dm_channel(user_id)
            given = self.channel(str(channel_id)) if channel_id else None
            # a guild channel id (e.g. the 2001 default) makes no sense in a DM: use the DM
            channel_id = dm["id"] if given is None or given.get("guild_id") else str(channel_id)
            payload.update(
                user=user,
                app_permissions="0",
                authorizing_integration_owners={"1": user_id},
                context=1,
            )
        channel = self.channel(channel_id) or (
            self.dm_channel(user_id) if guild_id is None else {"id": channel_id, "type": 0}
        )
        payload["channel_id"] = channel_id
        payload["channel"] = channel
        if message is not None:
            payload["message"] = message
        return payload

    async def _fire(self: FakeDiscordServer, payload: dict[str, Any]) -> dict[str, Any]:
        state = {
            "payload": payload,
            "acked": False,
            "callbacks": [],
            "original_id": None,
            "followup_ids": [],
        }
        self.interactions[payload["id"]] = state
        self.interactions_by_token[payload["token"]] = state
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    def registered_command(
        self: FakeDiscordServer, name: str, guild_id: str | None, command_type: int = 1
    ) -> dict[str, Any] | None:
        for cmd in self.guild_commands.get(str(guild_id), []) if guild_id else []:
            if cmd["name"] == name and cmd.get("type", 1) == command_type:
                return cmd
        for cmd in self.global_commands:
            if cmd["name"] == name and cmd.get("type", 1) == command_type:
                return cmd
        return None

    async def interaction_command(
        self: FakeDiscordServer,
        name: str,
        options: list[dict[str, Any]] | dict[str, Any] | None = None,
        *,
        user_id: str = ALICE_ID,
        guild_id: str | None = GUILD_ID,
        channel_id: str | None = TEXT_CHANNEL_ID,
        resolved: dict[str, Any] | None = None,
        locale: str = "en-US",
        type: int = 2,
        command_type: int = 1,
        target_id: str | None = None,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """Dispatch an APPLICATION_COMMAND (type 2) interaction; returns the payload
        (``payload["id"]``, ``payload["token"]``). ``options`` is a raw option list or a
        {name: value} mapping. A guild-registered command gets ``data.guild_id``."""
        cmd = self.registered_command(name, guild_id, command_type)
        data: dict[str, Any] = {
            "id": cmd["id"] if cmd else snowflake(),
            "name": name,
            "type": command_type,
            "options": build_options(options, cmd.get("options") if cmd else None, focused),
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            resolved = dict(resolved)
            if "attachments" in resolved:
                resolved["attachments"] = {
                    str(k): complete_attachment(v) for k, v in resolved["attachments"].items()
                }
            data["resolved"] = resolved
        if target_id is not None:
            data["target_id"] = str(target_id)
        payload = self._interaction_base(
            type, data, user_id=user_id, guild_id=guild_id, channel_id=channel_id, locale=locale
        )
        return await self._fire(payload)

    async def interaction_autocomplete(
        self: FakeDiscordServer,
        name: str,
        options: list[dict[str, Any]] | dict[str, Any],
        *,
        focused: str,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """APPLICATION_COMMAND_AUTOCOMPLETE (type 4); ``focused`` names the typed option."""
        return await self.interaction_command(name, options, type=4, focused=focused, **kwargs)

    async def interaction_component(
        self: FakeDiscordServer,
        custom_id: str,
        *,
        component_type: int = 2,
        values: list[str] | None = None,
        message: dict[str, Any] | str | None = None,
        user_id: str = ALICE_ID,
        guild_id: str | None = GUILD_ID,
        channel_id: str | None = None,
        locale: str = "en-US",
        resolved: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """MESSAGE_COMPONENT (type 3). ``message`` is a message dict, a message id, or None
        (= the newest stored message whose components contain ``custom_id``)."""
        if message is None:
            found = [
                m for m in self.messages.values() if find_component(m["components"], custom_id)
            ]
            if not found:
                raise LookupError(f"no stored message has a component {custom_id!r}")
            message = found[-1]
        elif isinstance(message, str | int):
            message = self.messages[str(message)]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        if resolved is not None:
            data["resolved"] = resolved
        payload = self._interaction_base(
            3,
            data,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id or message["channel_id"],
            locale=locale,
            message=message,
        )
        return await self._fire(payload)

    async def interaction_modal_submit(
        self: FakeDiscordServer,
        custom_id: str | None,
        components: list[dict[str, Any]] | dict[str, str],
        *,
        user_id: str = ALICE_ID,
        guild_id: str | None = GUILD_ID,
        channel_id: str | None = TEXT_CHANNEL_ID,
        locale: str = "en-US",
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """MODAL_SUBMIT (type 5). ``custom_id=None`` uses the last modal the bot opened
        (callback type 9); ``components`` raw or {text_input_custom_id: value}."""
        if custom_id is None:
            custom_id = self.last_modal()["custom_id"]
        data = {"custom_id": custom_id, "components": modal_components(components)}
        payload = self._interaction_base(
            5,
            data,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            message=message,
        )
        return await self._fire(payload)

    # ---- other events ------------------------------------------------------------------
    async def message_create(
        self: FakeDiscordServer,
        channel_id: str,
        author: str | dict[str, Any],
        content: str = "",
        *,
        attachments: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Dispatch MESSAGE_CREATE from ``author`` (user id or user dict); the message is
        stored (so the bot can reply/fetch it) and returned."""
        user = self.users[str(author)] if isinstance(author, str | int) else author
        channel = self.channel(str(channel_id)) or {}
        guild_id = channel.get("guild_id")
        msg = make_message(
            str(channel_id),
            user,
            content,
            guild_id=guild_id,
            attachments=[complete_attachment(a) for a in attachments or []],
            **extra,
        )
        if guild_id is not None:
            member = self.guilds[guild_id]["members"].get(user["id"])
            if member is not None:
                msg["member"] = {k: v for k, v in member.items() if k != "user"}
        self.messages[msg["id"]] = msg
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def voice_state_update(
        self: FakeDiscordServer,
        user_id: str,
        channel_id: str | None,
        *,
        guild_id: str = GUILD_ID,
        self_mute: bool = False,
        self_deaf: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Dispatch VOICE_STATE_UPDATE (channel_id None = left voice) and keep the
        guild's voice_states in sync for later GUILD_CREATEs."""
        guild = self.guilds[str(guild_id)]
        member = guild["members"][str(user_id)]
        state = {
            "guild_id": str(guild_id),
            "channel_id": channel_id,
            "user_id": str(user_id),
            "member": member,
            "session_id": uuid.uuid4().hex,
            "deaf": False,
            "mute": False,
            "self_deaf": self_deaf,
            "self_mute": self_mute,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
            **extra,
        }
        guild["voice_states"] = [v for v in guild["voice_states"] if v["user_id"] != str(user_id)]
        if channel_id is not None:
            guild["voice_states"].append({k: v for k, v in state.items() if k != "member"})
        await self.dispatch("VOICE_STATE_UPDATE", state)
        return state
