"""The core registry rendered as Discord app commands, generically, plus the "Speak" menu.

One loop over `visible_commands()`: every Arg becomes a typed option of a generated callback
(WORD/TEXT → string, VOICE/STYLE → string with autocomplete, NUMBER → number, CHOICE →
choices, AUDIO/IMAGE → attachment); SECRET args are asked in a modal, never as options.
Commands with a `group` become `/group sub`. A command added to the registry later appears
without any change here.
"""

from __future__ import annotations

import inspect
import keyword
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from adapters.discord_app import strings
from adapters.discord_app.autocomplete import Completer
from adapters.discord_app.context import DiscordContext
from adapters.discord_app.views import SecretModal
from bot import readaloud
from bot.app import App
from bot.context import Attachment
from bot.registry import REGISTRY, Arg, ArgKind, Command, Where, visible_commands
from bot.router import Invocation, dispatch

log = logging.getLogger(__name__)

MANAGE_SERVER = discord.Permissions(manage_guild=True)
OPTION_TYPES: dict[ArgKind, type] = {
    ArgKind.WORD: str,
    ArgKind.TEXT: str,
    ArgKind.VOICE: str,
    ArgKind.STYLE: str,
    ArgKind.CHOICE: str,
    ArgKind.NUMBER: float,
    ArgKind.AUDIO: discord.Attachment,
    ArgKind.IMAGE: discord.Attachment,
}
Callback = Callable[..., Coroutine[Any, Any, None]]


class Runner:
    """Turns an interaction into one core invocation, with its DiscordContext."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def invoke(
        self,
        interaction: discord.Interaction[Any],
        command: str,
        options: dict[str, Any],
        *,
        text: str = "",
    ) -> None:
        """Dispatch `command` as the interaction's user; the router turns errors into replies."""
        cmd = REGISTRY.get(command.lower())
        ctx = DiscordContext(
            self.app, interaction, private=cmd is not None and cmd.where is Where.PRIVATE
        )
        ctx.start_watchdog()
        try:
            await dispatch(self.app, ctx, Invocation(command, text=text, options=options))
        finally:
            await ctx.finish()

    async def run_line(self, interaction: discord.Interaction[Any], line: str) -> None:
        """Run a picker's command line (`use <id> "style"`) as the clicking user."""
        head, _, rest = line.strip().lstrip("/").partition(" ")
        await self.invoke(interaction, head, {}, text=rest)


def to_attachment(att: discord.Attachment) -> Attachment:
    """A Discord attachment as the core sees it (downloaded only when read)."""
    ctype = (att.content_type or "").split(";")[0] or None
    kind = "voice" if att.is_voice_message() else (ctype or "file").split("/")[0]
    kind = kind if kind in ("voice", "audio", "image", "video") else "file"
    return Attachment(
        filename=att.filename, content_type=ctype, size=att.size, read=att.read, kind=kind
    )


