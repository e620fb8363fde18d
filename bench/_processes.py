"""Shared by the burst benchmarks: the bot and the Vocu simulator as child processes.

The bot is a real `vocu-bot run` (`python -m bot run`), configured through its environment as
when deployed; the Vocu simulator is `python -m bot simulator --port 0`. Both run with this
checkout first on PYTHONPATH, in a temporary working directory (no `.env` is read), without
proxy variables and without any inherited TELEGRAM_*, DISCORD_*, VOCU_* or VOCUBOT_* variable:
the bot reaches only the loopback peers the benchmark gives it.

CPU and memory figures come from /proc: a process's utime + stime from /proc/<pid>/stat, its
peak RSS (VmHWM) from /proc/<pid>/status, its descendants through /proc/<pid>/task/*/children.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
BOT_PREFIXES = ("TELEGRAM_", "DISCORD_", "VOCU_", "VOCUBOT_")  # only what the benchmark sets

ProcKey = tuple[int, int]  # (pid, start time in ticks): a pid reused later is another process


class ChildFailed(RuntimeError):
    """A child process exited (or never said it was up)."""


def api_key() -> str:
    """A random Vocu API key of the documented shape."""
    return "sk-" + "".join(
        secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32)
    )


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment, cleaned (see the module docstring), plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROXY_VARS and not k.startswith(BOT_PREFIXES)
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    path = [str(REPO), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in path if p))
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- /proc


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (index 0 = state), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def proc_key(pid: int) -> ProcKey | None:
    """(pid, start time) of a live (not zombie) process, else None."""
    fields = _stat(pid)
    return None if fields is None or fields[0] in "ZX" else (pid, int(fields[19]))


def proc_cpu(pid: int) -> float:
    """CPU seconds (utime + stime, every thread) of `pid` so far; 0 if it is gone."""
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / TICK


def peak_kib(pid: int) -> int:
    """Peak resident set size (VmHWM) of `pid` in KiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (children of every thread, recursively)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            for kid in kids:
                if kid not in found:
                    found.append(kid)
                    todo.append(kid)
    return found


def cpu_by_process(pids: list[int]) -> dict[ProcKey, float]:
    """CPU seconds so far of each live process in `pids`."""
    sample = {}
    for pid in pids:
        key = proc_key(pid)
        if key is not None:
            sample[key] = proc_cpu(pid)
    return sample


def cpu_delta(before: dict[ProcKey, float], after: dict[ProcKey, float]) -> float:
    """CPU seconds spent between two samples; a process absent before counts all its CPU.

    (A process that ended between the samples is not counted: /proc has forgotten it.)"""
    return sum(cpu - before.get(key, 0.0) for key, cpu in after.items())


