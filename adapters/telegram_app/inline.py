"""Inline mode: `@bot <text>` lists the user's voices; choosing one speaks the text there.

Nothing is generated while the user types: the query is answered from the (cached) voice
list, and only `chosen_inline_result` runs the core's /say. Telegram can't upload a new file
into an inline message, and a voice note is no InputMedia: the MP3 is uploaded once as an
audio file to the user's private chat (then deleted there) and the inline message is edited to
that file id with editMessageMedia. A cached phrase skips the upload. Telegram lets a bot
write to a user only after they pressed Start in a private chat with it: that is checked (a chat
action there) before anything is generated, and the placeholder then says so, with a link.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputMediaAudio,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from adapters.telegram_app.context import not_modified
from adapters.telegram_app.delivery import (
    AUDIO_KEY,
    PLATFORM,
    DeliveryError,
    Target,
    remember,
    send_audio_file,
    with_retries,
)
from adapters.telegram_app.handlers import runtime
from adapters.telegram_app.keyboards import noop_markup
from adapters.telegram_app.text import split_text
from bot.app import App
from bot.context import AudioReply, Capability, Choice
from bot.i18n import t
from bot.router import Invocation, dispatch

log = logging.getLogger(__name__)

CACHE_TIME = 5  # seconds; results are personal and the voice list changes
MAX_RESULTS = 50  # answerInlineQuery's limit


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One article per usable voice of the user; no credits are spent here."""
    query = update.inline_query
    if query is None:
        return
    text = query.query.strip()
    results: list[InlineQueryResultArticle] = []
    if text:
        app = runtime(context).app
        try:
            vocu = await app.client_for(PLATFORM, str(query.from_user.id))
            voices = [v for v in await app.voices(vocu) if v.is_usable]
        except Exception as exc:  # an empty list is the honest answer while Vocu is down
            log.warning("inline voice list failed: %s", type(exc).__name__)
            voices = []
        for voice in voices:
            if len(voice.id.encode()) > 64 or len(results) == MAX_RESULTS:
                continue  # result ids are at most 64 bytes; the id names the voice on choice
            placeholder = split_text(f"🎙 {voice.name}: {text}")[0]
            results.append(
                InlineQueryResultArticle(
                    id=voice.id,
                    title=voice.name,
                    description=text[:100],
                    input_message_content=InputTextMessageContent(placeholder),
                    reply_markup=noop_markup(f"🎙 {voice.name} …"),  # makes it editable
                )
            )
    with contextlib.suppress(TelegramError):  # a query answered too late is simply gone
        await query.answer(results, cache_time=CACHE_TIME, is_personal=True)


async def on_chosen_result(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Speak the chosen text in the chosen voice into the inline message."""
    chosen = update.chosen_inline_result
    if chosen is None or not chosen.inline_message_id or not chosen.query.strip():
        return
    user = chosen.from_user
    ctx = InlineContext(
        runtime(context).app, context.bot, user.id, chosen.inline_message_id, user.language_code
    )
    if not await _may_write_to(
        context.bot, user.id
    ):  # the clip could not be uploaded: spend nothing
        link = f"https://t.me/{context.bot.username}?start=inline"
        button = InlineKeyboardButton(t(ctx.locale, "inline.open_chat"), url=link)
        await ctx._edit(t(ctx.locale, "inline.start_first"), InlineKeyboardMarkup([[button]]))
        return
    inv = Invocation(command="say", text=chosen.query.strip(), options={"voice": chosen.result_id})
    await dispatch(ctx.app, ctx, inv)


async def _may_write_to(bot: Bot, user_id: int) -> bool:
    """Whether the user's private chat with the bot is open (a chat action there is free)."""
    try:
        await bot.send_chat_action(user_id, ChatAction.UPLOAD_VOICE)
    except Forbidden:
        return False
    except TelegramError:  # anything else: let the upload itself decide
        return True
    return True


class InlineContext:
    """A ChatContext whose only surface is one inline message (its chat is unknown)."""

    platform = PLATFORM
    guild_id: str | None = None
    is_private = False  # the message may sit in any chat: nothing private goes there
    is_admin = False

    def __init__(
        self, app: App, bot: Bot, user_id: int, inline_message_id: str, locale: str | None
    ) -> None:
        self.app = app
        self.bot = bot
        self.user_id = self.chat_id = str(user_id)  # scope: the user's own settings
        self._user = user_id
        self.inline_message_id = inline_message_id
        self.locale = locale or "en"

    def can(self, capability: Capability) -> bool:
        """An audio file and edits; no buttons, no voice notes (not an InputMedia)."""
        return capability in (Capability.AUDIO_FILE, Capability.EDIT_MESSAGE)

    async def _edit(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        chunks = split_text(text)
        if not chunks:
            return
        try:
            await with_retries(
                lambda: self.bot.edit_message_text(
                    chunks[0], inline_message_id=self.inline_message_id, reply_markup=markup
                )
            )
        except BadRequest as exc:
            if not not_modified(exc):
                log.info("inline edit failed: %s", exc.message)

    async def reply_text(self, text: str, *, private: bool = False) -> None:
        """Replace the placeholder with the text (e.g. an error)."""
        await self._edit(text)

    async def reply_choices(self, text: str, choices: list[Choice]) -> None:
        """Just the text: a picker would run commands in a chat we don't know."""
        await self._edit(text)

    async def ask_confirm(self, question: str, *, yes: str, cancel: str) -> bool:
        """Nobody can be asked here; never confirmed."""
        return False

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        """No chat to show an action in: the placeholder is the hint."""
        yield

    async def progress(self, text: str) -> None:
        """Edit the placeholder."""
        await self._edit(text)

    async def reply_audio(self, audio: AudioReply, *, caption: str | None = None) -> None:
        """Put the audio into the inline message by file id, uploading it first if needed."""
        file_id = audio.file_ids.get(AUDIO_KEY)
        if not file_id:
            file_id = await self._upload(audio)
        media = InputMediaAudio(
            file_id, caption=caption, title=audio.title, performer=audio.voice_name
        )
        try:
            await with_retries(
                lambda: self.bot.edit_message_media(media, inline_message_id=self.inline_message_id)
            )
        except TelegramError as exc:
            raise DeliveryError(f"inline edit failed: {type(exc).__name__}") from exc

    async def _upload(self, audio: AudioReply) -> str:
        """Upload the MP3 to the user's private chat to get a file id, then tidy up."""
        target = Target(self.bot, self._user)
        try:
            message = await send_audio_file(target, audio, None)
        except TelegramError as exc:  # e.g. the user never started the bot privately
            raise DeliveryError(f"inline upload failed: {type(exc).__name__}") from exc
        await remember(self.app, audio, message)
        with contextlib.suppress(TelegramError):
            await message.delete()
        if message.audio is None:
            raise DeliveryError("inline upload returned no audio")
        return message.audio.file_id
