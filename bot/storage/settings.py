"""User settings, guild/chat settings, encrypted API keys and daily usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select

from .base import StoreBase
from .batching import Coalescer
from .engine import upsert, upsert_many
from .models import ScopeRow, UsageRow, UserKeyRow, UserRow
from .types import DELIVERIES, NO_SCOPE, PRESETS, ScopeSettings, UserSettings

R = TypeVar("R")
USER_FIELDS = frozenset(
    {"voice_id", "style_id", "delivery", "preset", "speed", "language", "consented_clone_at"}
)
SCOPE_FIELDS = frozenset(
    {
        "voice_id",
        "style_id",
        "daily_char_budget_user",
        "daily_char_budget_chat",
        "allow_cloning",
        "required_role",
        "autoread_channels",
    }
)
MAX_AUTOREAD_CHANNELS = 50


def _check_user_fields(fields: dict[str, Any]) -> None:
    """Reject unknown fields and out-of-range values (programming errors, not user input)."""
    unknown = set(fields) - USER_FIELDS
    if unknown:
        raise TypeError(f"unknown user settings: {sorted(unknown)}")
    if "delivery" in fields and fields["delivery"] not in DELIVERIES:
        raise ValueError(f"delivery must be one of {sorted(DELIVERIES)}")
    if fields.get("preset") is not None and fields["preset"] not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)} or None")
    speed = fields.get("speed")
    if speed is not None and not (isinstance(speed, int | float) and speed > 0):
        raise ValueError("speed must be a positive number or None")
    when = fields.get("consented_clone_at")
    if when is not None and not isinstance(when, datetime):
        raise TypeError("consented_clone_at must be a datetime or None")


def _check_scope_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate scope fields; returns them with autoread_channels as a list of str."""
    unknown = set(fields) - SCOPE_FIELDS
    if unknown:
        raise TypeError(f"unknown scope settings: {sorted(unknown)}")
    for name in ("daily_char_budget_user", "daily_char_budget_chat"):
        value = fields.get(name)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ValueError(f"{name} must be a non-negative int or None")
    if "allow_cloning" in fields and not isinstance(fields["allow_cloning"], bool):
        raise TypeError("allow_cloning must be a bool")
    if "autoread_channels" in fields:
        channels = [str(c) for c in fields["autoread_channels"] or ()]
        if len(channels) > MAX_AUTOREAD_CHANNELS:
            raise ValueError(f"at most {MAX_AUTOREAD_CHANNELS} autoread channels")
        fields = {**fields, "autoread_channels": list(dict.fromkeys(channels))}
    return fields


def _user(row: UserRow) -> UserSettings:
    """Row → record."""
    return UserSettings(
        platform=row.platform,
        user_id=row.user_id,
        voice_id=row.voice_id,
        style_id=row.style_id,
        delivery=row.delivery,  # type: ignore[arg-type]  # validated on write
        preset=row.preset,  # type: ignore[arg-type]
        speed=row.speed,
        language=row.language,
        consented_clone_at=row.consented_clone_at,
    )


def _scope(row: ScopeRow) -> ScopeSettings:
    """Row → record."""
    return ScopeSettings(
        platform=row.platform,
        scope_id=row.scope_id,
        voice_id=row.voice_id,
        style_id=row.style_id,
        daily_char_budget_user=row.daily_char_budget_user,
        daily_char_budget_chat=row.daily_char_budget_chat,
        allow_cloning=row.allow_cloning,
        required_role=row.required_role,
        autoread_channels=tuple(row.autoread_channels or ()),
    )


def _user_or_default(row: UserRow | None, platform: str, user_id: str) -> UserSettings:
    return _user(row) if row else UserSettings(platform=platform, user_id=user_id)


def _scope_or_default(row: ScopeRow | None, platform: str, scope_id: str) -> ScopeSettings:
    return _scope(row) if row else ScopeSettings(platform=platform, scope_id=scope_id)


def _usage_memo(
    platform: str, day: str, *, user: str | None = None, scope: str | None = None
) -> tuple[str, ...]:
    """The memo name of a day's usage total of one user or one scope."""
    return ("usage", platform, day, "user" if user is not None else "scope", user or scope or "")


