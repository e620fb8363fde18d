"""What both burst benchmarks send: short, distinct phrases, spread over every voice and style.

The simulator's audio depends on voice, style and text length only, so the burst gives every
chat its own (voice, style, length): distinct texts of one length in one voice would be one clip
(and one transcode), which would measure the caches, not the work. A /say is usually a short
phrase: by default the burst's texts are 20 to 34 characters (about 1.2–2.1 s of speech);
`--shortest N` makes them N to N + 14 (e.g. 80: about 5 s each).
"""

from __future__ import annotations

from bot.vocu.models import Voice
from bot.vocu.simulator.audio import pitch_for

LATENCY = 1.0  # seconds the simulator takes to answer each generation
SHORTEST = 20  # characters

Plan = dict[int, tuple[str, str, int]]  # chat or user -> (voice id, style id, text length)


def options(argv: list[str], default_count: int = 100) -> tuple[int, int]:
    """(chats, shortest) from `[chats] [--shortest N]`."""
    count, shortest = default_count, SHORTEST
    for i, arg in enumerate(argv):
        if arg == "--shortest":
            shortest = int(argv[i + 1])
        elif arg.isdigit() and (i == 0 or argv[i - 1] != "--shortest"):
            count = int(arg)
    return count, shortest


def text(n: int, length: int) -> str:
    """A text of exactly `length` characters, distinct for each `n`, with no trailing space."""
    phrase = (f"Chat {n} says hello to everyone here, lalala lalala. " * 20)[:length]
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


def plan(voices: list[Voice], ids: list[int], shortest: int = SHORTEST) -> Plan:
    """(voice, style, length) for each id: no two alike."""
    pairs = combos(voices)
    return {n: (*pairs[i % len(pairs)], shortest + i // len(pairs)) for i, n in enumerate(ids)}


def single(burst: Plan) -> tuple[str, str, int]:
    """The /say timed alone: the first pair, longer than any text in the burst."""
    voice, style, _ = next(iter(burst.values()))
    return voice, style, max(length for _, _, length in burst.values()) + 5


def warm_up(voices: list[Voice], first_id: int, burst: Plan) -> Plan:
    """One untimed /say per (voice, style), in a length no timed /say uses: each voice's first
    clip (the simulator encodes a voice's track once, a cost Vocu does not put on us)."""
    length = single(burst)[2] + 5
    return {first_id + i: (*pair, length) for i, pair in enumerate(combos(voices))}


def describe(burst: Plan) -> str:
    """E.g. "texts 20–34 chars, 7 voice/style pairs"."""
    lengths = [length for _, _, length in burst.values()]
    pairs = {(voice, style) for voice, style, _ in burst.values()}
    return f"texts {min(lengths)}–{max(lengths)} chars, {len(pairs)} voice/style pairs"
