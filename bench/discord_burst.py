"""Figures for the Discord bot: 100 users sending /say at once versus one /say alone.

Three processes on loopback, arranged as when deployed:
- the bot: a real `vocu-bot run` (`python -m bot run`) started as a child process, configured by
  its environment (DISCORD_BOT_TOKEN, DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL pointing at the
  fake, VOCU_API_KEY / VOCU_BASE_URL at the simulator, SQLite and data in a temporary
  directory); it starts its own Opus worker pool (forkserver processes);
- the Vocu simulator, in its own child process (`python -m bot simulator --port 0`), answering
  each generation after 1 s once set up;
- this process: the fake Discord REST API + gateway (tests/fakes/discord_server.py) that the
  bot's discord.py client connects to, and the benchmark driving it.

Each /say is an INTERACTION_CREATE in a DM with text, voice and style options (bench/_workload.py:
short phrases, no two clips alike); it is done when its voice message (flag 8192, OGG/Opus) has
been posted to the interaction's follow-up webhook. One /say per voice and style warms up
(untimed), one /say alone is timed, then every user's /say at once. CPU per clip is measured
per process from /proc during the burst; the bot's stderr goes to a log file in the temporary
directory, shown (secrets masked) only if the bot fails.
Run: `.venv/bin/python -m bench bench.discord_burst` or `.venv/bin/python -m bench.discord_burst
[users] [--shortest N]` (texts N to N + 14 characters; 20 by default). Prints figures only.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
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
from tests.fakes.discord_server import FakeDiscordServer  # noqa: E402


def _voice_posts(server: FakeDiscordServer, tokens: set[str]) -> dict[str, Any]:
    """Successful voice-message follow-ups, by interaction token."""
    done = {}
    for rec in server.requests_to("/webhooks/", "POST"):
        token = rec.path.rsplit("/", 1)[-1]
        if token in tokens and rec.status == 200 and (rec.json or {}).get("flags") == 8192:
            done[token] = rec
    return done


async def _say(server: FakeDiscordServer, bot: BotProcess, work: Plan, limit: float = 60) -> float:
    """Fire /say text voice style from every user (in DMs) at once; seconds until the last
    voice message."""
    start = time.monotonic()
    fired = await asyncio.gather(
        *(
            server.interaction_command(
                "say",
                {"text": text(u, length), "voice": voice, "style": style},
                guild_id=None,
                user_id=str(u),
            )
            for u, (voice, style, length) in work.items()
        )
    )
    tokens = {inter["token"] for inter in fired}
    while len(_voice_posts(server, tokens)) < len(tokens):
        bot.check()
        if time.monotonic() - start > limit:
            raise TimeoutError(f"{len(_voice_posts(server, tokens))}/{len(tokens)} delivered")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


def _up(server: FakeDiscordServer) -> bool:
    """The bot synced its commands and identified on the gateway."""
    return bool(server.global_commands) and any(c.identified for c in server._conns)


async def run(users: int = 100, shortest: int = 20) -> dict[str, Any]:
    """Start everything, measure one /say alone and `users` at once, stop everything."""
    key = api_key()
    token = "bench." + secrets.token_urlsafe(24)
    server = FakeDiscordServer()
    await server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="vocu-bench-") as tmp_name:
            tmp = Path(tmp_name)
            sim = SimulatorProcess(tmp)
            bot = BotProcess(
                tmp,
                {
                    "DISCORD_BOT_TOKEN": token,
                    "DISCORD_API_BASE_URL": server.api_base,
                    "DISCORD_GATEWAY_URL": server.gateway_url,
                    "VOCU_API_KEY": key,
                },
                hide=[token, key],
            )
            try:
                await sim.start()
                bot.env["VOCU_BASE_URL"] = sim.base_url
                await bot.start()
                await bot.wait_until(lambda: _up(server), "connected to the fake gateway")
                async with VocuClient(key, base_url=sim.base_url) as vocu:
                    voices = await vocu.voices.list(show_market=True)
                burst_plan = plan(voices, list(range(10_000, 10_000 + users)), shortest)
                warm = warm_up(voices, 10, burst_plan)
                await _say(server, bot, warm)  # untimed: connections, each voice's first clip
                await sim.set_latency(LATENCY)
                one = await _say(server, bot, {2: single(burst_plan)})
                meter = Meter(bot, sim)
                meter.start()
                burst = await _say(server, bot, burst_plan)
                meter.stop(users)
            except (TimeoutError, ChildFailed):
                bot.print_tail()
                sim.print_tail()
                raise
            finally:
                await bot.stop()
                await sim.stop()
    finally:
        await server.stop()
    sent = [r for r in server.requests_to("/webhooks/", "POST") if r.status == 200 and r.files]
    burst_files = [r.files[0].data for r in sent][-users:]
    return {
        "count": users,
        "latency": LATENCY,
        "route": "interaction → voice message",
        "workload": describe(burst_plan),
        "delivered": len(burst_files),
        "distinct": len({hashlib.sha256(data).digest() for data in burst_files}),
        "single": one,
        "burst": burst,
        **meter.figures,
        "leftovers": bot.leftovers,
    }


def main() -> None:
    """Print the burst figures."""
    users, shortest = options(sys.argv[1:])
    report(
        asyncio.run(run(users, shortest)), who="users", what="voice messages", fake="fake Discord"
    )


if __name__ == "__main__":
    main()
