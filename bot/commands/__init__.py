"""Command modules; importing this package registers every command, in menu order."""

from bot.commands import general, speech, voices, account, settings  # noqa: I001  (menu order)
from bot.commands import keys, server
from bot.commands import tasks, dialogue, templates

__all__ = [
    "account",
    "dialogue",
    "general",
    "keys",
    "server",
    "settings",
    "speech",
    "tasks",
    "templates",
    "voices",
]
