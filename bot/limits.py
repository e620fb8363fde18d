"""Per-user rate limit and daily character budgets: refusals say when they reset."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.errors import LimitError
from bot.storage.types import NO_SCOPE

if TYPE_CHECKING:
    from bot.app import App
    from bot.context import ChatContext
    from bot.storage import Storage


class RateLimiter:
    """A sliding window of generation commands per user, in memory."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def check(self, platform: str, user_id: str, *, now: float | None = None) -> None:
        """Record a hit, or raise LimitError saying in how many seconds the user may retry."""
        if self.per_minute <= 0:
            return
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault((platform, user_id), deque())
        while hits and now - hits[0] >= 60:
            hits.popleft()
        if len(hits) >= self.per_minute:
            raise LimitError("limit.rate", seconds=max(1, int(60 - (now - hits[0])) + 1))
        hits.append(now)


class UsageMeter:
    """Counts generated characters; writes them in batches (one transaction per flush)."""

    def __init__(self, storage: Storage, delay: float = 0.5) -> None:
        self.storage = storage
        self.delay = delay
        self._pending: dict[tuple[str, str, str, str], int] = {}
        self._flusher: asyncio.Task[None] | None = None

    def add(self, platform: str, user_id: str, scope_id: str, chars: int) -> None:
        """Count `chars` now; they reach the database within `delay` seconds."""
        key = (platform, user_id, scope_id, datetime.now(UTC).date().isoformat())
        self._pending[key] = self._pending.get(key, 0) + chars
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later(), name="usage-flush")

    def pending(
        self, platform: str, *, user_id: str | None = None, scope: str | None = None
    ) -> int:
        """Characters counted today but not yet written, for a user or a scope."""
        today = datetime.now(UTC).date().isoformat()
        return sum(
            chars
            for (p, u, s, day), chars in self._pending.items()
            if p == platform
            and day == today
            and (user_id is None or u == user_id)
            and (scope is None or s == scope)
        )

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.delay)
        await self.flush()

    async def flush(self) -> None:
        """Write everything counted so far."""
        flusher = self._flusher
        if flusher is not None and flusher is not asyncio.current_task():
            flusher.cancel()  # flushing now: no timer left pending at shutdown
            self._flusher = None
        batch, self._pending = self._pending, {}
        try:
            await self.storage.add_usage_many(batch)
        except Exception:
            for key, chars in batch.items():  # keep them for the next flush
                self._pending[key] = self._pending.get(key, 0) + chars
            raise


def scope_of(ctx: ChatContext) -> str:
    """The budget scope: the guild, else the group chat, else none (a private chat)."""
    if ctx.guild_id:
        return ctx.guild_id
    return NO_SCOPE if ctx.is_private else ctx.chat_id


def resets_in(now: datetime | None = None) -> str:
    """Time until the daily budgets reset (UTC midnight), as H:MM."""
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = int((midnight - now).total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


async def budgets(app: App, ctx: ChatContext) -> tuple[int | None, int | None]:
    """The (user, chat) daily character budgets in force here; None = unlimited."""
    scope = await app.storage.get_scope_settings(ctx.platform, scope_of(ctx))
    user = scope.daily_char_budget_user
    chat = scope.daily_char_budget_chat
    return (
        user if user is not None else app.limits.daily_user_chars,
        chat if chat is not None else app.limits.daily_chat_chars,
    )


async def check_budget(app: App, ctx: ChatContext, chars: int) -> None:
    """Refuse (before any Vocu call) a generation that would exceed a daily budget."""
    if await app.storage.get_user_key(ctx.platform, ctx.user_id):
        return  # the user pays with their own key
    user_limit, chat_limit = await budgets(app, ctx)
    if user_limit is not None:
        used = await app.storage.usage_today(ctx.platform, ctx.user_id)
        used += app.usage.pending(ctx.platform, user_id=ctx.user_id)
        if used + chars > user_limit:
            raise LimitError("limit.daily_user", used=used, limit=user_limit, resets=resets_in())
    scope = scope_of(ctx)
    if chat_limit is not None and scope != NO_SCOPE:
        used = await app.storage.scope_usage_today(ctx.platform, scope)
        used += app.usage.pending(ctx.platform, scope=scope)
        if used + chars > chat_limit:
            raise LimitError("limit.daily_chat", used=used, limit=chat_limit, resets=resets_in())


def record_usage(app: App, ctx: ChatContext, chars: int) -> None:
    """Count generated characters against today's budgets (written in batches)."""
    app.usage.add(ctx.platform, ctx.user_id, scope_of(ctx), chars)