def self_cpu() -> float:
    """CPU seconds of this process so far (every thread)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


# ---------------------------------------------------------------- children

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Run in the child before exec: SIGTERM it if the benchmark dies without cleaning up."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class _Child:
    """A child process whose stderr goes to a log file in the benchmark's temporary directory."""

    name = "child"

    def __init__(self, tmp: Path, log_name: str, hide: list[str]) -> None:
        self.tmp = tmp
        self.log_path = tmp / log_name
        self.hide = [s for s in hide if s]
        self.proc: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._seen: set[ProcKey] = set()  # descendants ever seen: stopped with it if left over
        self.leftovers = 0  # descendants still alive after the child itself had ended

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def _spawn(self, args: list[str], env: dict[str, str], pipe: bool = False) -> None:
        """Start `args`; stdout is a pipe if `pipe`, else the log file too."""
        self._log = self.log_path.open("wb")
        stdout = asyncio.subprocess.PIPE if pipe else self._log
        self.proc = await asyncio.create_subprocess_exec(
            *args, stdout=stdout, stderr=self._log, stdin=asyncio.subprocess.DEVNULL,
            env=env, cwd=self.tmp, preexec_fn=_die_with_parent,
        )  # fmt: skip

    def check(self) -> None:
        """Raise ChildFailed if the process has exited."""
        if self.proc is not None and self.proc.returncode is not None:
            raise ChildFailed(f"{self.name} exited with code {self.proc.returncode}")

    def tree(self) -> list[int]:
        """The process's live descendants (remembered, to stop any left behind)."""
        kids = descendants(self.pid) if self.proc is not None else []
        self._seen.update(key for key in map(proc_key, kids) if key is not None)
        return kids

    def tail(self, lines: int = 60) -> str:
        """The end of the process's stderr, with the secrets it was given replaced by ***."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        for secret in self.hide:
            text = text.replace(secret, "***")
        return "\n".join(text.splitlines()[-lines:])

    def print_tail(self) -> None:
        """Show the end of its stderr (secrets masked), if it wrote any."""
        tail = self.tail() if self.proc is not None else ""
        if tail.strip():
            print(f"--- last lines of the {self.name}'s stderr:\n{tail}\n---", file=sys.stderr)

    async def wait_until(self, check: Callable[[], bool], what: str, within: float = 60) -> None:
        """Poll `check()` until true; ChildFailed if the process exits, TimeoutError later."""
        deadline = time.monotonic() + within
        while not check():
            self.check()
            self.tree()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: not {what} after {within:g} s")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """SIGTERM, wait (SIGKILL after 10 s); then stop any descendant it left behind."""
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            self.tree()
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        await self._stop_leftovers()
        if self._log is not None:
            self._log.close()
            self._log = None

    async def _stop_leftovers(self) -> None:
        """Descendants outliving the child get 2 s to notice, then SIGTERM, then SIGKILL."""
        left = await self._outliving(2.0)
        self.leftovers = len(left)
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 1.0)):
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            left = await self._outliving(grace)
            if not left:
                return

    async def _outliving(self, within: float) -> list[int]:
        """Wait up to `within` seconds for the descendants seen to end; those still alive."""
        deadline = time.monotonic() + within
        while True:
            alive = [pid for pid, start in self._seen if proc_key(pid) == (pid, start)]
            if not alive or time.monotonic() > deadline:
                return alive
            await asyncio.sleep(0.05)


class SimulatorProcess(_Child):
    """The Vocu simulator in its own process: `python -m bot simulator --port 0`."""

    name = "Vocu simulator"

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp, "simulator.log", [])
        self.base_url = ""

    async def start(self) -> None:
        """Start it and read its URL (the first line it prints)."""
        args = [sys.executable, "-m", "bot", "simulator", "--port", "0"]
        await self._spawn(args, child_env(), pipe=True)
        assert self.proc is not None and self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        except TimeoutError:
            line = b""
        self.base_url = line.decode().strip().rsplit(" ", 1)[-1]
        if not self.base_url.startswith("http"):
            self.check()
            raise ChildFailed(f"{self.name} printed no URL: {line!r}")

    async def set_latency(self, seconds: float) -> None:
        """Every generation is answered after `seconds`."""
        url = f"{self.base_url}/_sim/faults"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json={"generation_latency": seconds}) as response,
        ):
            response.raise_for_status()


class BotProcess(_Child):
    """`vocu-bot run` as deployed: `python -m bot run`, configured by its environment."""

    name = "bot"

    def __init__(self, tmp: Path, env: dict[str, str], hide: list[str]) -> None:
        super().__init__(tmp, "bot.log", hide)
        self.env = child_env(
            {
                "VOCUBOT_DATA_DIR": str(tmp / "data"),
                "VOCUBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/b.sqlite3",
                **env,
            }
        )

    async def start(self) -> None:
        await self._spawn([sys.executable, "-m", "bot", "run"], self.env)

    def describe(self, kids: list[int]) -> str:
        """What its child processes are, e.g. "2 Opus workers, forkserver, resource tracker"."""
        workers, others = 0, []
        for pid in kids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            fields = _stat(pid)
            if b"resource_tracker" in cmdline:
                others.append("resource tracker")
            elif b"forkserver" in cmdline and fields is not None and int(fields[1]) == self.pid:
                others.append("forkserver")
            else:
                workers += 1
        return ", ".join([f"{workers} Opus worker{'s' * (workers != 1)}", *others])


# ---------------------------------------------------------------- measuring and reporting


class Meter:
    """CPU of every process across the timed burst: the bot, its children, the simulator and
    this process; peak RSS of the bot and its children at the end."""

    def __init__(self, bot: BotProcess, sim: SimulatorProcess) -> None:
        self.bot, self.sim = bot, sim
        self._before: tuple[float, float, dict[ProcKey, float], dict[ProcKey, float]] | None = None
        self.figures: dict[str, Any] = {}

    def _sample(self) -> tuple[float, float, dict[ProcKey, float], dict[ProcKey, float]]:
        kids, sim = self.bot.tree(), [self.sim.pid, *self.sim.tree()]
        return self_cpu(), proc_cpu(self.bot.pid), cpu_by_process(kids), cpu_by_process(sim)

    def start(self) -> None:
        self._before = self._sample()

    def stop(self, clips: int) -> None:
        """Figures per clip since `start`."""
        assert self._before is not None
        me0, bot0, kids0, sim0 = self._before
        me1, bot1, kids1, sim1 = self._sample()
        kids = self.bot.tree()
        self.figures = {
            "cpu_bot": (bot1 - bot0) / clips,
            "cpu_kids": cpu_delta(kids0, kids1) / clips,
            "cpu_sim": cpu_delta(sim0, sim1) / clips,
            "cpu_bench": (me1 - me0) / clips,
            "rss_main": peak_kib(self.bot.pid) / 1024,
            "rss_kids": sum(peak_kib(pid) for pid in kids) / 1024,
            "kinds": self.bot.describe(kids),
        }


def report(r: dict[str, Any], *, who: str, what: str, fake: str) -> None:
    """Print a burst's figures: `who` sent /say ("chats"), `what` they got ("voice notes")."""
    print(f"{os.cpu_count()} CPUs; simulator answers each generation after {r['latency']:g} s")
    print(f"one /say alone              {r['single']:6.2f} s ({r['route']})")
    print(f"{r['count']:.0f} {who} at once{' ' * max(1, 16 - len(who))}{r['burst']:6.2f} s "
          f"({r['delivered']:.0f} {what}, {r['distinct']:.0f} distinct; "
          f"{r['workload']})")  # fmt: skip
    print(f"ratio burst / single        {r['burst'] / r['single']:6.2f} (target ≤ 2)")
    print(f"CPU per clip, bot main      {r['cpu_bot'] * 1000:6.1f} ms (`vocu-bot run`)")
    print(f"CPU per clip, bot children  {r['cpu_kids'] * 1000:6.1f} ms ({r['kinds']})")
    print(f"CPU per clip, simulator     {r['cpu_sim'] * 1000:6.1f} ms (its own process)")
    print(f"CPU per clip, benchmark     {r['cpu_bench'] * 1000:6.1f} ms ({fake})")
    print(f"peak RSS                    {r['rss_main']:6.1f} MiB bot main + "
          f"{r['rss_kids']:.1f} MiB its children")  # fmt: skip
    if r["leftovers"]:
        print(f"note: {r['leftovers']:.0f} bot child processes outlived it after SIGTERM")
