"""Voice connections per server: join (after checking Connect/Speak), leave when alone or idle."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import discord

from adapters.discord_app.player import IDLE_TIMEOUT, GuildPlayer, Track, VoiceLike
from bot.errors import UserFacingError

log = logging.getLogger(__name__)

VoiceChannel = discord.VoiceChannel | discord.StageChannel
Connector = Callable[[VoiceChannel], Awaitable[VoiceLike]]
REQUIRED = (("view_channel", "View Channel"), ("connect", "Connect"), ("speak", "Speak"))


class VoiceError(UserFacingError):
    """A voice-channel problem with a `discord.*` message key (adapter catalogue)."""


async def connect(channel: VoiceChannel) -> VoiceLike:
    """Connect for real (UDP + DAVE), deafened: the bot never listens."""
    return cast(VoiceLike, await channel.connect(self_deaf=True, timeout=20.0))


def missing_permissions(channel: VoiceChannel) -> list[str]:
    """The permissions the bot lacks to speak in `channel`, by their Discord names."""
    perms = channel.permissions_for(channel.guild.me)
    return [label for flag, label in REQUIRED if not getattr(perms, flag)]


class VoiceManager:
    """One GuildPlayer per server the bot is connected in."""

    def __init__(
        self,
        *,
        connector: Connector = connect,
        problem: str | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.connector = connector
        self.problem = problem  # why voice cannot work here (no Opus…), checked at start-up
        self.idle_timeout = idle_timeout
        self.players: dict[int, GuildPlayer] = {}

    def get(self, guild_id: int | None) -> GuildPlayer | None:
        """The server's player, if connected."""
        return self.players.get(guild_id) if guild_id is not None else None

    @staticmethod
    def member_channel(member: discord.Member | discord.User) -> VoiceChannel:
        """The voice channel the member is in, or a VoiceError saying what to do."""
        if not isinstance(member, discord.Member):
            raise VoiceError("discord.guild_only")
        state = member.voice
        if state is None or state.channel is None:
            raise VoiceError("discord.not_in_voice")
        return state.channel

    async def join(self, member: discord.Member | discord.User) -> GuildPlayer:
        """Join (or move to) the member's voice channel."""
        if self.problem:
            raise VoiceError("discord.voice_unavailable", reason=self.problem)
        channel = self.member_channel(member)
        if missing := missing_permissions(channel):
            raise VoiceError(
                "discord.missing_perms", channel=channel.mention, perms=", ".join(missing)
            )
        guild_id = channel.guild.id
        player = self.players.get(guild_id)
        if player is not None:
            if getattr(player.voice.channel, "id", None) != channel.id:
                await player.voice.move_to(channel)
            return player
        voice = await self.connector(channel)

        async def idle() -> None:
            await self.leave(guild_id)

        player = GuildPlayer(voice, on_idle=idle, idle_timeout=self.idle_timeout)
        self.players[guild_id] = player
        log.info("joined voice in guild %s", guild_id)
        return player

    async def leave(self, guild_id: int | None) -> bool:
        """Disconnect from the server's voice channel; False if not connected."""
        player = self.players.pop(guild_id, None) if guild_id is not None else None
        if player is None:
            return False
        await player.close()
        log.info("left voice in guild %s", guild_id)
        return True

    async def speak(
        self, member: discord.Member | discord.User, track: Track
    ) -> tuple[GuildPlayer, int]:
        """Queue `track` in the member's server, joining their channel first if need be."""
        guild = getattr(member, "guild", None)
        player = self.get(guild.id if guild else None) or await self.join(member)
        return player, player.enqueue(track)

    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        """Forget a connection the bot lost; leave a channel where nobody is left to listen."""
        player = self.players.get(member.guild.id)
        if player is None:
            return
        me = member.guild.me
        if me is not None and member.id == me.id and after.channel is None:
            await self.leave(member.guild.id)  # disconnected by a moderator or by Discord
            return
        channel: Any = player.voice.channel
        listeners = [m for m in getattr(channel, "members", []) if not m.bot]
        if not listeners:
            log.info("alone in voice in guild %s; leaving", member.guild.id)
            await self.leave(member.guild.id)

    async def close(self) -> None:
        """Disconnect everywhere (shutdown)."""
        for guild_id in list(self.players):
            await self.leave(guild_id)
