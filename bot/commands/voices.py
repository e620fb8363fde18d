"""Voices: list, details, choose, clone, styles, avatar, share, import, delete."""

from __future__ import annotations

import asyncio

from bot import audio, images
from bot.app import App
from bot.context import Attachment, Capability, ChatContext, Choice, confirmed
from bot.errors import MediaError, NotAllowedError, UsageError
from bot.i18n import t
from bot.limits import scope_of
from bot.registry import Arg, ArgKind, Args, command
from bot.resolve import extract_share_id, is_own, resolve_style, resolve_voice, status_key
from bot.vocu.client import VocuClient
from bot.vocu.models import Voice

MB = 1024 * 1024
VOICE = Arg("voice", ArgKind.VOICE)


async def _voice(app: App, ctx: ChatContext, query: str | None) -> tuple[VocuClient, Voice]:
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    return vocu, resolve_voice(await app.voices(vocu), query or "")


def _voice_line(locale: str, v: Voice) -> str:
    styles = ", ".join(s.label for s in v.styles) or "—"
    return t(
        locale,
        "voices.line",
        name=v.name,
        status=t(locale, f"status.{status_key(v)}"),
        styles=styles,
    )


@command("voices")
async def voices(app: App, ctx: ChatContext, args: Args) -> None:
    """Every voice of the account with its styles and status; tap one to use it."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    found = await app.voices(vocu, fresh=True)
    if not found:
        await ctx.reply_text(t(ctx.locale, "voice.none"))
        return
    text = "\n".join(
        [t(ctx.locale, "voices.header", count=len(found))]
        + [_voice_line(ctx.locale, v) for v in found]
    )
    usable = [v for v in found if v.is_usable]
    if ctx.can(Capability.BUTTONS) and usable:
        choices = [
            Choice(v.name, f"use {v.id}", detail=_voice_line(ctx.locale, v), image=v.avatar_url)
            for v in usable[:25]
        ]
        await ctx.reply_choices(text, choices)
    else:
        await ctx.reply_text(text)


@command("voice", VOICE, group="voice", sub="info")
async def voice_info(app: App, ctx: ChatContext, args: Args) -> None:
    """Details of one voice: status, description, styles, avatar."""
    _, v = await _voice(app, ctx, args.get("voice"))
    lines = [
        t(ctx.locale, "voice.title", name=v.name, status=t(ctx.locale, f"status.{status_key(v)}")),
        t(ctx.locale, "voice.description", text=v.description or "—"),
        t(ctx.locale, "voice.styles", styles=", ".join(s.label for s in v.styles) or "—"),
        t(ctx.locale, "voice.id", id=v.id),
    ]
    if v.avatar_url:
        lines.append(t(ctx.locale, "voice.avatar", url=v.avatar_url))
    await ctx.reply_text("\n".join(lines))


@command("use", VOICE, Arg("style", ArgKind.STYLE, required=False))
async def use(app: App, ctx: ChatContext, args: Args) -> None:
    """Make a voice (and style) the user's current one."""
    _, v = await _voice(app, ctx, args.get("voice"))
    style = resolve_style(v, args.get("style"))
    await app.storage.update_user_settings(
        ctx.platform, ctx.user_id, voice_id=v.id, style_id=style.id
    )
    text = t(ctx.locale, "use.done", voice=v.name, style=style.label)
    if not args.get("style") and len(v.styles) > 1 and ctx.can(Capability.BUTTONS):
        choices = [Choice(s.label, f'use {v.id} "{s.id}"') for s in v.styles[:25]]
        await ctx.reply_choices(text + "\n" + t(ctx.locale, "use.pick_style"), choices)
        return
    await ctx.reply_text(text)


