"""/autoread: read a text channel's new messages aloud in the server's voice channel.

Each message is spoken in its author's chosen voice (the same choice /say makes), cleaned up by
bot.readaloud, with "<name> said" when the speaker changes. Only people who are in the bot's
voice channel are read, as the popular TTS bots do, so nobody talks to an empty room.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord

from adapters.discord_app.player import Track
from adapters.discord_app.voice import VoiceManager
from bot import readaloud, synth
from bot.app import App
from bot.context import AudioReply, Capability, Choice

log = logging.getLogger(__name__)


def message_names(message: discord.Message) -> readaloud.Names:
    """What the mentions in `message` stand for, by id."""
    guild = message.guild
    users = {str(u.id): u.display_name for u in message.mentions}
    channels = {str(c.id): c.name for c in message.channel_mentions}
    if guild is not None:  # ids the payload did not resolve: look them up in the cache
        for uid in message.raw_mentions:
            member = guild.get_member(uid)
            if member is not None:
                users.setdefault(str(uid), member.display_name)
        for cid in message.raw_channel_mentions:
            found = guild.get_channel(cid)
            if found is not None:
                channels.setdefault(str(cid), found.name)
    roles = {str(r.id): r.name for r in message.role_mentions}
    return readaloud.Names(users=users, roles=roles, channels=channels)


@dataclass
class AuthorContext:
    """A ChatContext for the author of a message being read: ids only, replies go nowhere."""

    user_id: str
    chat_id: str
    guild_id: str | None
    locale: str
    platform: str = "discord"
    is_private: bool = False
    is_admin: bool = False

    def can(self, capability: Capability) -> bool:
        return False

    async def reply_text(self, text: str, *, private: bool = False) -> None:
        log.debug("autoread reply dropped")

    async def reply_audio(self, audio: AudioReply, *, caption: str | None = None) -> None:
        log.debug("autoread audio dropped")

    async def reply_choices(self, text: str, choices: list[Choice]) -> None:
        log.debug("autoread choices dropped")

    async def ask_confirm(self, question: str, *, yes: str, cancel: str) -> bool:
        return False

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        yield

    async def progress(self, text: str) -> None:
        return None


class AutoReader:
    """Which channels are read aloud (cached per server) and the reading itself."""

    def __init__(self, app: App, voices: VoiceManager) -> None:
        self.app = app
        self.voices = voices
        self.tracker = readaloud.SpeakerTracker()
        self._channels: dict[int, set[str]] = {}

    async def channels(self, guild_id: int) -> set[str]:
        """The server's autoread channel ids (from storage once, then cached)."""
        if guild_id not in self._channels:
            scope = await self.app.storage.get_scope_settings("discord", str(guild_id))
            self._channels[guild_id] = set(scope.autoread_channels)
        return self._channels[guild_id]

    async def set(self, guild_id: int, channel_id: int, on: bool) -> None:
        """Turn reading `channel_id` aloud on or off (persisted)."""
        current = set(await self.channels(guild_id))
        if on:
            current.add(str(channel_id))
        else:
            current.discard(str(channel_id))
            self.tracker.forget(str(channel_id))
        await self.app.storage.update_scope_settings(
            "discord", str(guild_id), autoread_channels=sorted(current)
        )
        self._channels[guild_id] = current

    async def on_message(self, message: discord.Message) -> None:
        """Queue `message` for reading if its channel is read aloud and its author listens."""
        guild, author = message.guild, message.author
        if guild is None or author.bot or not isinstance(author, discord.Member):
            return
        player = self.voices.get(guild.id)
        if player is None or str(message.channel.id) not in await self.channels(guild.id):
            return
        listening = author.voice.channel if author.voice else None
        if listening is None or listening.id != getattr(player.voice.channel, "id", None):
            return
        locale = guild.preferred_locale.value
        body = readaloud.clean(message.content, message_names(message), locale=locale)
        if not body:
            if not message.attachments:
                return
            spoken = readaloud.words(locale, "readaloud.attachment", name=author.display_name)
        else:
            channel_id = str(message.channel.id)
            spoken = self.tracker.narrate(
                channel_id, str(author.id), author.display_name, body, locale=locale
            )
        ctx = AuthorContext(str(author.id), str(message.channel.id), str(guild.id), locale)
        try:
            vocu = await self.app.client_for("discord", ctx.user_id)
            req = await synth.build_request(self.app, ctx, vocu, spoken)
            await readaloud.admit(self.app, ctx, req)
        except Exception as exc:  # no usable voice, over budget…: skip this message quietly
            log.info("autoread skipped a message: %s", type(exc).__name__)
            return
        player.enqueue(Track(readaloud.speech_pcm(self.app, ctx, vocu, req)))
