"""Native Discord voice messages over raw HTTP (discord.py cannot send them yet).

A voice message is a multipart POST whose `payload_json` carries message flag 8192
(IS_VOICE_MESSAGE) and one attachment with `duration_secs` and a base64 `waveform` (≤ 256
one-byte samples), and whose `files[0]` is OGG/Opus. It goes through discord.py's own HTTP client
(same session, auth, rate limits and retries), to a channel or to an interaction's follow-up
webhook. Where voice messages are refused (50173: the channel does not allow them; 50013: no
Send Voice Messages permission) or the user asked for files, the MP3 goes as a plain attachment.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.http import HTTPClient, Route

from bot import audio as media
from bot.audio import VoiceNote
from bot.context import AudioReply

log = logging.getLogger(__name__)

VOICE_MESSAGE_FLAG = 1 << 13
FILENAME = "voice-message.ogg"
REFUSED_CODES = frozenset({50173, 50013})  # voice messages not allowed here → send a file
NO_PINGS: dict[str, Any] = {"parse": []}

SendFile = Callable[[discord.File], Awaitable[discord.Message | None]]


def channel_route(channel_id: int | str) -> Route:
    """POST a message to a channel."""
    return Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)


def followup_route(application_id: int | str, token: str) -> Route:
    """POST a follow-up message to an interaction (accepts flags like a channel message)."""
    return Route(
        "POST",
        "/webhooks/{webhook_id}/{webhook_token}",
        webhook_id=application_id,
        webhook_token=token,
    )


def voice_payload(note: VoiceNote) -> dict[str, Any]:
    """The `payload_json` of a voice message: flag 8192, one attachment with its metadata."""
    attachment = {
        "id": 0,
        "filename": FILENAME,
        "duration_secs": round(note.duration, 2),
        "waveform": note.waveform_b64,
    }
    return {"flags": VOICE_MESSAGE_FLAG, "allowed_mentions": NO_PINGS, "attachments": [attachment]}


async def post_voice_message(http: HTTPClient, route: Route, note: VoiceNote) -> dict[str, Any]:
    """Send `note` as a voice message to `route`; returns the created message object."""
    form: list[dict[str, Any]] = [
        {
            "name": "payload_json",
            "value": json.dumps(voice_payload(note)),
            "content_type": "application/json",
        },
        {"name": "files[0]", "value": note.ogg, "filename": FILENAME, "content_type": "audio/ogg"},
    ]
    params = {"wait": "true"} if route.webhook_token else None
    message: dict[str, Any] = await http.request(route, form=form, params=params)
    return message


def audio_file(reply: AudioReply) -> discord.File:
    """The MP3 as a plain attachment, named after the voice (and style)."""
    stem = re.sub(r"[^\w\-]+", "_", reply.title, flags=re.UNICODE).strip("_")[:60] or "speech"
    return discord.File(
        io.BytesIO(reply.mp3), filename=f"{stem}.mp3", description=reply.title[:1024]
    )


async def deliver_speech(
    http: HTTPClient, route: Route, reply: AudioReply, send_file: SendFile
) -> str | None:
    """A voice message if allowed (else the MP3 file); returns the uploaded file's URL."""
    if not reply.prefer_file:
        note = await media.to_voice_note_async(reply.mp3)
        try:
            message = await post_voice_message(http, route, note)
        except discord.HTTPException as exc:
            if exc.code not in REFUSED_CODES and not 400 <= exc.status < 500:
                raise  # a server error: let the caller retry or report; the audio is kept
            # 50173/50013: not allowed here; any other 4xx: Discord rejected the voice-message
            # form itself (e.g. on a webhook). The paid audio still goes out, as a file.
            log.info("voice message refused (code %s); sending an audio file", exc.code)
        else:
            attachments = message.get("attachments") or [{}]
            url = attachments[0].get("url")
            return str(url) if url else None
    sent = await send_file(audio_file(reply))
    return sent.attachments[0].url if sent is not None and sent.attachments else None
