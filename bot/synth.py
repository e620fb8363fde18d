"""Speech synthesis shared by every command that speaks: voice choice, splitting, generation."""

from __future__ import annotations

from dataclasses import dataclass

from bot import audio, limits
from bot.app import App
from bot.cache import cache_key
from bot.context import AudioReply, ChatContext
from bot.errors import LimitError, UsageError, UserFacingError
from bot.resolve import is_own, resolve_style, resolve_voice
from bot.text import billable_chars, split_sentences
from bot.vocu.client import VocuClient
from bot.vocu.models import GenerationParams, Style, Voice

PRESETS = ("creative", "balance", "stable")


@dataclass(slots=True)
class SpeechRequest:
    """What to say and how; resolved before any generation call."""

    text: str
    voice: Voice
    style: Style
    params: GenerationParams
    prefer_file: bool


async def current_voice(app: App, ctx: ChatContext, vocu: VocuClient) -> tuple[Voice, Style]:
    """The user's voice/style, else the chat's default, else the first usable voice."""
    voices = await app.voices(vocu)
    user = await app.storage.get_user_settings(ctx.platform, ctx.user_id)
    scope = await app.storage.get_scope_settings(ctx.platform, limits.scope_of(ctx))
    for voice_id, style_id in ((user.voice_id, user.style_id), (scope.voice_id, scope.style_id)):
        voice = next((v for v in voices if voice_id and v.id == voice_id), None)
        if voice and not voice.is_usable and voice_id == user.voice_id:
            raise UserFacingError("voice.not_ready", voice=voice.name)  # never silently swap it
        if voice and voice.is_usable:
            style = next((s for s in voice.styles if s.id == style_id), None)
            return voice, style or resolve_style(voice, None)
    usable = sorted(
        (v for v in voices if v.is_usable and v.styles), key=lambda v: not is_own(v)
    )  # the account's own voices before purchased market voices
    if not usable:
        raise UserFacingError("voice.none")
    return usable[0], resolve_style(usable[0], None)


async def build_request(
    app: App,
    ctx: ChatContext,
    vocu: VocuClient,
    text: str | None,
    *,
    voice: str | None = None,
    style: str | None = None,
    preset: str | None = None,
    speed: str | None = None,
) -> SpeechRequest:
    """Validate the text and options (no generation call) and pick the voice."""
    text = (text or "").strip()
    if not text:
        raise UsageError("say.usage")
    if len(text) > app.limits.max_text_chars:
        raise LimitError("say.too_long", limit=app.limits.max_text_chars, length=len(text))
    settings = await app.storage.get_user_settings(ctx.platform, ctx.user_id)
    preset = preset or settings.preset
    if preset and preset not in PRESETS:
        raise UsageError("settings.bad_preset", choices=", ".join(PRESETS))
    rate = _speech_rate(speed, settings.speed)
    if voice:
        chosen = resolve_voice(await app.voices(vocu), voice)
        chosen_style = resolve_style(chosen, style)
    else:
        chosen, chosen_style = await current_voice(app, ctx, vocu)
        if style:
            chosen_style = resolve_style(chosen, style)
    if not chosen.is_usable:
        raise UserFacingError("voice.not_ready", voice=chosen.name)
    params = GenerationParams(preset=preset, speech_rate=rate)
    return SpeechRequest(text, chosen, chosen_style, params, settings.delivery == "file")


def _speech_rate(speed: str | None, saved: float | None) -> float | None:
    """Convert a user 'speed' (bigger = faster) to the wire speechRate (PC-10: 1/speed)."""
    if speed is None and saved is None:
        return None
    try:
        value = float(speed) if speed is not None else float(saved or 1.0)
    except ValueError:
        raise UsageError("settings.bad_speed") from None
    if not 0.5 <= value <= 2.0:
        raise UsageError("settings.bad_speed")
    return round(1.0 / value, 4)


async def generate(app: App, vocu: VocuClient, req: SpeechRequest) -> AudioReply:
    """One direct_stream round trip per piece; long text is split and joined into one clip."""
    pieces = split_sentences(req.text, app.limits.request_chars)
    parts: list[bytes] = []
    for piece in pieces:
        async with vocu.tts.stream(
            voice_id=req.voice.generate_id, text=piece, style_id=req.style.id, params=req.params
        ) as stream:
            parts.append(await stream.read())
    mp3 = parts[0] if len(parts) == 1 else audio.concat_mp3(parts)
    return AudioReply(
        mp3=mp3,
        title=_title(req),
        duration=None,  # measured only if a delivery needs it (voice notes count their own)
        voice_name=req.voice.name,
        prefer_file=req.prefer_file,
    )


def request_key(req: SpeechRequest) -> str:
    """The audio-cache key of a request: (voice, style, parameters, text)."""
    return cache_key(req.voice.generate_id, req.style.id, req.params.to_wire(), req.text)


async def speak(app: App, ctx: ChatContext, vocu: VocuClient, req: SpeechRequest) -> AudioReply:
    """Cached audio when this exact request was made before; else limits, generation, cache."""
    key = request_key(req)
    hit = await app.cached_audio(key)
    if hit is not None:
        entry, mp3 = hit
        return AudioReply(
            mp3=mp3,
            title=_title(req),
            duration=entry.duration,
            voice_name=req.voice.name,
            cache_key=key,
            file_ids=dict(entry.file_ids),
            prefer_file=req.prefer_file,
        )
    chars = billable_chars(req.text)
    app.rate_limiter.check(ctx.platform, ctx.user_id)
    await limits.check_budget(app, ctx, chars)
    reply = await generate(app, vocu, req)
    reply.cache_key = key
    # bookkeeping happens beside the delivery, not before it
    limits.record_usage(app, ctx, chars)
    app.store_audio(key, reply)
    return reply


def _title(req: SpeechRequest) -> str:
    style = "" if req.style.id == "default" else f" ({req.style.label})"
    return f"{req.voice.name}{style}"
