"""Every user-visible string: English and Simplified Chinese catalogues, one lookup function."""

from __future__ import annotations

from typing import Any

from bot.i18n.en import CATALOG as EN
from bot.i18n.zh import CATALOG as ZH

CATALOGS: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}
LANGUAGES = tuple(CATALOGS)


def normalise_locale(locale: str | None) -> str:
    """Map a platform locale ("zh-CN", "zh-hans", "en-US", None) to a catalogue language."""
    if locale and locale.lower().replace("_", "-").startswith("zh"):
        return "zh"
    return "en"


def has_key(key: str) -> bool:
    """Whether the catalogue defines `key`."""
    return key in EN


def t(locale: str | None, key: str, **params: Any) -> str:
    """The string for `key` in `locale`, formatted with `params`; falls back to English."""
    lang = normalise_locale(locale)
    template = CATALOGS[lang].get(key) or EN.get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
