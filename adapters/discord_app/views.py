"""Buttons, select menus and modals: confirmations, pickers, secret entry.

Picker buttons and selects carry the command line they run in their custom id (a discord.py
DynamicItem), so they keep working after a restart; clicking runs it as the clicking user.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, cast

import discord

from adapters.discord_app.strings import text
from bot.context import Choice
from bot.i18n import t
from bot.registry import Arg

CONFIRM_TIMEOUT = 120.0
PICKER_TIMEOUT = 900.0
BUTTONS_MAX = 5  # more choices than this become a select menu
SELECT_MAX = 25
RUN_PREFIX = "vocu:run:"
PICK_ID = "vocu:pick"
CUSTOM_ID_MAX = 100


class LineRunner(Protocol):
    """The client: runs a command line (from a picker) as the user of an interaction."""

    async def run_line(self, interaction: discord.Interaction[Any], line: str) -> None: ...


async def run_choice(interaction: discord.Interaction[Any], line: str) -> None:
    """Run a picked command line through the client that received the click."""
    await cast(LineRunner, interaction.client).run_line(interaction, line)


class RunButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vocu:run:(?P<line>.+)"):
    """A button whose custom id is `vocu:run:<command line>`."""

    def __init__(self, label: str, line: str) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label[:80] or "…", custom_id=RUN_PREFIX + line, style=discord.ButtonStyle.primary
        )
        super().__init__(button)
        self.line = line

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> RunButton:
        return cls(getattr(item, "label", None) or "", match["line"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await run_choice(interaction, self.line)


class PickSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"vocu:pick"):
    """A select menu whose option values are command lines."""

    def __init__(self, choices: Sequence[Choice] = (), placeholder: str | None = None) -> None:
        options = [
            discord.SelectOption(label=c.label[:100] or "…", value=c.command) for c in choices
        ]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=PICK_ID, placeholder=placeholder, options=options[:SELECT_MAX]
        )
        super().__init__(select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> PickSelect:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        values = data.get("values") or []
        if values:
            await run_choice(interaction, str(values[0]))


def fits(choices: Sequence[Choice]) -> bool:
    """Whether every command line fits in a custom id / select value."""
    return all(len(RUN_PREFIX + c.command) <= CUSTOM_ID_MAX for c in choices)


def choices_view(choices: Sequence[Choice], locale: str | None) -> discord.ui.View:
    """Buttons for a few choices, a select menu for more (at most 25)."""
    view = discord.ui.View(timeout=None)
    choices = [c for c in choices if len(RUN_PREFIX + c.command) <= CUSTOM_ID_MAX][:SELECT_MAX]
    if len(choices) <= BUTTONS_MAX:
        for choice in choices:
            view.add_item(RunButton(choice.label, choice.command))
    else:
        view.add_item(PickSelect(choices, placeholder=text(locale, "discord.pick")))
    return view


class _Answer(discord.ui.Button["ConfirmView"]):
    def __init__(self, label: str, value: bool, custom_id: str) -> None:
        style = discord.ButtonStyle.danger if not value else discord.ButtonStyle.success
        super().__init__(label=label[:80], style=style, custom_id=custom_id)
        self.value = value

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        assert self.view is not None
        await self.view.answer(interaction, self.value, self.label or "")


class ConfirmView(discord.ui.View):
    """Two buttons only the asking user may press; no answer within the timeout means no."""

    def __init__(
        self, user_id: int, question: str, yes: str, cancel: str, locale: str | None
    ) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.user_id, self.question, self.locale = user_id, question, locale
        self.result: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.message: discord.Message | None = None
        nonce = secrets.token_hex(6)
        self.add_item(_Answer(yes, True, f"vocu:confirm:{nonce}:yes"))
        self.add_item(_Answer(cancel, False, f"vocu:confirm:{nonce}:no"))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.user_id:
            return True
        await interaction.response.send_message(
            text(self.locale, "discord.not_yours"),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return False

    async def answer(self, interaction: discord.Interaction[Any], value: bool, label: str) -> None:
        self.stop()
        await interaction.response.edit_message(content=f"{self.question}\n→ {label}", view=None)
        if not self.result.done():
            self.result.set_result(value)

    async def on_timeout(self) -> None:
        if not self.result.done():
            self.result.set_result(False)
        if self.message is not None:
            try:
                await self.message.edit(
                    content=f"{self.question}\n{text(self.locale, 'discord.expired')}", view=None
                )
            except discord.HTTPException:
                pass  # the message may be gone or the token expired; nothing to tidy


SecretSubmit = Callable[[discord.Interaction[Any], dict[str, str]], Awaitable[None]]


class SecretModal(discord.ui.Modal):
    """Asks for SECRET arguments (API keys) so they are never typed into the channel."""

    def __init__(
        self, command: str, args: Sequence[Arg], locale: str | None, submit: SecretSubmit
    ) -> None:
        super().__init__(
            title=text(locale, "discord.secret_title", command=command)[:45], timeout=600
        )
        self._submit = submit
        self.inputs: dict[str, discord.ui.TextInput[Any]] = {}
        for arg in args:
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=t(locale, f"argname.{arg.name}")[:45],
                placeholder=text(locale, "discord.secret_hint")[:100],
                required=arg.required,
                custom_id=f"secret:{arg.name}",
                max_length=400,
            )
            self.inputs[arg.name] = field
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        values = {
            name: field.value.strip() for name, field in self.inputs.items() if field.value.strip()
        }
        await self._submit(interaction, values)
