"""The command registry: every command declared once; adapters render their lists from it."""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.context import Attachment
from bot.errors import UsageError
from bot.i18n import has_key, t

if TYPE_CHECKING:
    from bot.app import App
    from bot.context import ChatContext

COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


class ArgKind(enum.StrEnum):
    """How an argument is typed; adapters map these to option types and autocomplete."""

    WORD = "word"  # one token (quotes allowed for spaces)
    TEXT = "text"  # the rest of the line
    VOICE = "voice"  # a voice name/id (autocompleted from the user's voices)
    STYLE = "style"  # a style of the chosen voice (autocompleted)
    NUMBER = "number"
    CHOICE = "choice"
    AUDIO = "audio"  # an audio attachment
    IMAGE = "image"  # an image attachment
    SECRET = "secret"  # never typed in a channel: Discord asks in a modal, Telegram only in DMs


class Where(enum.StrEnum):
    """Where a command may be used."""

    ANY = "any"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument of a command. `positional=False` args are only given as named options."""

    name: str
    kind: ArgKind = ArgKind.WORD
    required: bool = True
    choices: tuple[str, ...] = ()
    positional: bool = True

    @property
    def is_attachment(self) -> bool:
        """Whether this argument is carried by a file rather than text."""
        return self.kind in (ArgKind.AUDIO, ArgKind.IMAGE)

    def description(self, locale: str | None) -> str:
        """The option's description in `locale` (≤ 100 characters)."""
        return t(locale, f"arg.{self.name}")[:100]


@dataclass(slots=True)
class Args:
    """Parsed arguments of one invocation."""

    values: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The argument's text, or `default` when absent or blank."""
        value = self.values.get(name)
        return value if value not in (None, "") else default


Handler = Callable[["App", "ChatContext", Args], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Command:
    """A chat command as every platform sees it."""

    name: str
    handler: Handler
    args: tuple[Arg, ...] = ()
    where: Where = Where.ANY
    group: str | None = None  # platforms with sub-commands render it as `/group sub`
    sub: str | None = None
    admin_only: bool = False
    hidden: bool = False  # not listed in menus (e.g. internal callback commands)

    def description(self, locale: str | None) -> str:
        """One-line description in `locale` (≤ 100 characters)."""
        return t(locale, f"cmd.{self.name}")[:100]

    def usage(self, locale: str | None) -> str:
        """A usage line such as `/use <voice> [style]`."""
        parts = [f"/{self.name}"]
        for arg in self.args:
            if not arg.positional:
                continue
            label = t(locale, f"argname.{arg.name}")
            if arg.is_attachment:
                label = f"+{label}"
            parts.append(f"<{label}>" if arg.required else f"[{label}]")
        return " ".join(parts)

    @property
    def attachment_arg(self) -> Arg | None:
        """The attachment argument, if the command takes a file."""
        return next((a for a in self.args if a.is_attachment), None)


REGISTRY: dict[str, Command] = {}


def command(
    name: str,
    *args: Arg,
    where: Where = Where.ANY,
    group: str | None = None,
    sub: str | None = None,
    admin_only: bool = False,
    hidden: bool = False,
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as the command `name`."""
    if not COMMAND_NAME.match(name):
        raise ValueError(f"bad command name {name!r}")

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Command(name, handler, args, where, group, sub, admin_only, hidden)
        return handler

    return register


def visible_commands() -> list[Command]:
    """Commands to show in menus, in registration order."""
    return [c for c in REGISTRY.values() if not c.hidden]


def _take_token(text: str) -> tuple[str, str]:
    """Split off the first token; a quoted token may contain spaces."""
    if text[0] in "\"'" and (end := text.find(text[0], 1)) > 0:
        return text[1:end], text[end + 1 :].strip()
    parts = text.split(maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def parse_text(cmd: Command, text: str) -> dict[str, str]:
    """Parse a raw argument line into named values following the command's positional args."""
    positional = [a for a in cmd.args if a.positional and not a.is_attachment]
    values: dict[str, str] = {}
    rest = text.strip()
    for arg in positional:
        if not rest:
            break
        if arg.kind is ArgKind.TEXT:
            values[arg.name], rest = rest, ""
            break
        values[arg.name], rest = _take_token(rest)
    if rest and positional:
        # extra words belong to the last argument (names with spaces typed without quotes)
        last = positional[-1].name
        values[last] = f"{values.get(last, '')} {rest}".strip()
    return values


def check_required(cmd: Command, args: Args, locale: str | None) -> None:
    """Raise a UsageError naming the usage line when a required argument is missing."""
    for arg in cmd.args:
        present = arg.name in args.attachments if arg.is_attachment else args.get(arg.name)
        if arg.required and not present:
            key = "usage.missing_file" if arg.is_attachment else "usage.missing"
            if not arg.is_attachment and has_key(f"usage.{cmd.name}"):
                key = f"usage.{cmd.name}"  # a friendlier, command-specific hint
            raise UsageError(key, usage=cmd.usage(locale), arg=t(locale, f"argname.{arg.name}"))


def as_str_values(options: dict[str, Any]) -> dict[str, str]:
    """Normalise platform option values (ints, floats, bools) to strings."""
    return {k: str(v) for k, v in options.items() if v is not None}
