"""TelegramContext: the core's ChatContext for one command in one Telegram chat."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from adapters.telegram_app.delivery import PLATFORM, Target, deliver, with_retries
from adapters.telegram_app.keyboards import Interactions
from adapters.telegram_app.text import split_text
from bot.app import App
from bot.context import AudioReply, Capability, Choice

log = logging.getLogger(__name__)

CAPABILITIES = frozenset(
    {Capability.VOICE_NOTE, Capability.AUDIO_FILE, Capability.BUTTONS, Capability.EDIT_MESSAGE}
)
CONFIRM_TIMEOUT = 120.0
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what a t.me ?start= parameter may contain


def not_modified(exc: BadRequest) -> bool:
    """Telegram refuses an edit that changes nothing; that is not a failure for us."""
    return "not modified" in exc.message.lower()


class TelegramContext:
    """One command (or button press) by one user in one chat; replies go to that chat."""

    platform = PLATFORM
    guild_id: str | None = None  # a Telegram chat is its own scope

    def __init__(
        self,
        app: App,
        ui: Interactions,
        target: Target,
        *,
        user_id: int,
        language_code: str | None,
        is_private: bool,
        is_admin: bool,
        bot_username: str | None = None,
    ) -> None:
        self.app = app
        self.ui = ui
        self.target = target
        self.user_id = str(user_id)
        self.chat_id = str(target.chat_id)
        self.locale = language_code or "en"
        self.is_private = is_private
        self.is_admin = is_admin
        self.bot_username = bot_username
        self._progress_id: int | None = None
        self._progress_text = ""

    @property
    def message_id(self) -> str | None:
        """The command message (a finished task replies to it, even after a restart)."""
        return str(self.target.reply_to) if self.target.reply_to is not None else None

    def can(self, capability: Capability) -> bool:
        """Voice notes, audio files, buttons and edits; no private replies inside a group."""
        return capability in CAPABILITIES

    async def reply_text(self, text: str, *, private: bool = False) -> None:
        """Plain text in the chat (Telegram has no per-user reply in a group), split at 4096."""
        for chunk in split_text(text):
            await self.target.text(chunk)

    async def reply_audio(self, audio: AudioReply, *, caption: str | None = None) -> None:
        """A voice note replying to the command (audio file if preferred or refused)."""
        await deliver(self.app, self.target, audio, caption)

    async def reply_choices(self, text: str, choices: list[Choice]) -> None:
        """The text with an inline keyboard under its last part; a tap runs that command."""
        chunks = split_text(text) or ["…"]
        for chunk in chunks[:-1]:
            await self.target.text(chunk)
        markup = self.ui.picker(self.user_id, choices) if choices else None
        await self.target.text(chunks[-1], reply_markup=markup)

    async def ask_confirm(self, question: str, *, yes: str, cancel: str) -> bool:
        """Two buttons; only this user's tap counts; no answer in 120 s means cancel."""
        token, markup = self.ui.confirmation(self.user_id, yes, cancel)
        question = split_text(question)[0] if question.strip() else "?"
        try:
            message = await self.target.text(question, reply_markup=markup)
        except BaseException:
            self.ui.discard(token)
            raise
        answer = await self.ui.wait(token, CONFIRM_TIMEOUT)
        shown = split_text(f"{question}\n\n→ {yes if answer else cancel}")[0]
        with contextlib.suppress(TelegramError):  # the outcome is cosmetic; the answer counts
            await self.target.bot.edit_message_text(shown, self.target.chat_id, message.message_id)
        return answer

    def working(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Repeat "recording a voice message…" every few seconds while the body runs."""
        return self.target.acting(ChatAction.RECORD_VOICE)

    async def progress(self, text: str) -> None:
        """One message per command: sent on the first call, edited in place afterwards."""
        chunks = split_text(text)
        if not chunks or chunks[0] == self._progress_text:
            return
        text, self._progress_text = chunks[0], chunks[0]
        try:
            if self._progress_id is not None:
                try:
                    await with_retries(
                        lambda: self.target.bot.edit_message_text(
                            text, self.target.chat_id, self._progress_id
                        )
                    )
                    return
                except BadRequest as exc:
                    if not_modified(exc):
                        return
                    # deleted or too old to edit: fall through to a fresh message
            message = await self.target.text(text)
            self._progress_id = message.message_id
        except TelegramError as exc:  # progress is a hint: never fail the command for it
            log.info("progress update failed: %s", type(exc).__name__)

    def deep_link(self, payload: str) -> str | None:
        """A t.me link that starts this bot with `payload` (one tap), if Telegram allows it."""
        if not self.bot_username or not _PAYLOAD.fullmatch(payload):
            return None
        return f"https://t.me/{self.bot_username}?start={payload}"
