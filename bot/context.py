"""The small seam between the core and every platform: ChatContext and what crosses it."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.i18n import t


class Capability(enum.StrEnum):
    """What a platform can do; `reply_audio` degrades by these, the core never checks `platform`."""

    VOICE_NOTE = "voice_note"  # native voice message (Telegram sendVoice, Discord flag 8192)
    AUDIO_FILE = "audio_file"  # an audio attachment with a player
    BUTTONS = "buttons"  # inline buttons for confirmations and pickers
    EDIT_MESSAGE = "edit_message"  # a progress message can be edited in place
    PRIVATE_REPLY = "private_reply"  # a reply only the user sees (Discord ephemeral, a DM)
    IMAGE = "image"  # images (avatars) can be shown


@dataclass(slots=True)
class Attachment:
    """A file the user sent with a command; `read()` downloads it (size already known if given)."""

    filename: str
    content_type: str | None
    size: int | None
    read: Callable[[], Awaitable[bytes]]
    kind: str = "file"  # "audio", "voice", "image", "video", "file" as the platform saw it


@dataclass(slots=True)
class AudioReply:
    """Speech to deliver. `mp3` is always there; adapters transcode through `bot.audio`."""

    mp3: bytes
    title: str
    duration: float | None  # seconds; None until `seconds()` measures it (voice notes never need
    voice_name: str  # it: the transcoder counts their samples)
    cache_key: str | None = None  # lets an adapter remember/re-use a platform file id
    file_ids: dict[str, str] = field(default_factory=dict)  # platform -> file id already uploaded
    prefer_file: bool = False  # the user's setting says "file", not "voice note"

    def seconds(self) -> float:
        """The duration, measured from the MP3 the first time it is needed."""
        if self.duration is None:
            from bot.audio import mp3_duration  # PyAV: only where audio is handled

            self.duration = mp3_duration(self.mp3)
        return self.duration


@dataclass(slots=True)
class Choice:
    """One button of a picker: a label and the command line it runs when chosen."""

    label: str
    command: str
    detail: str | None = None  # a longer description (Discord shows it in an embed)
    image: str | None = None  # e.g. the voice's avatar URL


@runtime_checkable
class ChatContext(Protocol):
    """What the core sees of one incoming command. Stable string ids, never platform objects."""

    platform: str
    user_id: str
    chat_id: str
    guild_id: str | None
    locale: str
    is_private: bool
    is_admin: bool

    def can(self, capability: Capability) -> bool:
        """Whether the platform supports `capability` here."""
        ...

    async def reply_text(self, text: str, *, private: bool = False) -> None:
        """Send text (plain: adapters escape it); `private` = only this user sees it."""
        ...

    async def reply_audio(self, audio: AudioReply, *, caption: str | None = None) -> None:
        """Deliver speech: voice note, else audio file, else document."""
        ...

    async def reply_choices(self, text: str, choices: list[Choice]) -> None:
        """Offer pickers (buttons); choosing one runs its command as this user."""
        ...

    async def ask_confirm(self, question: str, *, yes: str, cancel: str) -> bool:
        """Ask a yes/cancel question; True only if the user picked `yes`."""
        ...

    def working(self) -> AbstractAsyncContextManager[None]:
        """Show the platform's 'working' hint for the duration (defer, record_voice, spinner)."""
        ...

    async def progress(self, text: str) -> None:
        """Show or update (edit in place) one progress message for this command."""
        ...


AudioChunks = AsyncIterator[bytes]


@runtime_checkable
class Courier(Protocol):
    """Sends to a chat by id, outside any command: how results are delivered after a restart.

    Each adapter registers one in `App.couriers[platform]` when it starts.
    """

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        """Send plain text to `chat_id`."""
        ...

    async def send_audio(
        self, chat_id: str, audio: AudioReply, *, reply_to: str | None = None
    ) -> None:
        """Deliver speech to `chat_id` (voice note, else audio file)."""
        ...


async def confirmed(ctx: ChatContext, question: str) -> bool:
    """Ask `question` with the contract's Yes / Cancel buttons; on Cancel (or no answer) tell
    the user that nothing was changed."""
    if await ctx.ask_confirm(question, yes=t(ctx.locale, "yes"), cancel=t(ctx.locale, "cancel")):
        return True
    await ctx.reply_text(t(ctx.locale, "cancelled"))
    return False
