"""Building and running the PTB Application: polling by default, webhook when configured."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from adapters.telegram_app import handlers, inline
from adapters.telegram_app.courier import TelegramCourier
from adapters.telegram_app.delivery import PLATFORM
from adapters.telegram_app.handlers import RUNTIME, Runtime
from adapters.telegram_app.logs import protect_logs
from adapters.telegram_app.transport import AiohttpRequest
from bot.app import App
from bot.config import Settings
from bot.registry import Where, visible_commands

log = logging.getLogger(__name__)

# Replies to 100 chats at once must not queue behind a 30/s bucket (that alone is 3 s); Telegram's
# own 429 answers are the authority and the rate limiter honours their retry_after.
OVERALL_MAX_RATE = 100
CONCURRENT_UPDATES = 512  # a slow generation or a pending confirmation holds one slot
CONNECTION_POOL = 256
MENU_LANGUAGES = ("en", "zh")


class _RateLimiter(AIORateLimiter):
    """AIORateLimiter that lets chat actions through unthrottled (hints, never worth a wait)."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


def build_application(app: App, settings: Settings) -> Application:  # type: ignore[type-arg]
    """The PTB Application with every handler, wired to the core `app`."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    token = settings.telegram_bot_token.get_secret_value()
    protect_logs(token)  # before build(): the Bot logs its URLs as it is created
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .rate_limiter(_RateLimiter(overall_max_rate=OVERALL_MAX_RATE, max_retries=3))
        .concurrent_updates(CONCURRENT_UPDATES)
        .request(AiohttpRequest(connection_pool_size=CONNECTION_POOL))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    application.bot_data[RUNTIME] = Runtime(app)
    commands = filters.COMMAND | filters.CaptionRegex(r"^/")
    application.add_handler(
        MessageHandler(commands & ~filters.UpdateType.EDITED, handlers.on_command)
    )
    application.add_handler(CallbackQueryHandler(handlers.on_callback))
    application.add_handler(InlineQueryHandler(inline.on_inline_query))
    application.add_handler(ChosenInlineResultHandler(inline.on_chosen_result))
    application.add_error_handler(handlers.on_error)
    return application


async def register_commands(bot: Bot) -> None:
    """The command menu from the registry, in English (default) and Chinese; groups omit DM-only."""
    everywhere = visible_commands()
    in_groups = [c for c in everywhere if c.where is not Where.PRIVATE]
    scopes = ((BotCommandScopeDefault(), everywhere), (BotCommandScopeAllGroupChats(), in_groups))
    for scope, cmds in scopes:
        for lang in MENU_LANGUAGES:
            menu = [BotCommand(c.name, c.description(lang)[:256] or c.name) for c in cmds[:100]]
            code = None if lang == "en" else lang
            try:
                await bot.set_my_commands(menu, scope=scope, language_code=code)
            except TelegramError as exc:  # the bot works without a menu
                log.warning("setMyCommands failed: %s", exc.message)


class TelegramBot:
    """One running Telegram bot: start() (polling or webhook), stop()."""

    def __init__(self, app: App, settings: Settings) -> None:
        self.core = app
        self.settings = settings
        self.application = build_application(app, settings)
        self.webhook_secret: str | None = None

    @property
    def runtime(self) -> Runtime:
        rt: Runtime = self.application.bot_data[RUNTIME]
        return rt

    async def start(self) -> None:
        """Log in (getMe), publish the command menu, then receive updates."""
        application = self.application
        await application.initialize()
        await register_commands(application.bot)
        await application.start()
        self.core.couriers[PLATFORM] = TelegramCourier(self.core, application.bot)
        updater = application.updater
        assert updater is not None
        url = self.settings.telegram_webhook_url
        if not url:
            await updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=30)
            log.info("telegram: polling as @%s", application.bot.username)
            return
        secret = self.settings.telegram_webhook_secret
        # Without a configured secret a random one still keeps strangers' POSTs out.
        self.webhook_secret = secret.get_secret_value() if secret else secrets.token_urlsafe(32)
        await updater.start_webhook(
            listen=self.settings.telegram_webhook_listen,
            port=self.settings.telegram_webhook_port,
            url_path=urlsplit(url).path.lstrip("/"),
            webhook_url=url,
            secret_token=self.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
            max_connections=100,
        )
        log.info("telegram: webhook for @%s", application.bot.username)

    async def stop(self) -> None:
        """Stop receiving, release pending questions, finish handlers, close the HTTP pool."""
        application = self.application
        self.core.couriers.pop(PLATFORM, None)
        self.runtime.ui.close()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()


async def run_telegram(app: App, settings: Settings) -> None:
    """Run the Telegram bot until cancelled, then shut PTB down cleanly."""
    bot = TelegramBot(app, settings)
    try:
        await bot.start()
        await asyncio.Event().wait()
    finally:
        await bot.stop()
