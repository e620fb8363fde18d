"""Figures for the Telegram bot: 100 chats sending /say at once versus one /say alone.

Three processes on loopback, arranged as when deployed:
- the bot: a real `vocu-bot run` (`python -m bot run`) started as a child process, configured by
  its environment (TELEGRAM_BOT_TOKEN / TELEGRAM_API_BASE_URL / TELEGRAM_FILE_BASE_URL pointing
  at the fake, VOCU_API_KEY / VOCU_BASE_URL at the simulator, SQLite and data in a temporary
  directory); it starts its own Opus worker pool (forkserver processes);
- the Vocu simulator, in its own child process (`python -m bot simulator --port 0`), answering
  each generation after 1 s once set up;
- this process: the fake Telegram Bot API server (tests/fakes/telegram_server.py), which the
  bot long-polls, and the benchmark driving it.

Each chat first picks a voice and style with /use (not timed), so that no two chats' clips are
alike (bench/_workload.py: short phrases); then one /say per voice and style warms up (untimed),
one /say alone is timed, then every chat's /say at once.
CPU per clip is measured per process from /proc during the burst; the bot's stderr goes to a
log file in the temporary directory, shown (secrets masked) only if the bot fails.
Run: `.venv/bin/python -m bench bench.telegram_burst` or `.venv/bin/python -m bench.telegram_burst
[chats] [--shortest N]` (texts N to N + 14 characters; 20 by default). Prints figures only.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from bench._processes import (  # noqa: E402
    BotProcess,
    ChildFailed,
    Meter,
    SimulatorProcess,
    api_key,
    report,
)
from bench._workload import LATENCY, Plan, describe, options, plan, single, text, warm_up  # noqa: E402
from bot.vocu.client import VocuClient  # noqa: E402
from tests.fakes.telegram_server import FakeTelegramServer  # noqa: E402


async def _wait_voices(
    server: FakeTelegramServer, bot: BotProcess, chats: set[int], within: float
) -> float:
    """Wait until every chat got its voice note; the arrival time of the last one."""
    deadline = time.monotonic() + within
    done: dict[int | str | None, float] = {}
    seen = 0
    while True:
        calls = server.calls[seen:]  # only the new ones: the log grows to thousands
        seen += len(calls)
        for c in calls:
            if c.ok and c.method == "sendVoice" and c.chat_id in chats:
                done[c.chat_id] = c.time
        if len(done) == len(chats):
            return max(done.values())
        bot.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(done)}/{len(chats)} voice notes delivered")
        await asyncio.sleep(0.02)


async def _setup(server: FakeTelegramServer, bot: BotProcess, work: Plan) -> None:
    """Each chat's user picks its voice and style (not timed)."""
    for chat, (voice, style, _) in work.items():
        server.push_message(chat, chat, f'/use {voice} "{style}"')
    chats = set(work)

    def answered() -> bool:
        return {c.chat_id for c in server.calls_to("sendMessage", ok=True)} & chats == chats

    await bot.wait_until(answered, "answering /use in every chat", within=30)


async def _say(server: FakeTelegramServer, bot: BotProcess, work: Plan) -> float:
    """Push /say in every chat at once; seconds until the last voice note was sent."""
    start = time.time()
    for chat, (_, _, length) in work.items():
        server.push_message(chat, chat, f"/say {text(chat, length)}")
    return await _wait_voices(server, bot, set(work), 60) - start


async def run(chats: int = 100, shortest: int = 20) -> dict[str, Any]:
    """Start everything, measure one /say alone and `chats` at once, stop everything."""
    key = api_key()
    server = FakeTelegramServer()
    await server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="vocu-bench-") as tmp_name:
            tmp = Path(tmp_name)
            sim = SimulatorProcess(tmp)
            bot = BotProcess(
                tmp,
                {
                    "TELEGRAM_BOT_TOKEN": server.token,
                    "TELEGRAM_API_BASE_URL": server.base_url,
                    "TELEGRAM_FILE_BASE_URL": server.file_base_url,
                    "VOCU_API_KEY": key,
                },
                hide=[server.token, key],
            )
            try:
                await sim.start()
                bot.env["VOCU_BASE_URL"] = sim.base_url
                await bot.start()
                # a long poll is recorded only once answered: count the ones under way
                await bot.wait_until(lambda: server.polls_started > 0, "polling the fake Bot API")
                async with VocuClient(key, base_url=sim.base_url) as vocu:
                    voices = await vocu.voices.list(show_market=True)
                burst_plan = plan(voices, list(range(1000, 1000 + chats)), shortest)
                alone = {2: single(burst_plan)}
                warm = warm_up(voices, 10, burst_plan)
                await _setup(server, bot, {**alone, **warm, **burst_plan})
                await _say(server, bot, warm)  # untimed: connections, each voice's first clip
                await sim.set_latency(LATENCY)
                one = await _say(server, bot, alone)
                meter = Meter(bot, sim)
                meter.start()
                burst = await _say(server, bot, burst_plan)
                meter.stop(chats)
            except (TimeoutError, ChildFailed):
                bot.print_tail()
                sim.print_tail()
                raise
            finally:
                await bot.stop()
                await sim.stop()
    finally:
        await server.stop()
    sent = [
        c
        for c in server.calls_to("sendVoice", ok=True)
        if isinstance(c.chat_id, int) and c.chat_id >= 1000
    ]
    distinct = len({hashlib.sha256(c.files["voice"].data).digest() for c in sent})
    return {
        "count": chats,
        "latency": LATENCY,
        "route": "push → sendVoice",
        "workload": describe(burst_plan),
        "delivered": len(sent),
        "distinct": distinct,
        "single": one,
        "burst": burst,
        **meter.figures,
        "leftovers": bot.leftovers,
    }


def main() -> None:
    """Print the burst figures."""
    chats, shortest = options(sys.argv[1:])
    report(asyncio.run(run(chats, shortest)), who="chats", what="voice notes", fake="fake Bot API")


if __name__ == "__main__":
    main()
