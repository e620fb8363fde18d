"""/say: text to speech in the user's voice."""

from __future__ import annotations

import logging

from bot import synth
from bot.app import App
from bot.context import ChatContext
from bot.errors import UserFacingError
from bot.jobs import runner_for
from bot.registry import Arg, ArgKind, Args, command

log = logging.getLogger(__name__)


@command(
    "say",
    Arg("text", ArgKind.TEXT),
    Arg("voice", ArgKind.VOICE, required=False, positional=False),
    Arg("style", ArgKind.STYLE, required=False, positional=False),
    Arg("preset", ArgKind.CHOICE, required=False, choices=synth.PRESETS, positional=False),
    Arg("speed", ArgKind.NUMBER, required=False, positional=False),
)
async def say(app: App, ctx: ChatContext, args: Args) -> None:
    """Speak the text in the user's current voice."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    req = await synth.build_request(
        app,
        ctx,
        vocu,
        args.get("text"),
        voice=args.get("voice"),
        style=args.get("style"),
        preset=args.get("preset"),
        speed=args.get("speed"),
    )
    async with ctx.working():
        reply = await synth.speak(app, ctx, vocu, req)
    try:
        await ctx.reply_audio(reply)
    except Exception:
        log.exception("delivery of paid audio failed; kept for a later delivery")
        await runner_for(app).deliver_later(ctx, reply)  # nothing paid for is lost
        raise UserFacingError("say.delivery_failed") from None
