"""What both burst benchmarks send: short, distinct phrases, spread over every voice and style.

The simulator's audio depends on voice, style and text length only, so the burst gives every
chat its own (voice, style, length): distinct texts of one length in one voice would be one clip
(and one transcode), which would measure the caches, not the work. A /say is usually a short
phrase: the burst's texts are SHORTEST to SHORTEST + 14 characters (about 1.2–2.1 s of speech).
"""

from __future__ import annotations

from bot.vocu.models import Voice
from bot.vocu.simulator.audio import pitch_for

LATENCY = 1.0  # seconds the simulator takes to answer each generation
SHORTEST = 20  # characters
SINGLE = 40  # the /say timed alone: longer than any in the burst
WARM_UP = 60  # untimed: each voice's first clip (the simulator encodes a voice's track once)

Plan = dict[int, tuple[str, str, int]]  # chat or user -> (voice id, style id, text length)


def text(n: int, length: int) -> str:
    """A text of exactly `length` characters, distinct for each `n`, with no trailing space."""
    phrase = f"Chat {n} says hello to everyone here, lalala lalala lalala lalala lalala"[:length]
    return phrase[:-1] + "a" if phrase.endswith(" ") else phrase


def combos(voices: list[Voice]) -> list[tuple[str, str]]:
    """Every (voice id, style id) that can speak, but one per pitch: the simulator's tone
    follows a hash of the ids, and two pairs of one pitch would give identical clips."""
    pairs: dict[float, tuple[str, str]] = {}
    for voice in voices:
        if voice.is_usable:
            for style in voice.styles:
                pairs.setdefault(pitch_for(voice.id, style.id), (voice.id, style.id))
    return list(pairs.values())


def plan(voices: list[Voice], ids: list[int]) -> Plan:
    """(voice, style, length) for each id: no two alike."""
    pairs = combos(voices)
    return {n: (*pairs[i % len(pairs)], SHORTEST + i // len(pairs)) for i, n in enumerate(ids)}


def warm_up(voices: list[Voice], first_id: int) -> Plan:
    """One untimed /say per (voice, style), in a length that no timed /say uses."""
    return {first_id + i: (*pair, WARM_UP) for i, pair in enumerate(combos(voices))}


def describe(burst: Plan) -> str:
    """E.g. "texts 20–34 chars, 7 voice/style pairs"."""
    lengths = [length for _, _, length in burst.values()]
    pairs = {(voice, style) for voice, style, _ in burst.values()}
    return f"texts {min(lengths)}–{max(lengths)} chars, {len(pairs)} voice/style pairs"
