"""Payload builders for the fake Discord server (users, guilds, messages, interactions).

Everything here is plain JSON-able dicts shaped like Discord API v10 objects, complete
enough for discord.py 2.7 to parse.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
BOT_ID = "1000"
GUILD_ID = "3000"
TEXT_CHANNEL_ID = "2001"
VOICE_CHANNEL_ID = "2002"
ADMIN_ROLE_ID = "3100"
ALICE_ID = "4001"
BOB_ID = "4002"

# Permission bits (https://discord.com/developers/docs/topics/permissions)
P_ADD_REACTIONS = 1 << 6
P_ADMINISTRATOR = 1 << 3
P_VIEW_CHANNEL = 1 << 10
P_SEND_MESSAGES = 1 << 11
P_EMBED_LINKS = 1 << 14
P_ATTACH_FILES = 1 << 15
P_READ_HISTORY = 1 << 16
P_CONNECT = 1 << 20
P_SPEAK = 1 << 21
P_USE_APP_COMMANDS = 1 << 31
P_SEND_VOICE_MESSAGES = 1 << 46
ALL_PERMISSIONS = (1 << 53) - 1
DEFAULT_PERMISSIONS = (
    P_ADD_REACTIONS
    | P_VIEW_CHANNEL
    | P_SEND_MESSAGES
    | P_EMBED_LINKS
    | P_ATTACH_FILES
    | P_READ_HISTORY
    | P_CONNECT
    | P_SPEAK
    | P_USE_APP_COMMANDS
    | P_SEND_VOICE_MESSAGES
)

MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7
MESSAGE_FLAG_VOICE = 1 << 13

_counter = itertools.count(1)


def snowflake() -> str:
    """A fresh, increasing, realistic snowflake (timestamp-based so created_at works)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_counter) & 0x3FFFFF))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def make_user(user_id: str, username: str, *, bot: bool = False, **extra: Any) -> dict[str, Any]:
    user = {
        "id": str(user_id),
        "username": username,
        "global_name": None if bot else username.capitalize(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
    }
    user.update(extra)
    return user


def make_role(role_id: str, name: str, permissions: int, position: int = 0) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def make_channel(
    channel_id: str, name: str, *, type: int = 0, guild_id: str | None = GUILD_ID, position: int = 0
) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "id": str(channel_id),
        "type": type,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "flags": 0,
    }
    if guild_id is not None:
        channel["guild_id"] = str(guild_id)
    if type == 0:
        channel.update(topic=None, last_message_id=None, rate_limit_per_user=0)
    elif type == 2:
        channel.update(bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
        channel.update(last_message_id=None, rate_limit_per_user=0)
    return channel


def make_dm_channel(channel_id: str, recipient: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 1,
        "last_message_id": None,
        "recipients": [recipient],
        "flags": 0,
    }


def make_member(
    user: dict[str, Any], roles: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    member = {
        "user": user,
        "nick": None,
        "avatar": None,
        "roles": [str(r) for r in roles or []],
        "joined_at": "2024-01-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    member.update(extra)
    return member


def make_guild(guild_id: str = GUILD_ID, name: str = "Test Guild", *, bot_id: str = BOT_ID):
    """Default guild spec: text channel 2001, voice channel 2002, @everyone + Admin roles,
    members bot (1000), alice (4001, admin) and bob (4002)."""
    bot = make_user(bot_id, "vocu-bot", bot=True)
    alice = make_user(ALICE_ID, "alice")
    bob = make_user(BOB_ID, "bob")
    return {
        "id": str(guild_id),
        "name": name,
        "owner_id": ALICE_ID,
        "preferred_locale": "en-US",
        "channels": [
            make_channel(TEXT_CHANNEL_ID, "general", type=0, guild_id=guild_id),
            make_channel(VOICE_CHANNEL_ID, "Voice", type=2, guild_id=guild_id, position=1),
        ],
        "roles": [
            make_role(guild_id, "@everyone", DEFAULT_PERMISSIONS),
            make_role(ADMIN_ROLE_ID, "Admin", DEFAULT_PERMISSIONS | P_ADMINISTRATOR, position=1),
        ],
        "members": {
            bot["id"]: make_member(bot),
            alice["id"]: make_member(alice, [ADMIN_ROLE_ID]),
            bob["id"]: make_member(bob),
        },
        "voice_states": [],
    }


def member_permissions(guild: dict[str, Any], user_id: str) -> int:
    member = guild["members"].get(str(user_id))
    if member is None:
        return 0
    if str(user_id) == guild.get("owner_id"):
        return ALL_PERMISSIONS
    roles = {r["id"]: int(r["permissions"]) for r in guild["roles"]}
    perms = roles.get(guild["id"], 0)
    for role_id in member["roles"]:
        perms |= roles.get(role_id, 0)
    return ALL_PERMISSIONS if perms & P_ADMINISTRATOR else perms


def guild_create_payload(guild: dict[str, Any]) -> dict[str, Any]:
    members = list(guild["members"].values())
    return {
        "id": guild["id"],
        "name": guild["name"],
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": guild["owner_id"],
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": guild["roles"],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": guild.get("preferred_locale", "en-US"),
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(members),  # == len(members) -> guild counts as chunked
        "voice_states": guild["voice_states"],
        "members": members,
        "channels": guild["channels"],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def make_message(
    channel_id: str,
    author: dict[str, Any],
    content: str = "",
    *,
    guild_id: str | None = None,
    message_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "id": message_id or snowflake(),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": [],
        "embeds": [],
        "reactions": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": [],
        "sticker_items": [],
    }
    if guild_id is not None:
        msg["guild_id"] = str(guild_id)
    msg.update(extra)
    return msg


def complete_attachment(att: dict[str, Any]) -> dict[str, Any]:
    """Fill fields discord.py requires on a (resolved) attachment dict."""
    out = dict(att)
    out["id"] = str(out["id"])
    out.setdefault("filename", "file.bin")
    out.setdefault("size", 0)
    out.setdefault("url", f"https://cdn.invalid/attachments/{out['id']}/{out['filename']}")
    out.setdefault("proxy_url", out["url"])
    return out


def option_type_for(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def build_options(
    options: Any, schema: list[dict[str, Any]] | None, focused: str | None = None
) -> list[dict[str, Any]]:
    """Accept a raw option list or a {name: value} mapping (types from the registered
    command schema when known, else inferred). ``focused`` marks the autocomplete option."""
    if options is None:
        return []
    if isinstance(options, dict):
        types = {o["name"]: o.get("type", 3) for o in schema or []}
        options = [
            {"name": k, "type": types.get(k, option_type_for(v)), "value": v}
            for k, v in options.items()
        ]
    out = [dict(o) for o in options]
    if focused is not None:
        for o in out:
            if o["name"] == focused:
                o["focused"] = True
    return out


def modal_components(components: Any) -> list[dict[str, Any]]:
    """A raw modal-submit component list, or {custom_id: value} -> action rows of text inputs."""
    if isinstance(components, dict):
        return [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": value}]}
            for cid, value in components.items()
        ]
    return list(components)


def find_component(components: list[dict[str, Any]], custom_id: str) -> bool:
    for comp in components:
        if comp.get("custom_id") == custom_id:
            return True
        children = list(comp.get("components") or [])
        for key in ("component", "accessory"):
            if comp.get(key):
                children.append(comp[key])
        if find_component(children, custom_id):
            return True
    return False
