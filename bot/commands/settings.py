"""/settings: delivery, preset, speed, language."""

from __future__ import annotations

from bot.app import App
from bot.context import Capability, ChatContext, Choice
from bot.errors import UsageError
from bot.i18n import LANGUAGES, t
from bot.registry import Arg, ArgKind, Args, command
from bot.synth import PRESETS

SETTINGS = ("delivery", "preset", "speed", "language")
DELIVERY = ("voice", "file")


def _parse(name: str, value: str) -> dict[str, object]:
    value = value.strip().lower()
    if name == "delivery":
        if value not in DELIVERY:
            raise UsageError("settings.bad_delivery", choices=", ".join(DELIVERY))
        return {"delivery": value}
    if name == "preset":
        if value not in PRESETS:
            raise UsageError("settings.bad_preset", choices=", ".join(PRESETS))
        return {"preset": value}
    if name == "speed":
        try:
            speed = float(value)
        except ValueError:
            raise UsageError("settings.bad_speed") from None
        if not 0.5 <= speed <= 2.0:
            raise UsageError("settings.bad_speed")
        return {"speed": speed}
    if value not in LANGUAGES:
        raise UsageError("settings.bad_language", choices=", ".join(LANGUAGES))
    return {"language": value}


@command(
    "settings",
    Arg("setting", ArgKind.CHOICE, required=False, choices=SETTINGS),
    Arg("value", ArgKind.WORD, required=False),
)
async def settings(app: App, ctx: ChatContext, args: Args) -> None:
    """Show or change the user's settings."""
    name, value = (args.get("setting") or "").lower(), args.get("value")
    if name and name not in SETTINGS:
        raise UsageError("settings.usage", choices=", ".join(SETTINGS))
    if name and value:
        fields = _parse(name, value)
        await app.storage.update_user_settings(ctx.platform, ctx.user_id, **fields)
        locale = str(fields.get("language") or ctx.locale)
        await ctx.reply_text(t(locale, "settings.saved", setting=name, value=value), private=True)
        return
    s = await app.storage.get_user_settings(ctx.platform, ctx.user_id)
    text = t(
        ctx.locale,
        "settings.show",
        delivery=s.delivery,
        preset=s.preset or "balance",
        speed=s.speed or 1.0,
        language=s.language or ctx.locale,
    )
    if name and ctx.can(Capability.BUTTONS):
        options = {
            "delivery": DELIVERY,
            "preset": PRESETS,
            "language": LANGUAGES,
            "speed": ("0.75", "1.0", "1.25", "1.5"),
        }
        await ctx.reply_choices(text, [Choice(o, f"settings {name} {o}") for o in options[name]])
        return
    await ctx.reply_text(
        text + "\n" + t(ctx.locale, "settings.usage", choices=", ".join(SETTINGS)), private=True
    )
