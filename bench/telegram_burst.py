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


class _Telegram:
    """The fake Bot API, as `drive` uses it."""

    def __init__(self, server: FakeTelegramServer) -> None:
        self.server = server
        self.env = {
            "TELEGRAM_BOT_TOKEN": server.token,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "TELEGRAM_FILE_BASE_URL": server.file_base_url,
        }
        self.secrets = [server.token]

    def up(self) -> bool:
        return self.server.polls_started > 0  # a long poll is recorded only once answered

    async def setup(self, bot: BotProcess, work: Plan) -> None:
        """Each chat's user picks its voice and style."""
        for chat, (voice, style, _) in work.items():
            self.server.push_message(chat, chat, f'/use {voice} "{style}"')
        chats = set(work)

        def answered() -> bool:
            sent = self.server.calls_to("sendMessage", ok=True)
            return {c.chat_id for c in sent} & chats == chats

        await bot.wait_until(answered, "answering /use in every chat", within=30)

    async def say(self, bot: BotProcess, work: Plan) -> float:
        """Push /say in every chat at once; seconds until the last voice note was sent."""
        start = time.time()
        for chat, (_, _, length) in work.items():
            self.server.push_message(chat, chat, f"/say {text(chat, length)}")
        return await _wait_voices(self.server, bot, set(work), 60) - start


async def run(chats: int = 100, shortest: int = 20) -> dict[str, Any]:
    """Start everything, measure one /say alone and `chats` at once, stop everything."""
    server = FakeTelegramServer()
    await server.start()
    try:
        r = await drive(_Telegram(server), chats, 1000, shortest)
    finally:
        await server.stop()
    sent = [c for c in server.calls_to("sendVoice", ok=True) if c.chat_id in r["plan"]]
    distinct = len({hashlib.sha256(c.files["voice"].data).digest() for c in sent})
    return {**r, "route": "push → sendVoice", "delivered": len(sent), "distinct": distinct}


def main() -> None:
    """Print the burst figures."""
    chats, shortest = options(sys.argv[1:])
    report(asyncio.run(run(chats, shortest)), who="chats", what="voice notes", fake="fake Bot API")


if __name__ == "__main__":
    main()
