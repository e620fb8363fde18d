"""Plain text for Telegram: lengths in UTF-16 code units, long texts split into messages."""

from __future__ import annotations

MAX_TEXT = 4096  # UTF-16 code units per message


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units (emoji take two)."""
    size = 0
    for i, char in enumerate(text):
        size += 2 if ord(char) > 0xFFFF else 1
        if size > limit:
            return i
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut `text` into messages of ≤ `limit` UTF-16 units, at a newline or space if possible."""
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        at = window.rfind("\n")
        if at < cut // 2:
            at = window.rfind(" ")
        if at < cut // 2:  # one very long word: cut it hard
            at = cut
        chunks.append(rest[:at])
        rest = rest[at:]
        if rest[:1] in ("\n", " "):
            rest = rest[1:]
    chunks.append(rest)
    return [c for c in chunks if c.strip()]  # Telegram refuses blank messages
