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
import time
from typing import Any

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from bench._processes import (  # noqa: E402
    BotProcess,
    report,
)
from bench._workload import Plan, drive, options, text  # noqa: E402
from tests.fakes.discord_server import FakeDiscordServer  # noqa: E402


def _voice_posts(server: FakeDiscordServer, tokens: set[str]) -> dict[str, Any]:
    """Successful voice-message follow-ups, by interaction token."""
    done = {}
    for rec in server.requests_to("/webhooks/", "POST"):
        token = rec.path.rsplit("/", 1)[-1]
        if token in tokens and rec.status == 200 and (rec.json or {}).get("flags") == 8192:
            done[token] = rec
    return done


class _Discord:
    """The fake Discord REST API + gateway, as `drive` uses it."""

    def __init__(self, server: FakeDiscordServer) -> None:
        self.server = server
        token = "bench." + secrets.token_urlsafe(24)
        self.env = {
            "DISCORD_BOT_TOKEN": token,
            "DISCORD_API_BASE_URL": server.api_base,
            "DISCORD_GATEWAY_URL": server.gateway_url,
        }
        self.secrets = [token]

    def up(self) -> bool:
        """The bot synced its commands and identified on the gateway."""
        return bool(self.server.global_commands) and any(c.identified for c in self.server._conns)

    async def setup(self, bot: BotProcess, work: Plan) -> None:
        """Nothing: /say carries its voice and style as options."""

    async def say(self, bot: BotProcess, work: Plan) -> float:
        """/say text voice style from every user (in DMs) at once; seconds until the last
        voice message."""
        start = time.monotonic()
        fired = await asyncio.gather(
            *(
                self.server.interaction_command(
                    "say",
                    {"text": text(u, length), "voice": voice, "style": style},
                    guild_id=None,
                    user_id=str(u),
                )
                for u, (voice, style, length) in work.items()
            )
        )
        tokens = {inter["token"] for inter in fired}
        while len(_voice_posts(self.server, tokens)) < len(tokens):
            bot.check()
            if time.monotonic() - start > 60:
                done = len(_voice_posts(self.server, tokens))
                raise TimeoutError(f"{done}/{len(tokens)} delivered")
            await asyncio.sleep(0.005)
        return time.monotonic() - start


async def run(users: int = 100, shortest: int = 20) -> dict[str, Any]:
    """Start everything, measure one /say alone and `users` at once, stop everything."""
    server = FakeDiscordServer()
    await server.start()
    try:
        r = await drive(_Discord(server), users, 10_000, shortest)
    finally:
        await server.stop()
    sent = [rec for rec in server.requests_to("/webhooks/", "POST") if rec.status == 200]
    burst_files = [rec.files[0].data for rec in sent if rec.files][-users:]
    distinct = len({hashlib.sha256(data).digest() for data in burst_files})
    return {**r, "route": "interaction → voice message", "delivered": len(burst_files),
            "distinct": distinct}  # fmt: skip


def main() -> None:
    """Print the burst figures."""
    users, shortest = options(sys.argv[1:])
    report(
        asyncio.run(run(users, shortest)), who="users", what="voice messages", fake="fake Discord"
    )


if __name__ == "__main__":
    main()
