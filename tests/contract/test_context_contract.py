"""One conformance suite for every ChatContext implementation the project has."""

from __future__ import annotations

import inspect
import typing

import pytest

from adapters.console import ConsoleContext
from adapters.discord_app.autoread import AuthorContext
from adapters.discord_app.context import DiscordContext
from adapters.telegram_app.context import TelegramContext
from adapters.telegram_app.inline import InlineContext
from bot.context import ChatContext
from tests.core.recording import RecordingContext

IMPLEMENTATIONS = [
    ConsoleContext,
    RecordingContext,
    TelegramContext,
    InlineContext,
    DiscordContext,
    AuthorContext,
]
METHODS = [
    "can",
    "reply_text",
    "reply_audio",
    "reply_choices",
    "ask_confirm",
    "working",
    "progress",
]
ATTRIBUTES = ["platform", "user_id", "chat_id", "guild_id", "locale", "is_private", "is_admin"]


def _signature(obj: object) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(obj).parameters.values()]  # type: ignore[arg-type]


def test_the_protocol_is_what_the_suite_checks() -> None:
    members = {n for n in dir(ChatContext) if not n.startswith("_")}
    assert set(METHODS) <= members
    assert set(ATTRIBUTES) <= set(typing.get_type_hints(ChatContext))


@pytest.mark.parametrize("cls", IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_methods_match_the_protocol(cls: type) -> None:
    for name in METHODS:
        method = getattr(cls, name, None)
        assert method is not None, f"{cls.__name__} lacks {name}"
        assert _signature(method) == _signature(getattr(ChatContext, name)), name
        is_async = inspect.iscoroutinefunction(getattr(ChatContext, name))
        assert inspect.iscoroutinefunction(method) == is_async, name


@pytest.mark.parametrize("cls", IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_attributes_are_provided(cls: type) -> None:
    source = inspect.getsource(cls)
    hints = typing.get_type_hints(cls) if hasattr(cls, "__annotations__") else {}
    for name in ATTRIBUTES:
        provided = name in hints or hasattr(cls, name) or f"self.{name}" in source
        assert provided, f"{cls.__name__} lacks {name}"
