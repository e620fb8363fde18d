"""Autocomplete for voice and style options, from the user's live (briefly cached) voice list."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot import synth
from bot.app import App
from bot.i18n import t
from bot.resolve import resolve_voice, status_key
from bot.vocu.models import Style, Voice

log = logging.getLogger(__name__)

LIMIT = 25  # Discord shows at most 25 suggestions
T = TypeVar("T", Voice, Style)


def _ranked(items: Iterable[T], current: str) -> list[T]:
    """Items whose name or id contains `current`, prefix matches first."""
    query = current.strip().casefold()
    hits = [
        i for i in items if not query or query in _name(i).casefold() or query == i.id.casefold()
    ]
    return sorted(hits, key=lambda i: not _name(i).casefold().startswith(query))[:LIMIT]


def _name(item: Voice | Style) -> str:
    return item.name or item.id


class Completer:
    """The autocomplete callbacks; any failure shows no suggestions rather than an error."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def voices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """The user's voices matching what they typed; not-ready ones say so."""
        try:
            vocu = await self.app.client_for("discord", str(interaction.user.id))
            found = await self.app.voices(vocu)
        except Exception:
            log.warning("voice autocomplete failed", exc_info=True)
            return []
        locale = interaction.locale.value
        choices = []
        for voice in _ranked(found, current):
            label = _name(voice)
            if not voice.is_usable:
                label = f"{label} ({t(locale, f'status.{status_key(voice)}')})"
            choices.append(app_commands.Choice(name=label[:100], value=voice.id[:100]))
        return choices

    async def styles(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Styles of the voice chosen in the same command (else of the user's current voice)."""
        try:
            voice = await self._chosen_voice(interaction)
        except Exception:  # an unknown or ambiguous voice simply has no suggestions
            return []
        return [
            app_commands.Choice(name=_name(style)[:100], value=style.id[:100])
            for style in _ranked(voice.styles, current)
        ]

    async def _chosen_voice(self, interaction: discord.Interaction[Any]) -> Voice:
        from adapters.discord_app.context import DiscordContext  # a context only for ids

        vocu = await self.app.client_for("discord", str(interaction.user.id))
        query = getattr(interaction.namespace, "voice", None)
        if query:
            return resolve_voice(await self.app.voices(vocu), str(query))
        voice, _ = await synth.current_voice(self.app, DiscordContext(self.app, interaction), vocu)
        return voice
