"""/account: balances and quotas."""

from __future__ import annotations

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
    await ctx.reply_text("\n".join(lines), private=True)