async def _read_audio(att: Attachment, max_bytes: int, min_seconds: float) -> audio.PreparedSample:
    if att.size is not None and att.size > max_bytes:
        raise MediaError("media.audio_too_large", limit_mb=max_bytes // MB)
    data = await att.read()
    return await asyncio.to_thread(
        audio.prepare_sample, data, max_bytes=max_bytes, min_seconds=min_seconds
    )


@command(
    "clone", Arg("name", ArgKind.WORD), Arg("sample", ArgKind.AUDIO), group="voice", sub="clone"
)
async def clone(app: App, ctx: ChatContext, args: Args) -> None:
    """Create a voice from an audio sample, after the consent step."""
    name = (args.get("name") or "").strip()
    if len(name) > 64:
        raise UsageError("clone.bad_name")
    scope = await app.storage.get_scope_settings(ctx.platform, scope_of(ctx))
    if not ctx.is_private and not scope.allow_cloning:
        raise NotAllowedError("clone.disabled")
    att = args.attachments["sample"]
    if att.size is not None and att.size > app.limits.clone_max_bytes:
        raise MediaError("media.audio_too_large", limit_mb=app.limits.clone_max_bytes // MB)
    if not await confirmed(ctx, t(ctx.locale, "clone.consent", name=name)):
        return
    async with ctx.working():
        sample = await _read_audio(att, app.limits.clone_max_bytes, app.limits.min_sample_seconds)
        vocu = await app.client_for(ctx.platform, ctx.user_id)
        created = await vocu.voices.create(
            name=name, prompt=sample.data, prompt_mime=sample.mime, vocal_filter=True
        )
    app.forget_voices(vocu)
    await ctx.reply_text(
        t(ctx.locale, "clone.creating", name=name, seconds=round(sample.duration, 1))
    )
    app.spawn(_announce_ready(app, ctx, vocu, created), name=f"clone-{created.id}")


async def _announce_ready(app: App, ctx: ChatContext, vocu: VocuClient, created: Voice) -> None:
    try:
        ready = await vocu.voices.wait_ready(created.id, timeout=app.limits.voice_ready_timeout)
    except Exception:
        await ctx.reply_text(t(ctx.locale, "clone.still_creating", name=created.name))
        return
    app.forget_voices(vocu)
    key = "clone.ready" if ready.is_usable else "clone.failed"
    await ctx.reply_text(t(ctx.locale, key, name=ready.name))


@command(
    "style_add",
    VOICE,
    Arg("name", ArgKind.WORD),
    Arg("sample", ArgKind.AUDIO),
    group="voice",
    sub="style_add",
)
async def style_add(app: App, ctx: ChatContext, args: Args) -> None:
    """Add a style to a voice from an audio sample (≤ 20 MB)."""
    vocu, v = await _voice(app, ctx, args.get("voice"))
    _require_own(v)
    att = args.attachments["sample"]
    async with ctx.working():
        sample = await _read_audio(att, app.limits.style_max_bytes, app.limits.min_sample_seconds)
        updated = await vocu.voices.add_style(
            v.id, name=args.get("name") or "", prompt=sample.data, prompt_mime=sample.mime
        )
    app.forget_voices(vocu)
    await ctx.reply_text(t(ctx.locale, "style.added", voice=updated.name, style=args.get("name")))


@command("style_remove", VOICE, Arg("style", ArgKind.STYLE), group="voice", sub="style_remove")
async def style_remove(app: App, ctx: ChatContext, args: Args) -> None:
    """Remove a style (not the default one) from a voice."""
    vocu, v = await _voice(app, ctx, args.get("voice"))
    _require_own(v)
    style = resolve_style(v, args.get("style"))
    if style.id == "default":
        raise UsageError("style.default_locked")
    await vocu.voices.delete_style(v.id, style.id)
    app.forget_voices(vocu)
    await ctx.reply_text(t(ctx.locale, "style.removed", voice=v.name, style=style.label))


@command("avatar", VOICE, Arg("image", ArgKind.IMAGE), group="voice", sub="avatar")
async def avatar(app: App, ctx: ChatContext, args: Args) -> None:
    """Set a voice's avatar from an image (≤ 10 MB; stored as PNG ≤ 1024 px)."""
    vocu, v = await _voice(app, ctx, args.get("voice"))
    _require_own(v)
    att = args.attachments["image"]
    limit = app.limits.avatar_max_bytes
    if att.size is not None and att.size > limit:
        raise MediaError("media.image_too_large", limit_mb=limit // MB)
    image = await asyncio.to_thread(images.normalise_avatar, await att.read(), max_bytes=limit)
    await vocu.voices.upload_avatar(v.id, image=image.png, mime="image/png")
    app.forget_voices(vocu)
    await ctx.reply_text(
        t(ctx.locale, "avatar.done", voice=v.name, width=image.width, height=image.height)
    )


@command("share", VOICE, group="voice", sub="share")
async def share(app: App, ctx: ChatContext, args: Args) -> None:
    """A share card with a one-time share id."""
    vocu, v = await _voice(app, ctx, args.get("voice"))
    _require_own(v)
    share_id = await vocu.voices.share(v.id)
    styles = ", ".join(s.label for s in v.styles) or "—"
    card = t(
        ctx.locale,
        "share.card",
        name=v.name,
        description=v.description or "—",
        styles=styles,
        share_id=share_id,
    )
    # Optional ChatContext hook: platforms with start links (Telegram's t.me/<bot>?start=…).
    deep_link = getattr(ctx, "deep_link", None)
    link = deep_link(f"import_{share_id}") if callable(deep_link) else None
    if link:
        card += "\n" + t(ctx.locale, "share.link", link=link)
    await ctx.reply_text(card)


@command("import", Arg("share_id", ArgKind.WORD), group="voice", sub="import")
async def import_voice(app: App, ctx: ChatContext, args: Args) -> None:
    """Add a shared voice by share id or share link."""
    share_id = extract_share_id(args.get("share_id") or "")
    if share_id is None:
        raise UsageError("import.bad_id")
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    async with ctx.working():
        v = await vocu.voices.import_shared(share_id)
    app.forget_voices(vocu)
    styles = ", ".join(s.label for s in v.styles) or "—"
    await ctx.reply_text(t(ctx.locale, "import.done", name=v.name, styles=styles))


@command("delete", VOICE, group="voice", sub="delete")
async def delete(app: App, ctx: ChatContext, args: Args) -> None:
    """Delete a voice, after confirmation."""
    vocu, v = await _voice(app, ctx, args.get("voice"))
    _require_own(v)
    if not await confirmed(ctx, t(ctx.locale, "delete.confirm", name=v.name)):
        return
    await vocu.voices.delete(v.id)
    app.forget_voices(vocu)
    settings = await app.storage.get_user_settings(ctx.platform, ctx.user_id)
    if settings.voice_id == v.id:
        await app.storage.update_user_settings(
            ctx.platform, ctx.user_id, voice_id=None, style_id=None
        )
    await ctx.reply_text(t(ctx.locale, "delete.done", name=v.name))


def _require_own(v: Voice) -> None:
    if not is_own(v):
        raise NotAllowedError("voice.not_own", name=v.name)
