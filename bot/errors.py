"""Errors raised by the core. A UserFacingError's message is safe to show (after translation)."""

from __future__ import annotations

from typing import Any


class BotError(Exception):
    """Base of the core's own errors."""


class UserFacingError(BotError):
    """An error whose reply is safe to show: a catalogue key plus its parameters."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __reduce__(self) -> tuple[object, ...]:
        # keep the params when the error crosses a process boundary (worker pools)
        return (_rebuild, (type(self), self.key, self.params))


def _rebuild(cls: type[UserFacingError], key: str, params: dict[str, Any]) -> UserFacingError:
    return cls(key, **params)


class UsageError(UserFacingError):
    """Wrong or missing arguments."""


class NotAllowedError(UserFacingError):
    """Permissions, private-chat-only commands, missing consent."""


class LimitError(UserFacingError):
    """Quota, cooldown, too long, too large."""


class MediaError(UserFacingError):
    """An attachment that is corrupt, of the wrong type, too short or too large."""
