"""Figures for the Telegram adapter: 100 chats sending /say at once versus one /say alone.

Everything runs in this process on loopback: the Vocu simulator (each generation answered
after 1 s), the fake Telegram Bot API server, and the real PTB Application of the adapter.
Run: `.venv/bin/python -m bench bench.telegram_burst [chats] [--sim-process]`; the option runs the
simulator in a child process (as Vocu is in production: not competing for this process's GIL).
Prints figures, decides nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import resource
import secrets
import string
import sys
import tempfile
import time
from pathlib import Path

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import aiohttp  # noqa: E402

from adapters.telegram_app import TelegramBot  # noqa: E402
from bot import audio  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.storage import Storage  # noqa: E402
from bot.vocu.client import VocuClient  # noqa: E402
from bot.vocu.models import Voice  # noqa: E402
from bot.vocu.simulator import Simulator, SimulatorConfig  # noqa: E402
from tests.fakes.telegram_server import FakeTelegramServer  # noqa: E402

LATENCY = 1.0  # seconds the simulator takes to answer each generation
SHORTEST = 20  # characters: about 1.2 s of speech; a /say is usually a short phrase
TICK = os.sysconf("SC_CLK_TCK")


def _text(n: int, length: int) -> str:
    """A distinct text of exactly `length` characters (the simulator's audio length follows it)."""
    text = f"Chat {n} says hello to everyone here, lalala lalala lalala lalala lalala"[:length]
    return text[:-1] + "a" if text.endswith(" ") else text


def _plan(voices: list[Voice], chats: list[int]) -> dict[int, tuple[str, str, int]]:
    """(voice id, style id, text length) per chat: every chat gets distinct audio.

    The simulator's audio depends on voice, style and length only, so distinct texts of one
    length would be one clip (and one transcode): that would measure the caches, not the work.
    """
    combos = [(v.id, s.id) for v in voices if v.is_usable for s in v.styles]
    return {
        chat: (*combos[i % len(combos)], SHORTEST + i // len(combos))
        for i, chat in enumerate(chats)
    }


def _workers() -> list[int]:
    pool = audio._POOL  # the Opus worker processes (not counted by RUSAGE_CHILDREN while alive)
    return list(pool._processes) if pool is not None else []  # type: ignore[attr-defined]


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _proc_peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu() -> tuple[float, float]:
    """(this process, Opus workers) CPU seconds so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime, sum(_proc_cpu(pid) for pid in _workers())


async def _wait_voices(server: FakeTelegramServer, chats: set[int], within: float) -> float:
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
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(done)}/{len(chats)} voice notes delivered")
        await asyncio.sleep(0.02)


async def _setup(server: FakeTelegramServer, plan: dict[int, tuple[str, str, int]]) -> None:
    """Each chat's user picks its voice and style (not timed)."""
    for chat, (voice, style, _) in plan.items():
        server.push_message(chat, chat, f'/use {voice} "{style}"')
    chats = set(plan)
    deadline = time.monotonic() + 30
    while {c.chat_id for c in server.calls_to("sendMessage", ok=True)} & chats != chats:
        if time.monotonic() > deadline:
            raise TimeoutError("chats not set up")
        await asyncio.sleep(0.01)


async def _say(server: FakeTelegramServer, plan: dict[int, tuple[str, str, int]]) -> float:
    """Push /say in every chat at once; seconds until the last voice note was sent."""
    start = time.time()
    for chat, (_, _, length) in plan.items():
        server.push_message(chat, chat, f"/say {_text(chat, length)}")
    return await _wait_voices(server, set(plan), 60) - start


class _Vocu:
    """The simulator: in this process (default), or in a child process with `--sim-process`."""

    def __init__(self, separate: bool) -> None:
        self.separate = separate
        self.sim: Simulator | None = None
        self.child: asyncio.subprocess.Process | None = None
        self.base_url = ""

    async def start(self) -> None:
        if not self.separate:
            self.sim = Simulator(SimulatorConfig())
            self.base_url = await self.sim.start(host="127.0.0.1", port=0)
            return
        self.child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "simulator", "--port", "0",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert self.child.stdout is not None
        line = (await self.child.stdout.readline()).decode()
        self.base_url = line.strip().rsplit(" ", 1)[-1]

    async def set_latency(self, seconds: float) -> None:
        if self.sim is not None:
            self.sim.faults.generation_latency = seconds
            return
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.base_url}/_sim/faults", json={"generation_latency": seconds}),
        ):
            pass

    def cpu(self) -> float:
        return _proc_cpu(self.child.pid) if self.child is not None else 0.0

    async def stop(self) -> None:
        if self.sim is not None:
            await self.sim.stop()
        if self.child is not None:
            self.child.terminate()
            await self.child.wait()


