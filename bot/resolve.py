"""Resolve what users type into voices and styles: name, case-insensitive, unique prefix, or id."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.errors import UsageError, UserFacingError
from bot.vocu.models import Style, Voice

T = TypeVar("T")

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _pick(
    items: Sequence[T], query: str, name: Callable[[T], str], ident: Callable[[T], str]
) -> list[T]:
    q = query.strip().casefold()
    for exact in (
        [i for i in items if ident(i) == query.strip()],
        [i for i in items if name(i).casefold() == q],
    ):
        if exact:
            return exact[:1]
    return [i for i in items if name(i).casefold().startswith(q)] if q else []


def resolve_voice(voices: Sequence[Voice], query: str) -> Voice:
    """The one voice `query` names; UsageError with the choices when ambiguous or unknown."""
    found = _pick(voices, query, lambda v: v.name, lambda v: v.id)
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(
            "voice.ambiguous", query=query, choices=", ".join(v.name for v in found[:10])
        )
    names = [v.name for v in voices]
    close = difflib.get_close_matches(query, names, n=3, cutoff=0.5)
    if close:
        raise UserFacingError("voice.not_found_suggest", query=query, suggestions=", ".join(close))
    raise UserFacingError("voice.not_found", query=query)


def resolve_style(voice: Voice, query: str | None) -> Style:
    """The style of `voice` that `query` names; the default style when `query` is empty."""
    styles = voice.styles
    if not query:
        return next((s for s in styles if s.id == "default"), styles[0])
    found = _pick(styles, query, lambda s: s.label, lambda s: s.id)
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError("style.ambiguous", query=query, choices=", ".join(s.label for s in found))
    raise UserFacingError(
        "style.not_found", query=query, voice=voice.name, choices=", ".join(s.label for s in styles)
    )


def extract_share_id(text: str) -> str | None:
    """The share id in a pasted id or share link, or None when there is none."""
    match = UUID.search(text or "")
    return match.group(0).lower() if match else None


def is_own(voice: Voice) -> bool:
    """Whether the account created (or imported) this voice, so it may change it."""
    return voice.from_ in (None, "upload") and not voice.id.startswith("market:")


def status_key(voice: Voice) -> str:
    """The catalogue key suffix for a voice's status."""
    if voice.is_usable:
        return "ready"
    if voice.status == "creating":
        return "creating"
    if voice.status.endswith("failed"):
        return "failed"
    if voice.status.startswith("lora-"):
        return "training"
    return "other"
