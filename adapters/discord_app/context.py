"""DiscordContext: the core's ChatContext for one interaction (slash command, click, modal).

Replies go out as the interaction response while it is open, then as follow-ups; once the
interaction token is about to expire (15 minutes, e.g. a long task finishing) they go to the
channel instead. A watchdog defers before Discord's 3-second limit if the core is still busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from adapters.discord_app import pager, views
from adapters.discord_app.voice_message import channel_route, deliver_speech, followup_route
from bot.app import App
from bot.context import AudioReply, Capability, Choice
from bot.text import split_message

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
MESSAGE_LIMIT = 2000
DEFER_AFTER = 2.0  # seconds: Discord drops an interaction not answered within 3 s
TOKEN_LIFETIME = timedelta(minutes=14)  # interaction tokens last 15 minutes; keep a margin
CAPABILITIES = frozenset(Capability)


class DiscordContext:
    """What the core sees of one Discord interaction."""

    platform = "discord"

    def __init__(
        self, app: App, interaction: discord.Interaction[Any], *, private: bool = False
    ) -> None:
        self.app = app
        self.interaction = interaction
        self.user_id = str(interaction.user.id)
        self.chat_id = str(interaction.channel_id or interaction.user.id)
        self.guild_id = str(interaction.guild_id) if interaction.guild_id else None
        self.locale = interaction.locale.value
        # Private commands (e.g. /key) answer only ephemerally, so the exchange is private.
        self.force_private = private
        self.is_private = self.guild_id is None or private
        perms = interaction.permissions
        self.is_admin = self.guild_id is None or perms.manage_guild or perms.administrator
        member_roles = getattr(interaction.user, "roles", [])  # for a server's required role
        self.roles = frozenset(r.name for r in member_roles) | {str(r.id) for r in member_roles}
        self._lock = asyncio.Lock()
        self._loading = False  # we deferred with "thinking" and the original is still loading
        self._watchdog: asyncio.Task[None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start_watchdog(self, delay: float | None = None) -> None:
        """Defer automatically if nothing was sent within `delay` (DEFER_AFTER) seconds."""
        wait = DEFER_AFTER if delay is None else delay
        self._watchdog = asyncio.create_task(self._defer_later(wait), name="discord-defer")

    async def _defer_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock:
            await self._defer()

    async def finish(self) -> None:
        """Stop the watchdog; clear a "thinking" message nothing replaced."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        async with self._lock:
            if self._loading and not self._expired():
                with contextlib.suppress(discord.HTTPException):
                    await self.interaction.delete_original_response()
                self._loading = False

    def _expired(self) -> bool:
        return datetime.now(UTC) - self.interaction.created_at > TOKEN_LIFETIME

    async def _defer(self) -> None:
        """Acknowledge with "thinking…" (once)."""
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(thinking=True, ephemeral=self.force_private)
            self._loading = True

    # ---- ChatContext -----------------------------------------------------------------------
    def can(self, capability: Capability) -> bool:
        return capability in CAPABILITIES

    async def reply_text(self, text: str, *, private: bool = False) -> None:
        for chunk in split_message(text, MESSAGE_LIMIT):
            await self.send(chunk, private=private)

    async def send(
        self, content: str | None = None, *, private: bool = False, **extra: Any
    ) -> None:
        """Send one message (content, view, embeds) the best way the interaction allows."""
        private = private or self.force_private
        async with self._lock:
            msg = await self._send(content, private, extra)
        view = extra.get("view")
        if isinstance(view, views.ConfirmView):
            view.message = msg

    async def _send(self, content: str | None, private: bool, extra: dict[str, Any]) -> Any:
        response = self.interaction.response
        if self._expired():
            target = self.interaction.user if private else self.interaction.channel
            return await target.send(content, allowed_mentions=NO_PINGS, **extra)  # type: ignore[union-attr]
        if not response.is_done():
            sent = await response.send_message(
                content, ephemeral=private, allowed_mentions=NO_PINGS, **extra
            )
            return sent.resource if sent is not None else None
        if self._loading:
            self._loading = False
            if not private or self.force_private:  # the loading message becomes the answer
                return await self.interaction.edit_original_response(
                    content=content, allowed_mentions=NO_PINGS, **extra
                )
            # a public "thinking" message cannot turn ephemeral: remove it, then answer privately
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.delete_original_response()
        return await self.interaction.followup.send(
            content or discord.utils.MISSING,
            ephemeral=private,
            allowed_mentions=NO_PINGS,
            wait=True,
            **extra,
        )

    async def reply_audio(self, audio: AudioReply, *, caption: str | None = None) -> None:
        async with self._lock:
            expired = self._expired()
            if not expired:
                await self._defer()  # transcoding may outlast the 3-second window
        http = self.interaction.client.http
        if expired:
            route, send_file = channel_route(self.chat_id), self._channel_file
        else:
            route = followup_route(self.interaction.application_id, self.interaction.token)
            send_file = self._followup_file
        url = await deliver_speech(http, route, audio, send_file)
        self._loading = False  # the first follow-up replaces the "thinking" message
        if url:
            await self.app.remember_file_id(audio.cache_key, self.platform, url)
        if caption:
            await self.reply_text(caption)

    async def _followup_file(self, file: discord.File) -> discord.Message | None:
        return await self.interaction.followup.send(file=file, allowed_mentions=NO_PINGS, wait=True)

    async def _channel_file(self, file: discord.File) -> discord.Message | None:
        channel = self.interaction.channel
        if not isinstance(channel, discord.abc.Messageable):
            return None
        return await channel.send(file=file, allowed_mentions=NO_PINGS)

    async def reply_choices(self, text: str, choices: list[Choice]) -> None:
        if not choices:
            await self.reply_text(text)
        elif pager.wants_pager(text, choices):
            view = pager.pager(text, choices, self.locale)
            await self.send(view.header, view=view, embeds=view.embeds())
        else:
            await self.send(text[:MESSAGE_LIMIT], view=views.choices_view(choices, self.locale))

    async def ask_confirm(self, question: str, *, yes: str, cancel: str) -> bool:
        view = views.ConfirmView(self.interaction.user.id, question, yes, cancel, self.locale)
        await self.send(question[:MESSAGE_LIMIT], private=True, view=view)
        return await view.result

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        async with self._lock:
            await self._defer()
        yield

    async def progress(self, text: str) -> None:
        async with self._lock:
            response = self.interaction.response
            if self._expired():
                return  # nothing left to edit; the final reply still goes to the channel
            if not response.is_done():
                await response.send_message(
                    text, ephemeral=self.force_private, allowed_mentions=NO_PINGS
                )
                return
            self._loading = False
            await self.interaction.edit_original_response(
                content=text[:MESSAGE_LIMIT], allowed_mentions=NO_PINGS
            )