async def run(chats: int = 100, *, sim_process: bool = False) -> dict[str, float]:
    """Start everything, measure one /say alone and `chats` at once, stop everything."""
    key = "sk-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32))
    vocu_side = _Vocu(sim_process)
    await vocu_side.start()
    server = FakeTelegramServer()
    await server.start()
    with tempfile.TemporaryDirectory() as tmp:
        storage = await Storage.open(
            f"sqlite+aiosqlite:///{tmp}/b.sqlite3", secret=None, data_dir=Path(tmp)
        )
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            TELEGRAM_BOT_TOKEN=server.token,
            TELEGRAM_API_BASE_URL=server.base_url,
            TELEGRAM_FILE_BASE_URL=server.file_base_url,
        )
        try:
            async with VocuClient(key, base_url=vocu_side.base_url) as vocu:
                app = App(vocu=vocu, storage=storage, data_dir=Path(tmp))
                bot = TelegramBot(app, settings)
                await bot.start()
                try:
                    voices = await app.voices(vocu)
                    plan = _plan(voices, list(range(1000, 1000 + chats)))
                    alone = {1: (*plan[1000][:2], 60), 2: (*plan[1000][:2], 40)}
                    await _setup(server, {**alone, **plan})
                    await _say(server, {1: alone[1]})  # warm-up: workers, connections
                    await vocu_side.set_latency(LATENCY)
                    single = await _say(server, {2: alone[2]})
                    cpu0, sim0 = _cpu(), vocu_side.cpu()
                    burst = await _say(server, plan)
                    cpu1, sim1 = _cpu(), vocu_side.cpu()
                finally:
                    await bot.stop()
        finally:
            await storage.close()
            await server.stop()
            await vocu_side.stop()
    sent = [c for c in server.calls_to("sendVoice", ok=True) if c.chat_id >= 1000]
    distinct = len({hashlib.sha256(c.files["voice"].data).digest() for c in sent})
    return {
        "chats": chats,
        "delivered": len(sent),
        "distinct": distinct,
        "single": single,
        "burst": burst,
        "cpu_main": (cpu1[0] - cpu0[0]) / chats,
        "cpu_opus": (cpu1[1] - cpu0[1]) / chats,
        "cpu_sim": (sim1 - sim0) / chats,
        "rss_main": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_workers": sum(_proc_peak_kib(pid) for pid in _workers()) / 1024,
        "workers": len(_workers()),
        "sim_process": sim_process,
    }


def main() -> None:
    """Print the burst figures."""
    args = sys.argv[1:]
    chats = next((int(a) for a in args if a.isdigit()), 100)
    r = asyncio.run(run(chats, sim_process="--sim-process" in args))
    audio.shutdown_pool()
    print(f"{os.cpu_count()} CPUs; simulator answers each generation after {LATENCY:g} s")
    print(f"one /say alone              {r['single']:6.2f} s (push → sendVoice)")
    print(f"{r['chats']:.0f} chats at once           {r['burst']:6.2f} s "
          f"({r['delivered']:.0f} voice notes, {r['distinct']:.0f} distinct)")  # fmt: skip
    print(f"ratio burst / single        {r['burst'] / r['single']:6.2f}")
    inside = "fake Bot API" if r["sim_process"] else "simulator + fake Bot API"
    print(f"CPU per clip, main process  {r['cpu_main'] * 1000:6.1f} ms "
          f"(adapter + core + {inside}, in-process)")  # fmt: skip
    if r["sim_process"]:
        print(f"CPU per clip, simulator     {r['cpu_sim'] * 1000:6.1f} ms (its own process)")
    print(
        f"CPU per clip, Opus workers  {r['cpu_opus'] * 1000:6.1f} ms ({r['workers']:.0f} processes)"
    )
    print(f"peak RSS                    {r['rss_main']:6.0f} MiB main + "
          f"{r['rss_workers']:.0f} MiB workers")  # fmt: skip


if __name__ == "__main__":
    main()
