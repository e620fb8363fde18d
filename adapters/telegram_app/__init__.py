"""Telegram adapter: a thin python-telegram-bot layer over the core (`bot.router.dispatch`)."""

from adapters.telegram_app.app import TelegramBot, build_application, run_telegram

__all__ = ["TelegramBot", "build_application", "run_telegram"]
