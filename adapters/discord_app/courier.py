"""DiscordCourier: the core's Courier, sending to a channel by id outside any interaction."""

from __future__ import annotations

from typing import Any

import discord

from adapters.discord_app.voice_message import channel_route, deliver_speech
from bot.app import App
from bot.context import AudioReply
from bot.text import split_message

NO_PINGS = discord.AllowedMentions.none()


class DiscordCourier:
    """Delivers late results (a finished task, after a restart) to a Discord channel or DM."""

    def __init__(self, app: App, client: Any) -> None:
        self.app = app
        self.client = client

    async def _channel(self, chat_id: str) -> Any:
        channel = self.client.get_channel(int(chat_id))
        return channel or await self.client.fetch_channel(int(chat_id))

    def _reference(self, chat_id: str, reply_to: str | None) -> discord.MessageReference | None:
        if not reply_to or not reply_to.isdigit():
            return None
        return discord.MessageReference(
            message_id=int(reply_to), channel_id=int(chat_id), fail_if_not_exists=False
        )

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        """Plain text, split at Discord's 2000 characters, pinging nobody."""
        channel = await self._channel(chat_id)
        reference = self._reference(chat_id, reply_to)
        for chunk in split_message(text, 2000):
            await channel.send(chunk, allowed_mentions=NO_PINGS, reference=reference)
            reference = None

    async def send_audio(
        self, chat_id: str, audio: AudioReply, *, reply_to: str | None = None
    ) -> None:
        """A native voice message, or the MP3 when refused (50173) or preferred."""
        channel = await self._channel(chat_id)

        async def send_file(file: discord.File) -> discord.Message:
            sent: discord.Message = await channel.send(file=file, allowed_mentions=NO_PINGS)
            return sent

        url = await deliver_speech(self.client.http, channel_route(chat_id), audio, send_file)
        if url:
            await self.app.remember_file_id(audio.cache_key, "discord", url)
