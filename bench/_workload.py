"""What both burst benchmarks send and do: short, distinct phrases, spread over every voice and
style, sent by `drive` through one platform's fake server.

The simulator's audio depends on voice, style and text length only, so the burst gives every
chat its own (voice, style, length): distinct texts of one length in one voice would be one clip
(and one transcode), which would measure the caches, not the work. A /say is usually a short
phrase: by default the burst's texts are 20 to 34 characters (about 1.2–2.1 s of speech);
`--shortest N` makes them N to N + 14 (e.g. 80: about 5 s each).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol

from bench._processes import BotProcess, ChildFailed, Meter, SimulatorProcess, api_key
from bot.vocu.client import VocuClient
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


class Platform(Protocol):
    """What a burst benchmark needs from one platform's fake server."""

    env: dict[str, str]  # the bot's platform variables (token, API URLs)
    secrets: list[str]  # never printed

    def up(self) -> bool:
        """The bot is connected (polling, or identified on the gateway)."""

    async def setup(self, bot: BotProcess, work: Plan) -> None:
        """Untimed preparation of each chat (e.g. /use of its voice and style)."""

    async def say(self, bot: BotProcess, work: Plan) -> float:
        """/say in every chat of `work` at once; seconds until the last clip arrived."""


async def drive(platform: Platform, count: int, first_id: int, shortest: int) -> dict[str, Any]:
    """Start the simulator and the bot, warm up, time one /say alone, then `count` at once;
    stop both. The figures of the burst, and its plan (`"plan"`)."""
    key = api_key()
    with tempfile.TemporaryDirectory(prefix="vocu-bench-") as tmp_name:
        tmp = Path(tmp_name)
        sim = SimulatorProcess(tmp)
        env = {**platform.env, "VOCU_API_KEY": key}
        bot = BotProcess(tmp, env, hide=[*platform.secrets, key])
        try:
            await sim.start()
            bot.env["VOCU_BASE_URL"] = sim.base_url
            await bot.start()
            await bot.wait_until(platform.up, "connected to the fake platform")
            async with VocuClient(key, base_url=sim.base_url) as vocu:
                voices = await vocu.voices.list(show_market=True)
            burst_plan = plan(voices, list(range(first_id, first_id + count)), shortest)
            alone, warm = {2: single(burst_plan)}, warm_up(voices, 10, burst_plan)
            await platform.setup(bot, {**alone, **warm, **burst_plan})
            await platform.say(bot, warm)  # untimed: connections, each voice's first clip
            await sim.set_latency(LATENCY)
            one = await platform.say(bot, alone)
            meter = Meter(bot, sim)
            meter.start()
            burst = await platform.say(bot, burst_plan)
            meter.stop(count)
        except (TimeoutError, ChildFailed):
            bot.print_tail()
            sim.print_tail()
            raise
        finally:
            await bot.stop()
            await sim.stop()
    return {
        "count": count,
        "latency": LATENCY,
        "workload": describe(burst_plan),
        "plan": burst_plan,
        "single": one,
        "burst": burst,
        **meter.figures,
        "leftovers": bot.leftovers,
    }
