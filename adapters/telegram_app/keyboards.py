"""Inline keyboards: pickers and confirmations, with short tokens in callback_data.

callback_data is at most 64 bytes, so the command lines behind a picker stay in memory here
(LRU-bounded) and only a short random token travels through Telegram.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import Choice

PICK = "p"  # p:<token>:<index>  → run the index-th command line of that picker
CONFIRM = "c"  # c:<token>:1|0   → answer a pending confirmation
NOOP = "x"  # a button that only needs answering (the inline-mode placeholder)
ROW = 2  # buttons per row: labels are voice or style names, often long
MAX_BUTTONS = 100  # Telegram's limit for one inline keyboard


@dataclass(frozen=True, slots=True)
class Picker:
    """A picker as shown to one user: whose it is and what each button runs."""

    user_id: str
    commands: tuple[str, ...]


@dataclass(slots=True)
class _Pending:
    user_id: str
    future: asyncio.Future[bool]


def _token() -> str:
    return secrets.token_urlsafe(8)  # 11 characters, 64 bits


def _rows(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + ROW] for i in range(0, len(buttons), ROW)]


class Interactions:
    """Pickers and pending confirmations of one running bot."""

    def __init__(self, max_pickers: int = 10_000) -> None:
        self._pickers: OrderedDict[str, Picker] = OrderedDict()
        self._pending: dict[str, _Pending] = {}
        self._max_pickers = max_pickers

    # ------------------------------------------------------------------ pickers

    def picker(self, user_id: str, choices: list[Choice]) -> InlineKeyboardMarkup:
        """A keyboard for `choices`; their command lines are kept here under one token."""
        choices = choices[:MAX_BUTTONS]
        token = _token()
        self._pickers[token] = Picker(user_id, tuple(c.command for c in choices))
        while len(self._pickers) > self._max_pickers:
            self._pickers.popitem(last=False)
        buttons = [
            InlineKeyboardButton(c.label[:64] or "…", callback_data=f"{PICK}:{token}:{i}")
            for i, c in enumerate(choices)
        ]
        return InlineKeyboardMarkup(_rows(buttons))

    def picked(self, token: str, index: str) -> tuple[str, str] | None:
        """(owner user id, command line) behind a picker button, or None if it expired."""
        picker = self._pickers.get(token)
        if picker is None or not index.isdigit() or int(index) >= len(picker.commands):
            return None
        self._pickers.move_to_end(token)
        return picker.user_id, picker.commands[int(index)]

    # ------------------------------------------------------------------ confirmations

    def confirmation(self, user_id: str, yes: str, cancel: str) -> tuple[str, InlineKeyboardMarkup]:
        """A new pending question for `user_id`: its token and its two-button keyboard."""
        token = _token()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[token] = _Pending(user_id, future)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(yes[:64], callback_data=f"{CONFIRM}:{token}:1"),
                    InlineKeyboardButton(cancel[:64], callback_data=f"{CONFIRM}:{token}:0"),
                ]
            ]
        )
        return token, markup

    async def wait(self, token: str, timeout: float) -> bool:  # noqa: ASYNC109 - a deadline is the point
        """The answer to the question `token`; False on timeout or shutdown."""
        pending = self._pending.get(token)
        if pending is None:
            return False
        try:
            return await asyncio.wait_for(pending.future, timeout)
        except TimeoutError:
            return False
        finally:
            self._pending.pop(token, None)

    def answer(self, token: str, user_id: str, value: str) -> bool | None:
        """Resolve a question if `user_id` asked it; None when it is not theirs or is gone."""
        pending = self._pending.get(token)
        if pending is None or pending.user_id != user_id or pending.future.done():
            return None
        pending.future.set_result(value == "1")
        return value == "1"

    def discard(self, token: str) -> None:
        """Forget a question that could not be asked."""
        self._pending.pop(token, None)

    def close(self) -> None:
        """Answer every open question with False (the bot is stopping)."""
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_result(False)


def noop_markup(label: str) -> InlineKeyboardMarkup:
    """One button that does nothing (inline messages need a keyboard to be editable)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label[:64], callback_data=NOOP)]])


def parse(data: str | None) -> tuple[str, str, str]:
    """Split callback_data into (kind, token, value); unknown data gives ("", "", "")."""
    parts = (data or "").split(":")
    if len(parts) == 3 and parts[0] in (PICK, CONFIRM):
        return parts[0], parts[1], parts[2]
    return "", "", ""
