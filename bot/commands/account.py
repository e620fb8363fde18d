"""/account: balances and quotas."""

from __future__ import annotations

from bot import limits
from bot.app import App
from bot.context import ChatContext
from bot.i18n import t
from bot.registry import Args, command


def _num(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@command("account")
async def account(app: App, ctx: ChatContext, args: Args) -> None:
    """The total balance (credit + bonusCredit), its parts, and concurrency quotas."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    info = await vocu.account.info()
    quota = info.quota
    lines = [
        t(ctx.locale, "account.balance", total=_num(info.total_balance)),
        t(ctx.locale, "account.parts", credit=_num(info.credit), bonus=_num(info.bonus_credit)),
    ]
    if quota is not None:
        lines.append(
            t(
                ctx.locale,
                "account.quota",
                sync=_num((quota.sync_base_concurrent or 0) + (quota.sync_paid_concurrent or 0)),
                async_=_num((quota.async_base_concurrent or 0) + (quota.async_hp_concurrent or 0)),
            )
        )
    lines.append(await _usage_line(app, ctx))
    await ctx.reply_text("\n".join(lines), private=True)


async def _usage_line(app: App, ctx: ChatContext) -> str:
    """Today's usage and the remaining daily budget (or that the user's own key pays)."""
    used = await app.storage.usage_today(ctx.platform, ctx.user_id)
    used += app.usage.pending(ctx.platform, user_id=ctx.user_id)
    if await app.storage.get_user_key(ctx.platform, ctx.user_id):
        return t(ctx.locale, "account.own_key", used=_num(used))
    user_limit, _ = await limits.budgets(app, ctx)
    if user_limit is None:
        return t(ctx.locale, "account.usage_unlimited", used=_num(used))
    return t(
        ctx.locale,
        "account.usage",
        used=_num(used),
        left=_num(max(0, user_limit - used)),
        limit=_num(user_limit),
        resets=limits.resets_in(),
    )
