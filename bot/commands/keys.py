"""/key set|clear: the user's own Vocu key, encrypted at rest, never echoed or logged."""

from __future__ import annotations

import re

from bot.app import App
from bot.context import Capability, ChatContext
from bot.errors import NotAllowedError, UsageError, UserFacingError
from bot.i18n import t
from bot.registry import Arg, ArgKind, Args, command
from bot.vocu import errors as ve
from bot.vocu.client import VocuClient

KEY_SHAPE = re.compile(r"^[A-Za-z0-9._\-]{8,256}$")


@command(
    "key",
    Arg("action", ArgKind.CHOICE, choices=("set", "clear")),
    Arg("key", ArgKind.SECRET, required=False),
)
async def key(app: App, ctx: ChatContext, args: Args) -> None:
    """Use your own Vocu API key for your requests (private chats only)."""
    action = (args.get("action") or "").lower()
    secret = (args.get("key") or "").strip()
    if not (ctx.is_private or ctx.can(Capability.PRIVATE_REPLY)):
        raise NotAllowedError("key.private_only" if not secret else "key.leaked")
    if action == "clear":
        old = await app.storage.get_user_key(ctx.platform, ctx.user_id)
        await app.storage.clear_user_key(ctx.platform, ctx.user_id)
        if old:
            await app.forget_client(old)
        await ctx.reply_text(t(ctx.locale, "key.cleared"), private=True)
        return
    if action != "set":
        raise UsageError("key.usage")
    if not KEY_SHAPE.match(secret):
        raise UsageError("key.bad_shape")
    balance = await _verify(app, secret)
    old = await app.storage.get_user_key(ctx.platform, ctx.user_id)
    await app.storage.set_user_key(ctx.platform, ctx.user_id, secret)
    if old and old != secret:
        await app.forget_client(old)
    await ctx.reply_text(t(ctx.locale, "key.saved", balance=f"{balance:,.0f}"), private=True)


async def _verify(app: App, secret: str) -> float:
    """Check the key with one account call; a rejected key is never stored."""
    async with VocuClient(secret, base_url=app.vocu.base_url) as probe:
        try:
            return (await probe.account.info()).total_balance
        except ve.Unauthorized:
            raise UserFacingError("key.rejected") from None
