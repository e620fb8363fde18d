"""/server: defaults and limits of a server or group (admins only)."""

from __future__ import annotations

from bot.app import App
from bot.context import ChatContext
from bot.errors import NotAllowedError, UsageError
from bot.i18n import t
from bot.limits import budgets, scope_of
from bot.registry import Arg, ArgKind, Args, command
from bot.resolve import resolve_style, resolve_voice

SETTINGS = ("voice", "budget_user", "budget_chat", "cloning", "role")
OFF_WORDS = {"off", "none", "no", "false", "0", "unlimited", "-"}


def _budget(value: str) -> int | None:
    if value.lower() in {"unlimited", "none", "-"}:
        return None
    try:
        number = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise UsageError("server.bad_budget") from None
    if number < 0:
        raise UsageError("server.bad_budget")
    return number


async def _fields(app: App, ctx: ChatContext, name: str, value: str) -> dict[str, object]:
    if name == "voice":
        vocu = await app.client_for(ctx.platform, ctx.user_id)
        voice = resolve_voice(await app.voices(vocu), value)
        return {"voice_id": voice.id, "style_id": resolve_style(voice, None).id}
    if name in ("budget_user", "budget_chat"):
        return {f"daily_char_{name}": _budget(value)}
    if name == "cloning":
        return {"allow_cloning": value.lower() not in OFF_WORDS}
    return {"required_role": None if value.lower() in OFF_WORDS else value}


@command(
    "server",
    Arg("setting", ArgKind.CHOICE, required=False, choices=SETTINGS),
    Arg("value", ArgKind.WORD, required=False),
    admin_only=True,
)
async def server(app: App, ctx: ChatContext, args: Args) -> None:
    """Show or change this server's default voice, daily budgets, cloning and required role."""
    if ctx.is_private:
        raise NotAllowedError("server.group_only")
    name, value = (args.get("setting") or "").lower(), args.get("value")
    if name and name not in SETTINGS:
        raise UsageError("server.usage", choices=", ".join(SETTINGS))
    scope = scope_of(ctx)
    if name and value:
        fields = await _fields(app, ctx, name, value)
        await app.storage.update_scope_settings(ctx.platform, scope, **fields)
        await ctx.reply_text(
            t(ctx.locale, "settings.saved", setting=name, value=value), private=True
        )
        return
    current = await app.storage.get_scope_settings(ctx.platform, scope)
    user_budget, chat_budget = await budgets(app, ctx)
    unlimited = t(ctx.locale, "server.unlimited")
    text = t(
        ctx.locale,
        "server.show",
        voice=current.voice_id or "—",
        budget_user=f"{user_budget:,}" if user_budget is not None else unlimited,
        budget_chat=f"{chat_budget:,}" if chat_budget is not None else unlimited,
        cloning=t(ctx.locale, "on" if current.allow_cloning else "off"),
        role=current.required_role or "—",
    )
    usage = t(ctx.locale, "server.usage", choices=", ".join(SETTINGS))
    await ctx.reply_text(f"{text}\n{usage}", private=True)
