"""Figures for the Discord adapter: 100 users sending /say at once versus one /say alone.

Everything runs in this process on loopback: the Vocu simulator (each generation answered
after 1 s), the fake Discord REST API + gateway, and the adapter's real discord.py client.
Each /say is an INTERACTION_CREATE; it is done when its voice message (flag 8192, OGG/Opus)
has been posted to the interaction's follow-up webhook.
Run: `.venv/bin/python -m bench bench.discord_burst [users]`. Prints figures, decides nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import resource
import secrets
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from adapters.discord_app.client import create_client  # noqa: E402
from adapters.discord_app.runtime import configure_endpoints  # noqa: E402
from bot import audio  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.storage import Storage  # noqa: E402
from bot.vocu.client import VocuClient  # noqa: E402
from bot.vocu.simulator import Simulator, SimulatorConfig  # noqa: E402
from tests.fakes.discord_server import FakeDiscordServer  # noqa: E402

LATENCY = 1.0  # seconds the simulator takes to answer each generation
TOKEN = "bench-bot-token"
TICK = os.sysconf("SC_CLK_TCK")


def _workers() -> list[int]:
    pool = audio._POOL  # the Opus worker processes (not counted by RUSAGE_CHILDREN while alive)
    return list(pool._processes) if pool is not None else []


def _proc_stat(pid: int, status_key: str | None = None) -> float:
    """CPU seconds of `pid` (utime + stime), or a /proc status figure in KiB."""
    try:
        if status_key is None:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / TICK
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(status_key):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def _cpu() -> tuple[float, float]:
    """(this process, Opus workers) CPU seconds so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime, sum(_proc_stat(pid) for pid in _workers())


def _text(n: int) -> str:
    """A distinct text per user, of a distinct length: distinct audio, no cache shortcuts."""
    return (f"User {n} says hello to everyone here. " * 4)[: 30 + n % 100]


def _voice_posts(server: FakeDiscordServer, tokens: set[str]) -> dict[str, Any]:
    """Successful voice-message follow-ups, by interaction token."""
    done = {}
    for rec in server.requests_to("/webhooks/", "POST"):
        token = rec.path.rsplit("/", 1)[-1]
        if token in tokens and rec.status == 200 and (rec.json or {}).get("flags") == 8192:
            done[token] = rec
    return done


async def _say(server: FakeDiscordServer, users: list[int], limit: float = 60) -> float:
    """Fire /say from every user (in DMs) at once; seconds until the last voice message."""
    start = time.monotonic()
    fired = await asyncio.gather(
        *(
            server.interaction_command("say", {"text": _text(u)}, guild_id=None, user_id=str(u))
            for u in users
        )
    )
    tokens = {inter["token"] for inter in fired}
    while len(_voice_posts(server, tokens)) < len(tokens):
        if time.monotonic() - start > limit:
            raise TimeoutError(f"{len(_voice_posts(server, tokens))}/{len(tokens)} delivered")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def run(users: int = 100) -> dict[str, float]:
    key = "sk-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32))
    sim = Simulator(SimulatorConfig())
    await sim.start(host="127.0.0.1", port=0)
    server = FakeDiscordServer()
    await server.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/b.sqlite3"
        storage = await Storage.open(url, secret=None, data_dir=Path(tmp))
        settings = Settings(
            _env_file=None,
            DISCORD_BOT_TOKEN=TOKEN,
            DISCORD_API_BASE_URL=server.api_base,
            DISCORD_GATEWAY_URL=server.gateway_url,
        )
        configure_endpoints(settings)
        try:
            async with VocuClient(key, base_url=sim.base_url) as vocu:
                app = App(vocu=vocu, storage=storage, data_dir=Path(tmp))
                bot = create_client(app, settings, guild_ready_timeout=0.05)
                task = asyncio.create_task(bot.start(TOKEN))
                try:
                    await asyncio.wait_for(bot.ready.wait(), 10)
                    await _say(server, [1])  # warm-up: worker pool, voice list, connections
                    sim.faults.generation_latency = LATENCY
                    single = await _say(server, [2])
                    cpu0 = _cpu()
                    burst = await _say(server, list(range(10_000, 10_000 + users)))
                    cpu1 = _cpu()
                finally:
                    await bot.close()
                    await asyncio.wait_for(task, 10)
        finally:
            await storage.close()
            await server.stop()
            await sim.stop()
    sent = [r for r in server.requests_to("/webhooks/", "POST") if r.status == 200 and r.files]
    burst_files = [r.files[0].data for r in sent][-users:]
    return {
        "users": users,
        "delivered": len(burst_files),
        "distinct": len({hashlib.sha256(data).digest() for data in burst_files}),
        "single": single,
        "burst": burst,
        "cpu_main": (cpu1[0] - cpu0[0]) / users,
        "cpu_opus": (cpu1[1] - cpu0[1]) / users,
        "rss_main": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_workers": sum(_proc_stat(pid, "VmHWM:") for pid in _workers()) / 1024,
        "workers": len(_workers()),
    }


def main() -> None:
    """Print the burst figures."""
    logging.getLogger("discord").setLevel(logging.WARNING)
    args = [a for a in sys.argv[1:] if a.isdigit()]
    users = int(args[0]) if args else 100
    r = asyncio.run(run(users))
    audio.shutdown_pool()
    print(f"{os.cpu_count()} CPUs; simulator answers each generation after {LATENCY:g} s")
    print(f"one /say alone              {r['single']:6.2f} s (interaction → voice message)")
    print(f"{r['users']:.0f} users at once           {r['burst']:6.2f} s "
          f"({r['delivered']:.0f} voice messages, {r['distinct']:.0f} distinct)")  # fmt: skip
    print(f"ratio burst / single        {r['burst'] / r['single']:6.2f} (target ≤ 2)")
    print(f"CPU per clip, main process  {r['cpu_main'] * 1000:6.1f} ms "
          "(adapter + core + simulator + fake Discord)")  # fmt: skip
    print(
        f"CPU per clip, Opus workers  {r['cpu_opus'] * 1000:6.1f} ms ({r['workers']:.0f} workers)"
    )
    print(f"peak RSS                    {r['rss_main']:6.1f} MiB main, "
          f"{r['rss_workers']:.1f} MiB workers")  # fmt: skip


if __name__ == "__main__":
    main()
