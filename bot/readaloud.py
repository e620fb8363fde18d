"""Reading chat messages aloud: text cleanup, "<name> said", and streamed speech as PCM frames.

Platform-agnostic: an adapter passes the raw message text plus the names its mentions stand
for (users, roles, channels); nothing here imports a chat library. The markup understood is the
common chat markdown (code blocks, spoilers, emphasis) and Discord-style `<@id>` tokens, which
other platforms simply never produce.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from bot import limits, live_audio
from bot.app import App
from bot.context import ChatContext
from bot.i18n import CATALOGS, normalise_locale, t
from bot.synth import SpeechRequest, request_key
from bot.text import billable_chars, split_sentences
from bot.vocu.client import VocuClient

MAX_CHARS = 500  # one message read aloud; the rest is cut with an ellipsis
SAID_AGAIN_AFTER = 300.0  # seconds of silence after which the same speaker is named again

# Words spoken in place of markup. The catalogue wins when it has the key (readaloud.*).
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "readaloud.said": "{name} said: {text}",
        "readaloud.link": "a link to {site}",
        "readaloud.code": "a code block",
        "readaloud.spoiler": "a spoiler",
        "readaloud.attachment": "{name} sent a file",
    },
    "zh": {
        "readaloud.said": "{name}说：{text}",
        "readaloud.link": "一个{site}的链接",
        "readaloud.code": "一段代码",
        "readaloud.spoiler": "一段剧透",
        "readaloud.attachment": "{name}发送了一个文件",
    },
}

_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_SPOILER = re.compile(r"\|\|.+?\|\|", re.S)
_URL = re.compile(r"<?(?:https?|ftp)://([^\s/?#>]+)[^\s>]*>?", re.I)
_MASKED_LINK = re.compile(r"\[([^\]\n]+)\]\(<?(?:https?|ftp)://[^)\s]+>?\)", re.I)
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_EMOJI = re.compile(r"<a?:([A-Za-z0-9_~]+):\d+>")
_SLASH_COMMAND = re.compile(r"</([\w -]+):\d+>")
_TIMESTAMP = re.compile(r"<t:-?\d+(?::[tTdDfFR])?>")
_SHORTCODE = re.compile(r"(?<![\w:]):([a-z0-9_+-]{2,32}):(?![\w:])")
_MARKUP = re.compile(r"(\*\*|__|~~|\*|(?<!\w)_|_(?!\w))")
_LINE_PREFIX = re.compile(r"^\s*(?:>>>|>|#{1,3}\s|-#\s|[-*]\s)\s*", re.M)
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def words(locale: str | None, key: str, **params: str) -> str:
    """A spoken filler word in `locale` (catalogue first, then this module's defaults)."""
    lang = normalise_locale(locale)
    if key in CATALOGS[lang] or key in CATALOGS["en"]:
        return t(locale, key, **params)
    template = _WORDS[lang].get(key) or _WORDS["en"][key]
    return template.format(**params)


@dataclass(frozen=True, slots=True)
class Names:
    """What the ids in a message stand for: user, role and channel names."""

    users: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)


def clean(text: str, names: Names | None = None, *, locale: str | None = None) -> str:
    """Turn a chat message into speakable text (empty when nothing is worth saying)."""
    names = names or Names()
    text = _CODE_BLOCK.sub(lambda _: f" {words(locale, 'readaloud.code')}. ", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _SPOILER.sub(lambda _: f" {words(locale, 'readaloud.spoiler')} ", text)
    text = _MASKED_LINK.sub(r"\1", text)
    text = _URL.sub(lambda m: words(locale, "readaloud.link", site=_site(m.group(1))), text)
    text = _USER.sub(lambda m: names.users.get(m.group(1), ""), text)
    text = _ROLE.sub(lambda m: names.roles.get(m.group(1), ""), text)
    text = _CHANNEL.sub(lambda m: names.channels.get(m.group(1), ""), text)
    text = _EMOJI.sub(lambda m: f" {m.group(1).replace('_', ' ')} ", text)
    text = _SLASH_COMMAND.sub(lambda m: m.group(1), text)
    text = _TIMESTAMP.sub("", text)
    text = _SHORTCODE.sub(lambda m: f" {m.group(1).replace('_', ' ')} ", text)
    text = _LINE_PREFIX.sub("", text)
    text = _MARKUP.sub("", text)
    text = _BLANK_LINES.sub(". ", text.strip())
    text = _SPACES.sub(" ", text).strip(" .")
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r"([.!?])\.+", r"\1", text)
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", 0, MAX_CHARS)
        text = text[: cut if cut > MAX_CHARS // 2 else MAX_CHARS].rstrip(" ,.") + "…"
    return text if any(ch.isalnum() for ch in text) else ""


def _site(host: str) -> str:
    """`www.youtube.com:443` → `youtube.com`."""
    host = host.split("@")[-1].split(":")[0].lower()
    return host.removeprefix("www.")


class SpeakerTracker:
    """Prefixes "<name> said" when the speaker in a channel changes (or after a long pause)."""

    def __init__(self, *, again_after: float = SAID_AGAIN_AFTER) -> None:
        self._last: dict[str, tuple[str, float]] = {}
        self._again_after = again_after

    def narrate(
        self,
        channel_id: str,
        speaker_id: str,
        speaker_name: str,
        text: str,
        *,
        locale: str | None = None,
        now: float | None = None,
    ) -> str:
        """The text to speak for this message in this channel."""
        now = time.monotonic() if now is None else now
        last = self._last.get(channel_id)
        self._last[channel_id] = (speaker_id, now)
        if last is not None and last[0] == speaker_id and now - last[1] < self._again_after:
            return text
        return words(locale, "readaloud.said", name=speaker_name, text=text)

    def forget(self, channel_id: str) -> None:
        """Start afresh (e.g. after the bot left the voice channel)."""
        self._last.pop(channel_id, None)


async def admit(app: App, ctx: ChatContext, req: SpeechRequest) -> None:
    """The checks /say makes before any Vocu call (rate limit, daily budgets); raise if refused."""
    app.rate_limiter.check(ctx.platform, ctx.user_id)
    await limits.check_budget(app, ctx, billable_chars(req.text))


async def speech_pcm(
    app: App, ctx: ChatContext, vocu: VocuClient, req: SpeechRequest
) -> AsyncIterator[bytes]:
    """Stream `req` as 20 ms PCM frames while it is generated, piece by piece.

    Audio /say already cached is played from the cache (no Vocu call). Otherwise each piece is
    decoded separately (every MP3 stream has its own header), and the first frame is yielded as
    soon as the first bytes decode: playback need not wait for the whole clip. The characters
    count against the daily budgets once generation has started. Call `admit` first.
    """
    key = request_key(req)
    hit = await app.cached_audio(key)  # the same key /say uses (bot.synth.speak)
    if hit is not None:
        async for frame in live_audio.pcm_frames(_once(hit[1])):
            yield frame
        return
    started = False
    try:
        for piece in split_sentences(req.text, app.limits.request_chars):
            async with vocu.tts.stream(
                voice_id=req.voice.generate_id, text=piece, style_id=req.style.id, params=req.params
            ) as stream:
                started = True
                async for frame in live_audio.pcm_frames(stream.iter_chunks()):
                    yield frame
    finally:
        if started:
            limits.record_usage(app, ctx, billable_chars(req.text))


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
