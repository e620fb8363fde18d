"""Text helpers: sentence splitting for long speech, chat-message splitting."""

from __future__ import annotations

import re

_MARKERS = re.compile(r"\{\{.*?\}\}", re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;…])\s*|\n+")


def split_sentences(text: str, max_chars: int) -> list[str]:
    """Split `text` into pieces of at most `max_chars`, cutting at sentence ends where possible."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s and s.strip()]
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > max_chars:  # one huge sentence: cut at the last space, else hard
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            head, sentence = sentence[:cut].strip(), sentence[cut:].strip()
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        joined = f"{current} {sentence}".strip() if current else sentence
        if len(joined) <= max_chars:
            current = joined
        else:
            pieces.append(current)
            current = sentence
    if current:
        pieces.append(current)
    return pieces


def split_message(text: str, limit: int) -> list[str]:
    """Split a long reply into chunks of at most `limit` characters at line breaks."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [""]


def billable_chars(text: str) -> int:
    """Characters as Vocu bills them: code points, `{{…}}` instruct markers stripped (PC-7)."""
    return len(_MARKERS.sub("", text))
