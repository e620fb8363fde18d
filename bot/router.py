"""Dispatch: one invocation in, replies out. The ONE place where errors become replies."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot import commands as _commands  # noqa: F401  (registers every command)
from bot.app import App
from bot.context import Attachment, ChatContext
from bot.errors import NotAllowedError, UsageError, UserFacingError
from bot.i18n import t
from bot.limits import scope_of
from bot.registry import REGISTRY, Args, Command, Where, as_str_values, check_required, parse_text
from bot.vocu import errors as ve

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Invocation:
    """What an adapter extracted from a platform event."""

    command: str
    text: str = ""  # the raw argument line (text platforms)
    options: Mapping[str, Any] = field(default_factory=dict)  # named options (Discord)
    attachments: list[Attachment] = field(default_factory=list)


def build_args(cmd: Command, inv: Invocation) -> Args:
    """Named values from options or the raw line, plus attachments bound to the file argument."""
    values = parse_text(cmd, inv.text) if inv.text else {}
    values.update(
        as_str_values(
            {k: v for k, v in inv.options.items() if isinstance(v, str | int | float | bool)}
        )
    )
    attachments: dict[str, Attachment] = {}
    for name, value in inv.options.items():
        if isinstance(value, Attachment):
            attachments[name] = value
    file_arg = cmd.attachment_arg
    if file_arg and file_arg.name not in attachments and inv.attachments:
        attachments[file_arg.name] = inv.attachments[0]
    return Args(values=values, attachments=attachments)


async def dispatch(app: App, ctx: ChatContext, inv: Invocation) -> None:
    """Run one command for `ctx`, replying with a friendly message on any error."""
    cmd = REGISTRY.get(inv.command.lower())
    try:
        await app.storage.prefetch(ctx.platform, ctx.user_id, scope_of(ctx))  # one read
        user = await app.storage.get_user_settings(ctx.platform, ctx.user_id)
        if user.language:
            ctx.locale = user.language
        if cmd is None:
            raise UsageError("error.unknown_command", command=inv.command)
        if cmd.where is Where.PRIVATE and not ctx.is_private:
            raise NotAllowedError("error.private_only", command=cmd.name)
        if cmd.admin_only and not ctx.is_admin:
            raise NotAllowedError("error.admin_only")
        await _check_role(app, ctx, cmd)
        args = build_args(cmd, inv)
        check_required(cmd, args, ctx.locale)
        await cmd.handler(app, ctx, args)
    except Exception as exc:  # the one mapping; anything unexpected gets an incident id
        await ctx.reply_text(error_reply(exc, ctx.locale), private=True)


async def _check_role(app: App, ctx: ChatContext, cmd: Command) -> None:
    """A server may require a role to use the bot (admins and /help are always allowed)."""
    if not ctx.guild_id or ctx.is_admin or cmd.name in ("help", "start"):
        return
    scope = await app.storage.get_scope_settings(ctx.platform, ctx.guild_id)
    roles = getattr(ctx, "roles", ())  # only platforms with roles (Discord) expose them
    if scope.required_role and scope.required_role not in roles:
        raise NotAllowedError("error.role_required", role=scope.required_role)


def error_reply(exc: BaseException, locale: str | None) -> str:
    """The translated, safe reply for an exception."""
    if isinstance(exc, UserFacingError):
        return t(locale, exc.key, **exc.params)
    if isinstance(exc, ve.VocuError):
        return _vocu_reply(exc, locale)
    incident = uuid.uuid4().hex[:8]
    log.error("unexpected error (incident %s)", incident, exc_info=exc)
    return t(locale, "error.unexpected", ref=incident)


def _vocu_reply(exc: ve.VocuError, locale: str | None) -> str:
    rid = exc.request_id or "-"
    log.warning("vocu error: %s", exc)
    match exc:
        case ve.InsufficientCredit():
            return t(locale, "error.no_credit")
        case ve.PaidOnly():
            return t(locale, "error.paid_only")
        case ve.RateLimited():
            return t(locale, "error.rate_limited", seconds=int(exc.retry_after or 5))
        case ve.VoiceCreating():
            return t(locale, "error.voice_creating")
        case ve.NotFound():
            return t(locale, "error.vocu_not_found")
        case ve.Unauthorized():
            return t(locale, "error.bad_key")
        case ve.TooLarge():
            return t(locale, "error.too_large")
        case ve.BadRequest() if exc.code == "MINIMUM_DURATION_NOT_MET":
            return t(locale, "media.audio_too_short", seconds=3)
        case ve.BadRequest() if (exc.code or "").startswith("SAFETY_"):
            return t(locale, "error.rejected", request_id=rid)
        case ve.BadRequest():
            return t(locale, "error.bad_request", message=exc.message, request_id=rid)
        case ve.VocuValidationError():
            return t(locale, "error.bad_request", message=exc.message, request_id=rid)
    return t(locale, "error.unavailable", request_id=rid)
