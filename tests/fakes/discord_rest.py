"""REST half of the fake Discord server (mixed into FakeDiscordServer)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_messages import (
    NO_CONTENT,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    ApiError,
    MessageMixin,
)
from tests.fakes.discord_payloads import (
    MESSAGE_FLAG_EPHEMERAL,
    MESSAGE_FLAG_LOADING,
    snowflake,
)

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeDiscordServer, Rec

__all__ = ["NO_CONTENT", "ApiError", "RestMixin"]

Handler = Callable[..., Awaitable[Any]]


def _route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        fn._route = (method, re.compile("^" + pattern + "$"))  # type: ignore[attr-defined]
        return fn

    return deco


class RestMixin(MessageMixin):
    """REST endpoints. Each handler gets (rec, **path_groups) and returns a JSON body,
    NO_CONTENT (-> 204), or raises ApiError."""

    def _routes(self) -> list[tuple[re.Pattern[str], re.Pattern[str], Handler]]:
        routes = []
        for name in dir(type(self)):
            fn = getattr(type(self), name)
            if hasattr(fn, "_route"):
                method, pattern = fn._route
                routes.append((re.compile(method), pattern, getattr(self, name)))
        return routes

    # ---- users / gateway / application -------------------------------------------------
    @_route("GET", r"/api/v\d+/users/@me")
    async def _me(self: FakeDiscordServer, rec: Rec) -> Any:
        return self.bot_user

    @_route("GET", r"/api/v\d+/users/(?P<uid>\d+)")
    async def _get_user(self: FakeDiscordServer, rec: Rec, uid: str) -> Any:
        if uid not in self.users:
            raise ApiError(404, 10013, "Unknown User")
        return self.users[uid]

    @_route("POST", r"/api/v\d+/users/@me/channels")
    async def _create_dm(self: FakeDiscordServer, rec: Rec) -> Any:
        return self.dm_channel(str(rec.json["recipient_id"]))

    @_route("GET", r"/api/v\d+/gateway(?:/bot)?")
    async def _gateway(self: FakeDiscordServer, rec: Rec) -> Any:
        return {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    @_route("GET", r"/api/v\d+/(?:applications|oauth2/applications)/@me")
    async def _app_info(self: FakeDiscordServer, rec: Rec) -> Any:
        return {
            "id": self.bot_id,
            "name": "vocu-bot",
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.users["4001"] if "4001" in self.users else self.bot_user,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "team": None,
            "bot": self.bot_user,
            "interactions_endpoint_url": None,
            "summary": "",
        }

    # ---- application commands ----------------------------------------------------------
    def _command_list(self: FakeDiscordServer, guild_id: str | None) -> list[dict[str, Any]]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, [])

    def _store_command(
        self: FakeDiscordServer, cmd: dict[str, Any], guild_id: str | None
    ) -> dict[str, Any]:
        existing = {(c["name"], c.get("type", 1)): c for c in self._command_list(guild_id)}
        old = existing.get((cmd["name"], cmd.get("type", 1)))
        out = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            **cmd,
            "id": old["id"] if old else snowflake(),
            "application_id": self.bot_id,
            "version": snowflake(),
        }
        if guild_id is not None:
            out["guild_id"] = guild_id
        return out

    @_route("GET", r"/api/v\d+/applications/(?P<app>\d+)(?:/guilds/(?P<gid>\d+))?/commands")
    async def _get_commands(self: FakeDiscordServer, rec: Rec, app: str, gid: str | None) -> Any:
        return self._command_list(gid)

    @_route("PUT", r"/api/v\d+/applications/(?P<app>\d+)(?:/guilds/(?P<gid>\d+))?/commands")
    async def _put_commands(self: FakeDiscordServer, rec: Rec, app: str, gid: str | None) -> Any:
        stored = [self._store_command(c, gid) for c in rec.json or []]
        if gid is None:
            self.global_commands = stored
        else:
            self.guild_commands[gid] = stored
        return stored

    @_route("POST", r"/api/v\d+/applications/(?P<app>\d+)(?:/guilds/(?P<gid>\d+))?/commands")
    async def _post_command(self: FakeDiscordServer, rec: Rec, app: str, gid: str | None) -> Any:
        cmd = self._store_command(rec.json, gid)
        cmds = [c for c in self._command_list(gid) if c["id"] != cmd["id"]]
        cmds.append(cmd)
        if gid is None:
            self.global_commands = cmds
        else:
            self.guild_commands[gid] = cmds
        return cmd

    # ---- guilds / channels -------------------------------------------------------------
    @_route("GET", r"/api/v\d+/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)")
    async def _get_member(self: FakeDiscordServer, rec: Rec, gid: str, uid: str) -> Any:
        member = self.guilds.get(gid, {}).get("members", {}).get(uid)
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return member

    @_route("GET", r"/api/v\d+/guilds/(?P<gid>\d+)/channels")
    async def _get_guild_channels(self: FakeDiscordServer, rec: Rec, gid: str) -> Any:
        if gid not in self.guilds:
            raise ApiError(404, 10004, "Unknown Guild")
        return self.guilds[gid]["channels"]

    @_route("GET", r"/api/v\d+/channels/(?P<cid>\d+)")
    async def _get_channel(self: FakeDiscordServer, rec: Rec, cid: str) -> Any:
        channel = self.channel(cid)
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    @_route("POST", r"/api/v\d+/channels/(?P<cid>\d+)/typing")
    async def _typing(self: FakeDiscordServer, rec: Rec, cid: str) -> Any:
        return NO_CONTENT

    # ---- channel messages --------------------------------------------------------------
    def _channel_guild(self: FakeDiscordServer, cid: str) -> str | None:
        channel = self.channel(cid)
        return channel.get("guild_id") if channel else None

    @_route("POST", r"/api/v\d+/channels/(?P<cid>\d+)/messages")
    async def _post_message(self: FakeDiscordServer, rec: Rec, cid: str) -> Any:
        if self.channel(cid) is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return self.create_message(cid, rec.json or {}, rec, guild_id=self._channel_guild(cid))

    @_route("GET", r"/api/v\d+/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)")
    async def _get_message(self: FakeDiscordServer, rec: Rec, cid: str, mid: str) -> Any:
        if mid not in self.messages:
            raise ApiError(*UNKNOWN_MESSAGE)
        return self.messages[mid]

    @_route("PATCH", r"/api/v\d+/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)")
    async def _patch_message(self: FakeDiscordServer, rec: Rec, cid: str, mid: str) -> Any:
        return self.edit_message(mid, rec.json or {}, rec)

    @_route("DELETE", r"/api/v\d+/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)")
    async def _delete_message(self: FakeDiscordServer, rec: Rec, cid: str, mid: str) -> Any:
        if self.messages.pop(mid, None) is None:
            raise ApiError(*UNKNOWN_MESSAGE)
        return NO_CONTENT

    @_route(
        "(?:PUT|DELETE)",
        r"/api/v\d+/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me",
    )
    async def _reaction(self: FakeDiscordServer, rec: Rec, cid: str, mid: str, emoji: str) -> Any:
        return NO_CONTENT

    @_route("POST", r"/api/v\d+/channels/(?P<cid>\d+)/attachments")
    async def _upload_slots(self: FakeDiscordServer, rec: Rec, cid: str) -> Any:
        out = []
        for f in (rec.json or {}).get("files", []):
            upload_filename = f"{uuid.uuid4().hex}/{f['filename']}"
            out.append(
                {
                    "id": f.get("id", "0"),
                    "upload_url": f"{self.base_url}/upload/{upload_filename}",
                    "upload_filename": upload_filename,
                }
            )
        return {"attachments": out}

    @_route("PUT", r"/upload/(?P<key>.+)")
    async def _upload_put(self: FakeDiscordServer, rec: Rec, key: str) -> Any:
        self.uploads[key] = rec.body
        return NO_CONTENT

    @_route("GET", r"/cdn/attachments/(?P<key>.+)")
    async def _cdn(self: FakeDiscordServer, rec: Rec, key: str) -> Any:
        if key not in self.cdn:
            raise ApiError(404, 0, "404: Not Found")
        return self.cdn[key]  # (bytes, content_type)

    # ---- interactions / webhooks -------------------------------------------------------
    def _interaction_by_token(self: FakeDiscordServer, token: str) -> dict[str, Any]:
        state = self.interactions_by_token.get(token)
        if state is None:
            raise ApiError(*UNKNOWN_WEBHOOK)
        return state

    @_route("POST", r"/api/v\d+/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback")
    async def _callback(self: FakeDiscordServer, rec: Rec, iid: str, token: str) -> Any:
        state = self.interactions_by_token.get(token)
        if state is None or state["payload"]["id"] != iid:
            raise ApiError(404, 10062, "Unknown interaction")
        if state["acked"]:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = rec.json or {}
        rtype, data = body.get("type"), body.get("data") or {}
        payload = state["payload"]
        channel_id = payload["channel_id"]
        state["callbacks"].append({"type": rtype, "data": data})
        message = None
        if rtype in (4, 5):
            if rtype == 5:
                data = {"content": "", "flags": (data.get("flags", 0) | MESSAGE_FLAG_LOADING)}
            message = self.create_message(
                channel_id,
                data,
                rec,
                guild_id=payload.get("guild_id"),
                webhook_id=self.bot_id,
                interaction=payload,
            )
            state["original_id"] = message["id"]
        elif rtype == 7:
            source = payload.get("message") or {}
            if source.get("id") in self.messages:
                message = self.edit_message(source["id"], data, rec)
                state["original_id"] = source["id"]
        elif rtype == 6:
            state["original_id"] = (payload.get("message") or {}).get("id")
        state["acked"] = True
        if rec.query.get("with_response") not in ("1", "true", "True"):
            return NO_CONTENT
        info: dict[str, Any] = {"id": iid, "type": payload["type"]}
        if message is not None:
            info["response_message_id"] = message["id"]
            info["response_message_loading"] = rtype == 5
            info["response_message_ephemeral"] = bool(message["flags"] & MESSAGE_FLAG_EPHEMERAL)
        out: dict[str, Any] = {"interaction": info}
        if message is not None and rtype in (4, 7):
            out["resource"] = {"type": rtype, "message": message}
        return out

    def _webhook_message_id(self: FakeDiscordServer, state: dict[str, Any], mid: str) -> str:
        if mid == "@original":
            if state.get("original_id") not in self.messages:
                raise ApiError(*UNKNOWN_MESSAGE)
            return state["original_id"]
        if mid not in self.messages:
            raise ApiError(*UNKNOWN_MESSAGE)
        return mid

    @_route(
        "GET", r"/api/v\d+/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)"
    )
    async def _get_wh_message(self: FakeDiscordServer, rec: Rec, app: str, token: str, mid: str):
        state = self._interaction_by_token(token)
        return self.messages[self._webhook_message_id(state, mid)]

    @_route(
        "PATCH", r"/api/v\d+/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)"
    )
    async def _patch_wh_message(self: FakeDiscordServer, rec: Rec, app: str, token: str, mid: str):
        state = self._interaction_by_token(token)
        mid = self._webhook_message_id(state, mid)
        flags = self.messages[mid]["flags"]
        if flags & MESSAGE_FLAG_LOADING:
            self.messages[mid]["flags"] = flags & ~MESSAGE_FLAG_LOADING
        return self.edit_message(mid, rec.json or {}, rec)

    @_route(
        "DELETE",
        r"/api/v\d+/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
    )
    async def _delete_wh_message(self: FakeDiscordServer, rec: Rec, app: str, token: str, mid: str):
        state = self._interaction_by_token(token)
        del self.messages[self._webhook_message_id(state, mid)]
        return NO_CONTENT

    @_route("POST", r"/api/v\d+/webhooks/(?P<app>\d+)/(?P<token>[^/]+)")
    async def _followup(self: FakeDiscordServer, rec: Rec, app: str, token: str) -> Any:
        state = self._interaction_by_token(token)
        if not state["acked"]:
            raise ApiError(*UNKNOWN_WEBHOOK)
        payload = state["payload"]
        message = self.create_message(
            payload["channel_id"],
            rec.json or {},
            rec,
            guild_id=payload.get("guild_id"),
            webhook_id=self.bot_id,
            interaction=payload,
        )
        state["followup_ids"].append(message["id"])
        return message if rec.query.get("wait", "").lower() in ("1", "true") else NO_CONTENT
