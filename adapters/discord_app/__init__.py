"""Discord adapter (discord.py): app commands rendered from the core registry, native voice
messages, voice-channel playback and autoread. Thin: every command runs through bot.router."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Settings

__all__ = ["run_discord"]

log = logging.getLogger(__name__)


async def run_discord(app: App, settings: Settings, **options: Any) -> None:
    """Connect with DISCORD_BOT_TOKEN and serve until cancelled; then close cleanly."""
    import discord

    from adapters.discord_app.runtime import configure_endpoints, report_voice

    if settings.discord_bot_token is None:
        raise ValueError("DISCORD_BOT_TOKEN is not set")
    configure_endpoints(settings)
    problem = report_voice()
    try:
        await _serve(app, settings, problem, message_content=True, **options)
    except discord.PrivilegedIntentsRequired:
        log.warning(
            "the Message Content intent is not enabled for this bot (Developer Portal → Bot → "
            "Privileged Gateway Intents): /autoread cannot read messages until it is; "
            "everything else works. Reconnecting without it."
        )
        await _serve(app, settings, problem, message_content=False, **options)


async def _serve(
    app: App, settings: Settings, problem: str | None, *, message_content: bool, **options: Any
) -> None:
    from adapters.discord_app.client import create_client

    assert settings.discord_bot_token is not None
    client = create_client(
        app, settings, voice_problem=problem, message_content=message_content, **options
    )
    try:
        await client.start(settings.discord_bot_token.get_secret_value())
    finally:
        if not client.is_closed():
            await client.close()
        log.info("discord adapter stopped")
