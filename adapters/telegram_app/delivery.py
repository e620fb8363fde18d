"""Sending to Telegram: retries, plain-text splitting, and speech as voice note or audio file."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, InputFile, Message, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, NetworkError, RetryAfter

from adapters.telegram_app.text import split_text, utf16_len
from bot import audio as core_audio
from bot.app import App
from bot.context import AudioReply
from bot.errors import UserFacingError

log = logging.getLogger(__name__)

T = TypeVar("T")
PLATFORM = "telegram"
AUDIO_KEY = "telegram:audio"  # file ids of MP3s sent with sendAudio (a voice id can't be one)
MAX_CAPTION = 1024  # UTF-16 code units
ATTEMPTS = 3  # our own retries, on top of the rate limiter's RetryAfter retries
ACTION_EVERY = 4.0  # Telegram shows a chat action for about 5 s
# upload_voice only once an upload has taken this long: a short clip is sent sooner than the
# hint would be (and in a 100-chat burst the hints alone were a quarter of all Bot API calls).
UPLOAD_HINT_DELAY = 1.0
BACKOFF = 0.5


class DeliveryError(Exception):
    """A send failed after every retry (the router turns it into an incident reply)."""


def retry_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds, whatever PTB's int/timedelta transition mode is."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = ATTEMPTS) -> T:
    """Await `call()`, again after a network error or flood wait; a BadRequest is final."""
    for attempt in range(attempts):
        try:
            return await call()
        except BadRequest:
            raise
        except RetryAfter as exc:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(retry_seconds(exc) + 0.1)
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            if attempt == attempts - 1:
                raise
            log.info("telegram send failed (%s), retrying", type(exc).__name__)
            await asyncio.sleep(BACKOFF * 2**attempt)
    raise AssertionError("unreachable")


@dataclass(slots=True)
class Target:
    """Where replies go: a chat, optionally as replies to the command message."""

    bot: Bot
    chat_id: int
    reply_to: int | None = None

    @property
    def reply(self) -> ReplyParameters | None:
        if self.reply_to is None:
            return None
        return ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True)

    async def text(self, text: str, **kwargs: object) -> Message:
        """One plain-text message (no parse_mode: user text can't inject markup)."""
        return await with_retries(
            lambda: self.bot.send_message(
                self.chat_id,
                text,
                reply_parameters=self.reply,
                **kwargs,  # type: ignore[arg-type]
            )
        )

    async def action(self, action: str) -> None:
        """A chat action ("record_voice"…); failures don't matter."""
        try:
            await self.bot.send_chat_action(self.chat_id, action)
        except Exception as exc:  # a hint only; never fail the command for it
            log.debug("chat action failed: %s", type(exc).__name__)

    @contextlib.asynccontextmanager
    async def acting(self, action: str, delay: float = 0.0) -> AsyncIterator[None]:
        """Repeat `action` every few seconds while the body runs (first one after `delay`)."""

        async def repeat() -> None:
            await asyncio.sleep(delay)
            while True:
                await self.action(action)
                await asyncio.sleep(ACTION_EVERY)

        task = asyncio.create_task(repeat())
        try:
            yield
        finally:
            task.cancel()


def is_voice_forbidden(exc: BadRequest) -> bool:
    """The user's privacy settings refuse voice notes (PTB lower-cases most of the text)."""
    return "voice_messages_forbidden" in exc.message.lower()


def _audio_name(audio: AudioReply) -> str:
    safe = "".join(c if c.isalnum() else "_" for c in audio.voice_name)[:32].strip("_")
    return f"{safe or 'speech'}.mp3"


async def send_audio_file(target: Target, audio: AudioReply, caption: str | None) -> Message:
    """The MP3 as an audio file (title and performer shown by the player), by file id if known."""
    known = audio.file_ids.get(AUDIO_KEY)

    def call(media: str | InputFile) -> Awaitable[Message]:
        return target.bot.send_audio(
            target.chat_id,
            media,
            duration=max(1, math.ceil(audio.seconds())),
            title=audio.title,
            performer=audio.voice_name,
            caption=caption,
            reply_parameters=target.reply,
        )

    if known:
        try:
            return await with_retries(lambda: call(known))
        except BadRequest as exc:  # the id went stale (another bot token…): upload again
            log.info("cached audio file id refused: %s", exc.message)
    async with target.acting(ChatAction.UPLOAD_VOICE, UPLOAD_HINT_DELAY):
        return await with_retries(lambda: call(InputFile(audio.mp3, filename=_audio_name(audio))))


async def send_voice_note(target: Target, audio: AudioReply, caption: str | None) -> Message:
    """A voice note: by cached file id, else transcoded to OGG/Opus and uploaded."""
    known = audio.file_ids.get(PLATFORM)
    if known:
        duration = max(1, math.ceil(audio.seconds()))
        try:
            return await with_retries(
                lambda: target.bot.send_voice(
                    target.chat_id,
                    known,
                    duration=duration,
                    caption=caption,
                    reply_parameters=target.reply,
                )
            )
        except BadRequest as exc:
            if is_voice_forbidden(exc):
                raise
            log.info("cached voice file id refused: %s", exc.message)
    async with target.acting(ChatAction.UPLOAD_VOICE, UPLOAD_HINT_DELAY):
        note = await core_audio.to_voice_note_async(audio.mp3)
        return await with_retries(
            lambda: target.bot.send_voice(
                target.chat_id,
                InputFile(note.ogg, filename="voice.ogg"),
                duration=max(1, math.ceil(note.duration)),
                caption=caption,
                reply_parameters=target.reply,
            )
        )


async def deliver(app: App, target: Target, audio: AudioReply, caption: str | None) -> None:
    """Speech as a voice note (or an audio file when preferred or refused); remember file ids."""
    extra = None
    if caption and utf16_len(caption) > MAX_CAPTION:
        caption, extra = None, caption
    try:
        if audio.prefer_file:
            message = await send_audio_file(target, audio, caption)
        else:
            try:
                message = await send_voice_note(target, audio, caption)
            except BadRequest as exc:
                if not is_voice_forbidden(exc):
                    raise
                message = await send_audio_file(target, audio, caption)
    except UserFacingError:  # e.g. audio the encoder can't read: the core has the words for it
        raise
    except Exception as exc:  # the audio is paid for: say so rather than fail silently
        raise DeliveryError(f"could not deliver speech: {type(exc).__name__}") from exc
    await remember(app, audio, message)
    if extra:
        for chunk in split_text(extra):
            await target.text(chunk)


async def remember(app: App, audio: AudioReply, message: Message) -> None:
    """Store the file id Telegram gave the sent audio with the cache entry."""
    if message.voice is not None:
        key, file_id = PLATFORM, message.voice.file_id
    elif message.audio is not None:
        key, file_id = AUDIO_KEY, message.audio.file_id
    else:
        return
    if audio.file_ids.get(key) == file_id:
        return
    audio.file_ids[key] = file_id
    try:
        await app.remember_file_id(audio.cache_key, key, file_id)
    except Exception:  # a cache miss next time costs an upload, nothing more
        log.warning("could not remember a telegram file id", exc_info=True)
