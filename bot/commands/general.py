"""/start and /help."""

from __future__ import annotations

from bot.app import App
from bot.context import ChatContext
from bot.i18n import t
from bot.registry import Arg, ArgKind, Args, command, visible_commands


def help_text(locale: str | None) -> str:
    """Every visible command with its usage and description."""
    lines = [t(locale, "help.header")]
    for cmd in visible_commands():
        lines.append(f"{cmd.usage(locale)} — {cmd.description(locale)}")
    return "\n".join(lines)


@command("start", Arg("payload", ArgKind.WORD, required=False))
async def start(app: App, ctx: ChatContext, args: Args) -> None:
    """Welcome; `/start import_<id>` (a deep link) imports a shared voice."""
    payload = args.get("payload") or ""
    if payload.startswith("import_"):
        from bot.commands.voices import import_voice

        await import_voice(app, ctx, Args(values={"share_id": payload.removeprefix("import_")}))
        return
    await ctx.reply_text(t(ctx.locale, "start.welcome") + "\n\n" + help_text(ctx.locale))


@command("help")
async def help_(app: App, ctx: ChatContext, args: Args) -> None:
    """List every command."""
    await ctx.reply_text(help_text(ctx.locale))
