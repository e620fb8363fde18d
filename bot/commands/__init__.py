"""Command modules; importing this package registers every command, in menu order."""

from bot.commands import general, speech, voices, account, settings  # noqa: I001  (menu order)
from bot.commands import keys, server

__all__ = ["account", "general", "keys", "server", "settings", "speech", "voices"]