def _value(value: Any) -> Any:
    if isinstance(value, discord.Attachment):
        return to_attachment(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # "2", not "2.0", for counts and budgets
    return value


def _param_name(arg: Arg, index: int) -> str:
    ok = arg.name.isidentifier() and not keyword.iskeyword(arg.name)
    return arg.name if ok else f"arg_{index}"


def _callback(cmd: Command, runner: Runner, completer: Completer) -> Callback:
    """A callback whose signature declares the command's options (discord.py reads it)."""
    secrets = [a for a in cmd.args if a.kind is ArgKind.SECRET]
    shown = {_param_name(a, i): a for i, a in enumerate(cmd.args) if a.kind is not ArgKind.SECRET}

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        options = {shown[k].name: _value(v) for k, v in values.items() if v is not None}
        if not secrets:
            await runner.invoke(interaction, cmd.name, options)
            return

        async def submit(
            modal_interaction: discord.Interaction[Any], typed: dict[str, str]
        ) -> None:
            await runner.invoke(modal_interaction, cmd.name, {**options, **typed})

        modal = SecretModal(cmd.name, secrets, interaction.locale.value, submit)
        await interaction.response.send_modal(modal)

    params = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for name, arg in shown.items():
        kind = OPTION_TYPES[arg.kind]
        annotation, default = (
            (kind, inspect.Parameter.empty) if arg.required else (kind | None, None)
        )
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]

    describe = {n: locale_str(a.description("en"), key=f"arg.{a.name}") for n, a in shown.items()}
    app_commands.describe(**describe)(callback)
    if renames := {n: a.name for n, a in shown.items() if n != a.name}:
        app_commands.rename(**renames)(callback)
    if choices := {
        n: [app_commands.Choice(name=c, value=c) for c in a.choices[:25]]
        for n, a in shown.items()
        if a.choices
    }:
        app_commands.choices(**choices)(callback)
    completions = {ArgKind.VOICE: completer.voices, ArgKind.STYLE: completer.styles}
    if auto := {
        n: completions[a.kind] for n, a in shown.items() if a.kind in completions and not a.choices
    }:
        app_commands.autocomplete(**auto)(callback)
    return callback


def slash_command(
    cmd: Command, runner: Runner, completer: Completer, *, parent: app_commands.Group | None = None
) -> app_commands.Command[Any, ..., None]:
    """One registry command as an app command (a subcommand when `parent` is given)."""
    callback = _callback(cmd, runner, completer)
    if cmd.admin_only and parent is None:
        app_commands.default_permissions(manage_guild=True)(callback)
    name = (cmd.sub or cmd.name) if parent is not None else cmd.name
    description = locale_str(cmd.description("en"), key=f"cmd.{cmd.name}")
    return app_commands.Command(
        name=name,
        description=description,
        callback=callback,
        parent=parent,
        extras={"core": cmd.name},
    )


def _group(name: str, members: list[Command]) -> app_commands.Group:
    key = f"group.{name}"
    if strings.has(key):
        description = strings.text("en", key)
    else:
        description = " · ".join(c.sub or c.name for c in members)
    admin = all(c.admin_only for c in members)
    return app_commands.Group(
        name=name,
        description=locale_str(description[:100], key=key),
        default_permissions=MANAGE_SERVER if admin else None,
    )


def render_registry(
    tree: app_commands.CommandTree[Any], runner: Runner, completer: Completer
) -> None:
    """Add every visible registry command to `tree` (groups as `/group sub`)."""
    groups: dict[str, list[Command]] = {}
    for cmd in visible_commands():
        if cmd.group:
            groups.setdefault(cmd.group, []).append(cmd)
        elif tree.get_command(cmd.name) is None:
            tree.add_command(slash_command(cmd, runner, completer))
    for name, members in groups.items():
        if tree.get_command(name) is not None:
            log.warning("command group /%s clashes with a command of that name; skipped", name)
            continue
        group = _group(name, members)
        for cmd in members[:25]:
            group.add_command(slash_command(cmd, runner, completer, parent=group))
        tree.add_command(group)


def speak_menu(
    runner: Runner, names: Callable[[discord.Message], readaloud.Names]
) -> app_commands.ContextMenu:
    """The message context menu "Speak this message": /say with the message's cleaned text."""

    async def speak_message(
        interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        spoken = readaloud.clean(message.content, names(message), locale=interaction.locale.value)
        await runner.invoke(interaction, "say", {"text": spoken})

    label = strings.text("en", "discord.speak_message")
    return app_commands.ContextMenu(
        name=locale_str(label, key="discord.speak_message"), callback=speak_message
    )


class CatalogTranslator(app_commands.Translator):
    """Chinese names and descriptions from the catalogues (English is the default)."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        if not key or not locale.value.startswith("zh"):
            return None
        translated = strings.text("zh", key)
        limit = (
            32 if context.location is app_commands.TranslationContextLocation.command_name else 100
        )
        return translated[:limit] if translated not in (key, strings.text("en", key)) else None
