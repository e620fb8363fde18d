"""TelegramCourier: the core's Courier, sending to a chat by id outside any command."""

from __future__ import annotations

from telegram import Bot

from adapters.telegram_app.delivery import Target, deliver
from adapters.telegram_app.text import split_text
from bot.app import App
from bot.context import AudioReply


class TelegramCourier:
    """Delivers late results (a finished task, after a restart) to a Telegram chat."""

    def __init__(self, app: App, bot: Bot) -> None:
        self.app = app
        self.bot = bot

    def _target(self, chat_id: str, reply_to: str | None) -> Target:
        reply = int(reply_to) if reply_to and reply_to.lstrip("-").isdigit() else None
        return Target(self.bot, int(chat_id), reply)

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        """Plain text, split at 4096."""
        target = self._target(chat_id, reply_to)
        for chunk in split_text(text):
            await target.text(chunk)

    async def send_audio(
        self, chat_id: str, audio: AudioReply, *, reply_to: str | None = None
    ) -> None:
        """A voice note (audio file if preferred or refused), file ids remembered."""
        await deliver(self.app, self._target(chat_id, reply_to), audio, None)