def _prefetched(
    platform: str, user_id: str, scope_id: str | None, day: str
) -> list[tuple[str, ...]]:
    """The memos a prefetch fills: user, key, the user's usage today, then (for a scope) its
    settings and (for a group or guild, which has a daily budget of its own) its usage today."""
    memos: list[tuple[str, ...]] = [("user", platform, user_id), ("key", platform, user_id)]
    memos.append(_usage_memo(platform, day, user=user_id))
    if scope_id is not None:
        memos.append(("scope", platform, scope_id))
    if scope_id:
        memos.append(_usage_memo(platform, day, scope=scope_id))
    return memos


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    """`ids` in slices small enough for any database's limit on bound parameters."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _usage_sums(platform: str, day: str, column: Any, ids: list[str]) -> Select[Any]:
    """SELECT (id, the day's characters) for each of `ids` in `column` (user or scope)."""
    return (
        select(column, func.sum(UsageRow.chars))
        .where(UsageRow.platform == platform, UsageRow.day == day, column.in_(ids))
        .group_by(column)
    )


def _usage_sum(platform: str, day: str, *where: Any) -> Select[Any]:
    """SELECT the day's characters (0 if none) for the platform, filtered by `where`."""
    return select(func.coalesce(func.sum(UsageRow.chars), 0)).where(
        UsageRow.platform == platform, UsageRow.day == day, *where
    )


class SettingsStore(StoreBase):
    """Users, scopes (guilds/chats), API keys and usage."""

    async def get_user_settings(self, platform: str, user_id: str) -> UserSettings:
        """The user's settings, or the defaults if none were ever saved."""
        return await self._get_remembered(
            ("user", platform, user_id),
            UserSettings,
            UserRow,
            lambda row: _user_or_default(row, platform, user_id),
        )

    async def update_user_settings(
        self, platform: str, user_id: str, **fields: Any
    ) -> UserSettings:
        """Set the given fields (None clears one); returns the settings after the change."""
        _check_user_fields(fields)
        values = {**fields, "updated_at": self._now()}
        defaults = {"delivery": "voice"} | values
        async with self._write() as session:
            keys = {"platform": platform, "user_id": user_id}
            await upsert(session, UserRow, keys, defaults, values)
            row = await session.get(UserRow, (platform, user_id), populate_existing=True)
            assert row is not None
            saved = _user(row)
        self._remember(("user", platform, user_id), saved)
        return saved

    async def get_scope_settings(self, platform: str, scope_id: str) -> ScopeSettings:
        """The guild's or chat's settings, or the defaults if none were ever saved."""
        return await self._get_remembered(
            ("scope", platform, scope_id),
            ScopeSettings,
            ScopeRow,
            lambda row: _scope_or_default(row, platform, scope_id),
        )

    async def _get_remembered(
        self, memo: tuple[str, ...], kind: type[R], model: type[Any], record: Callable[[Any], R]
    ) -> R:
        """The `kind` record of the row keyed by `memo[1:]` (platform, id): remembered, else
        read (and remembered)."""
        if isinstance(hit := self._recall(memo), kind):
            return hit
        read_at = self._mark()
        async with self._read() as session:
            found = record(await session.get(model, memo[1:]))
        self._remember(memo, found, read_at)
        return found

    async def update_scope_settings(
        self, platform: str, scope_id: str, **fields: Any
    ) -> ScopeSettings:
        """Set the given fields (None clears one); returns the settings after the change."""
        fields = _check_scope_fields(fields)
        values = {**fields, "updated_at": self._now()}
        defaults = {"allow_cloning": True, "autoread_channels": []} | values
        keys = {"platform": platform, "scope_id": scope_id}
        async with self._write() as session:
            await upsert(session, ScopeRow, keys, defaults, values)
            row = await session.get(ScopeRow, (platform, scope_id), populate_existing=True)
            assert row is not None
            saved = _scope(row)
        self._remember(("scope", platform, scope_id), saved)
        return saved

    async def set_user_key(self, platform: str, user_id: str, key: str) -> None:
        """Store the user's own Vocu API key, encrypted."""
        if not key:
            raise ValueError("empty API key")
        values = {"ciphertext": self._keybox.seal(key), "updated_at": self._now()}
        async with self._write() as session:
            await upsert(session, UserKeyRow, {"platform": platform, "user_id": user_id}, values)
        self._forget(("key", platform, user_id))

    async def get_user_key(self, platform: str, user_id: str) -> str | None:
        """The user's decrypted API key, or None if they have not set one.

        Raises UndecryptableKeyError if the storage secret changed since it was stored.
        """
        memo = ("key", platform, user_id)
        hit = self._recall(memo)
        if hit is not None:
            return hit if isinstance(hit, str) and hit else None  # "" remembers an absence
        read_at = self._mark()
        async with self._read() as session:
            row = await session.get(UserKeyRow, (platform, user_id))
        return self._remember_key(memo, row, read_at)

    def _remember_key(
        self, memo: tuple[str, ...], row: UserKeyRow | None, read_at: int
    ) -> str | None:
        """Decrypt a key row read and remember it ("" remembers that there is none)."""
        key = self._keybox.open(row.ciphertext) if row else None
        self._remember(memo, key or "", read_at)
        return key

    async def clear_user_key(self, platform: str, user_id: str) -> bool:
        """Forget the user's API key; returns whether there was one."""
        self._forget(("key", platform, user_id))
        async with self._write() as session:
            result = await session.execute(
                delete(UserKeyRow).where(
                    UserKeyRow.platform == platform, UserKeyRow.user_id == user_id
                )
            )
        self._forget(("key", platform, user_id))  # again: a read may have run meanwhile
        return bool(getattr(result, "rowcount", 0))

    async def add_usage(
        self,
        platform: str,
        user_id: str,
        scope_id: str | None,
        chars: int,
        day: date | None = None,
    ) -> None:
        """Count `chars` generated by the user in the scope (None: a private chat) on `day`.

        `day` defaults to today in UTC.
        """
        if chars < 0:
            raise ValueError("chars must not be negative")
        keys = {
            "platform": platform,
            "user_id": user_id,
            "scope_id": scope_id or NO_SCOPE,
            "day": (day or self._now().date()).isoformat(),
        }
        async with self._write() as session:
            increment = {"chars": UsageRow.chars + chars}
            await upsert(session, UsageRow, keys, {"chars": chars}, increment)
        self._forget_usage(platform, keys["day"], user_id, keys["scope_id"])

    async def add_usage_many(self, entries: dict[tuple[str, str, str, str], int]) -> None:
        """Add several counts at once: {(platform, user_id, scope_id, iso day): chars}."""
        if not entries:
            return
        rows = [
            {"platform": platform, "user_id": user, "scope_id": scope, "day": day, "chars": chars}
            for (platform, user, scope, day), chars in entries.items()
        ]
        async with self._write() as session:
            await upsert_many(
                session,
                UsageRow,
                ["platform", "user_id", "scope_id", "day"],
                rows,
                lambda table, new: {"chars": table.chars + new.chars},
            )
        for platform, user_id, scope_id, day in entries:
            self._forget_usage(platform, day, user_id, scope_id)

    def _forget_usage(self, platform: str, day: str, user_id: str, scope_id: str) -> None:
        """A local write makes the remembered totals of the user and the scope stale."""
        self._forget(_usage_memo(platform, day, user=user_id))
        self._forget(_usage_memo(platform, day, scope=scope_id))

    async def prefetch(self, platform: str, user_id: str, scope_id: str | None) -> None:
        """Load the user's settings, key, today's usage and the scope's settings (and usage), so
        the command's next reads of them come from memory. Prefetches arriving while one runs
        share the next transaction."""
        day = self._now().date().isoformat()
        if all(
            self._recall(memo) is not None for memo in _prefetched(platform, user_id, scope_id, day)
        ):
            return
        if self._prefetches is None:
            self._prefetches = Coalescer(set, self._prefetch_many)
        wanted, done = self._prefetches.queue()
        wanted.add((platform, user_id, scope_id))
        await Coalescer.wait(done)

    async def _prefetch_many(self, wanted: set[tuple[str, str, str | None]]) -> None:
        """One read transaction for many prefetches (one query per table and platform)."""
        day = self._now().date().isoformat()
        found: dict[tuple[str, ...], Any] = {}  # memo -> row (or usage total)
        read_at = self._mark()
        async with self._read() as session:
            for platform in {p for p, _, _ in wanted}:
                users = sorted({u for p, u, _ in wanted if p == platform})
                scopes = sorted({s for p, _, s in wanted if p == platform and s is not None})
                groups = sorted(s for s in scopes if s)
                for part in _chunks(users):
                    for row in await session.scalars(
                        select(UserRow).where(
                            UserRow.platform == platform, UserRow.user_id.in_(part)
                        )
                    ):
                        found["user", platform, row.user_id] = row
                    for key_row in await session.scalars(
                        select(UserKeyRow).where(
                            UserKeyRow.platform == platform, UserKeyRow.user_id.in_(part)
                        )
                    ):
                        found["key", platform, key_row.user_id] = key_row
                    for user, used in await session.execute(
                        _usage_sums(platform, day, UsageRow.user_id, part)
                    ):
                        found[_usage_memo(platform, day, user=user)] = int(used)
                for part in _chunks(scopes):
                    for scope_row in await session.scalars(
                        select(ScopeRow).where(
                            ScopeRow.platform == platform, ScopeRow.scope_id.in_(part)
                        )
                    ):
                        found["scope", platform, scope_row.scope_id] = scope_row
                for part in _chunks(groups):
                    for scope, used in await session.execute(
                        _usage_sums(platform, day, UsageRow.scope_id, part)
                    ):
                        found[_usage_memo(platform, day, scope=scope)] = int(used)
        for platform, user_id, scope_id in wanted:
            user_memo, key_memo, used_memo, *rest = _prefetched(platform, user_id, scope_id, day)
            user = _user_or_default(found.get(user_memo), platform, user_id)
            self._remember(user_memo, user, read_at)
            self._remember_key(key_memo, found.get(key_memo), read_at)
            self._remember(used_memo, found.get(used_memo, 0), read_at)
            if scope_id is not None:
                scope = _scope_or_default(found.get(rest[0]), platform, scope_id)
                self._remember(rest[0], scope, read_at)
            if scope_id:
                self._remember(rest[1], found.get(rest[1], 0), read_at)

    async def usage_today(self, platform: str, user_id: str, day: date | None = None) -> int:
        """Characters the user generated on `day` (default: today, UTC), across all scopes."""
        return await self._sum_usage(
            platform, day, UsageRow.user_id == user_id, memo={"user": user_id}
        )

    async def scope_usage_today(
        self, platform: str, scope_id: str | None, day: date | None = None
    ) -> int:
        """Characters generated in the guild or chat on `day` (default: today, UTC)."""
        scope = scope_id or NO_SCOPE
        return await self._sum_usage(
            platform, day, UsageRow.scope_id == scope, memo={"scope": scope}
        )

    async def user_scope_usage_today(
        self, platform: str, user_id: str, scope_id: str | None, day: date | None = None
    ) -> int:
        """Characters the user generated in one guild or chat on `day` (default: today, UTC)."""
        return await self._sum_usage(
            platform, day, UsageRow.user_id == user_id, UsageRow.scope_id == (scope_id or NO_SCOPE)
        )

    async def _sum_usage(
        self, platform: str, day: date | None, *where: Any, memo: dict[str, str] | None = None
    ) -> int:
        """Sum of chars for the platform and day, filtered by `where`; today's user and scope
        totals (`memo`) are remembered briefly, like settings (prefetch reads them too)."""
        today = self._now().date()
        name = _usage_memo(platform, today.isoformat(), **memo) if memo else None
        if name is not None and day in (None, today):
            hit = self._recall(name)
            if isinstance(hit, int):
                return hit
        read_at = self._mark()
        async with self._read() as session:
            used = int(
                await session.scalar(_usage_sum(platform, (day or today).isoformat(), *where)) or 0
            )
        if name is not None and day in (None, today):
            self._remember(name, used, read_at)
        return used
