"""Files a user sent with a command (caption) or replied to, as core Attachments."""

from __future__ import annotations

from telegram import Audio, Bot, Document, Message, PhotoSize, Video, VideoNote, Voice
from telegram.error import BadRequest

from adapters.telegram_app.delivery import with_retries
from bot.context import Attachment
from bot.errors import MediaError

MB = 1024 * 1024
DOWNLOAD_LIMIT = 20 * MB  # getFile refuses bigger files on the public Bot API

TelegramFile = Audio | Document | PhotoSize | Video | VideoNote | Voice


def _kind_of(mime: str | None) -> str:
    top = (mime or "").split("/")[0]
    return {"image": "image", "audio": "audio", "video": "video"}.get(top, "file")


def _too_large(kind: str) -> MediaError:
    key = "media.image_too_large" if kind == "image" else "media.audio_too_large"
    return MediaError(key, limit_mb=DOWNLOAD_LIMIT // MB)


def _attachment(
    bot: Bot, file: TelegramFile, filename: str, mime: str | None, kind: str
) -> Attachment:
    """An Attachment whose read() checks the size, then downloads through the Bot API."""
    size = file.file_size

    async def read() -> bytes:
        if size is not None and size > DOWNLOAD_LIMIT:
            raise _too_large(kind)  # before any download: getFile would refuse it anyway
        try:
            remote = await with_retries(lambda: bot.get_file(file.file_id))
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise _too_large(kind) from exc
            raise
        if remote.file_size is not None and remote.file_size > DOWNLOAD_LIMIT:
            raise _too_large(kind)
        return bytes(await remote.download_as_bytearray())

    return Attachment(filename=filename, content_type=mime, size=size, read=read, kind=kind)


def _from_message(bot: Bot, m: Message) -> Attachment | None:
    """The file carried by one message, if any (largest photo size)."""
    if m.voice is not None:
        return _attachment(bot, m.voice, "voice.ogg", m.voice.mime_type or "audio/ogg", "voice")
    if m.audio is not None:
        mime = m.audio.mime_type or "audio/mpeg"
        return _attachment(bot, m.audio, m.audio.file_name or "audio.mp3", mime, "audio")
    if m.video_note is not None:
        return _attachment(bot, m.video_note, "video_note.mp4", "video/mp4", "video")
    if m.document is not None:
        doc_mime = m.document.mime_type
        name = m.document.file_name or "file"
        return _attachment(bot, m.document, name, doc_mime, _kind_of(doc_mime))
    if m.photo:
        return _attachment(bot, m.photo[-1], "photo.jpg", "image/jpeg", "image")
    if m.video is not None:
        mime = m.video.mime_type or "video/mp4"
        return _attachment(bot, m.video, m.video.file_name or "video.mp4", mime, "video")
    return None


def attachments_of(bot: Bot, message: Message) -> list[Attachment]:
    """The file sent with the command, else the one in the message it replies to."""
    for m in (message, message.reply_to_message):
        if m is not None and (found := _from_message(bot, m)) is not None:
            return [found]
    return []
