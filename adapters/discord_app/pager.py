"""Long pickers (e.g. /voices) as pages of embeds, one per choice with its avatar.

A choice's details come from its optional `detail`/`image` attributes when the core sets them,
else from the line of the reply text that names it (the core lists one item per line).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from adapters.discord_app.strings import text
from adapters.discord_app.views import PICKER_TIMEOUT, RunButton, fits
from bot.context import Choice

PAGE_SIZE = 5
EMBED_COLOUR = 0x5865F2


@dataclass(frozen=True, slots=True)
class Card:
    """One embed of the pager."""

    choice: Choice
    detail: str
    image: str | None


def cards(text_body: str, choices: Sequence[Choice]) -> list[Card] | None:
    """One card per choice, or None when the reply is not a listing of the choices."""
    lines = [line.strip() for line in text_body.splitlines()[1:] if line.strip()]
    found: list[Card] = []
    for choice in choices:
        detail = getattr(choice, "detail", None) or next(
            (ln for ln in lines if choice.label in ln), None
        )
        if detail is None:
            return None
        found.append(Card(choice, detail, getattr(choice, "image", None)))
    return found


def wants_pager(text_body: str, choices: Sequence[Choice]) -> bool:
    """Page through embeds when every choice is one item of a listing (and fits a button)."""
    return len(choices) > 1 and fits(choices) and cards(text_body, choices) is not None


class PagerView(discord.ui.View):
    """Previous/Next through pages of cards; each card's button runs its choice."""

    def __init__(self, header: str, items: list[Card], locale: str | None) -> None:
        super().__init__(timeout=PICKER_TIMEOUT)
        self.header, self.items, self.locale = header, items, locale
        self.page = 0
        self.nonce = secrets.token_hex(6)
        self.pages = max(1, math.ceil(len(items) / PAGE_SIZE))
        self._render_items()

    def _slice(self) -> list[Card]:
        start = self.page * PAGE_SIZE
        return self.items[start : start + PAGE_SIZE]

    def embeds(self) -> list[discord.Embed]:
        """The embeds of the current page (the last one carries the page footer)."""
        out = []
        for card in self._slice():
            embed = discord.Embed(
                title=card.choice.label[:256], description=card.detail[:4096], colour=EMBED_COLOUR
            )
            if card.image:
                embed.set_thumbnail(url=card.image)
            out.append(embed)
        if out:
            footer = text(self.locale, "discord.page", page=self.page + 1, pages=self.pages)
            out[-1].set_footer(text=footer)
        return out

    def _render_items(self) -> None:
        self.clear_items()
        for card in self._slice():
            self.add_item(RunButton(card.choice.label, card.choice.command))
        if self.pages > 1:
            last = self.pages - 1
            self.add_item(
                _Turn(text(self.locale, "discord.previous"), -1, self.nonce, self.page == 0)
            )
            self.add_item(
                _Turn(text(self.locale, "discord.next"), 1, self.nonce, self.page >= last)
            )

    async def turn(self, interaction: discord.Interaction[Any], step: int) -> None:
        """Show the previous/next page in place."""
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._render_items()
        await interaction.response.edit_message(
            content=self.header, embeds=self.embeds(), view=self
        )


class _Turn(discord.ui.Button[PagerView]):
    def __init__(self, label: str, step: int, nonce: str, disabled: bool) -> None:
        custom_id = f"vocu:page:{nonce}:{'next' if step > 0 else 'prev'}"
        style = discord.ButtonStyle.secondary
        super().__init__(label=label, style=style, disabled=disabled, row=1, custom_id=custom_id)
        self.step = step

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        assert self.view is not None
        await self.view.turn(interaction, self.step)


def pager(text_body: str, choices: Sequence[Choice], locale: str | None) -> PagerView:
    """The pager for a listing reply (call only when `wants_pager`)."""
    items = cards(text_body, choices) or []
    header = text_body.splitlines()[0] if text_body else ""
    return PagerView(header, items, locale)
