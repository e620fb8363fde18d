"""`vocu-bot run` as deployed, in a child process: Telegram configured by its environment, the
Opus workers started up front, and SIGTERM (docker stop, systemctl stop) stopping everything."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.vocu.simulator import Simulator
from tests.fakes.telegram_server import FakeTelegramServer

ROOT = Path(__file__).resolve().parents[2]
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def _children(pid: int) -> set[int]:
    """Live descendants of `pid` (through every thread's children list)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in "ZX"


async def _until(check, what: str, within: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def _start_bot(
    server: FakeTelegramServer,
    simulator: Simulator,
    api_key: str,
    tmp: Path,
    command: list[str] | None = None,
    **extra: str,
) -> asyncio.subprocess.Process:
    """`python -m bot run` with Telegram pointed at the fake; output to tmp/bot.log."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROXIES and not k.startswith(("VOCU", "TELEGRAM", "DISCORD"))
    }
    env |= {
        "NO_PROXY": "127.0.0.1,localhost",
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "TELEGRAM_FILE_BASE_URL": server.file_base_url,
        "VOCU_API_KEY": api_key,
        "VOCU_BASE_URL": simulator.base_url,
        "VOCUBOT_DATA_DIR": str(tmp / "data"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    with (tmp / "bot.log").open("wb") as out:
        return await asyncio.create_subprocess_exec(
            *(command or [sys.executable, "-m", "bot"]), "run",
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
            cwd=tmp, env=env,
        )  # fmt: skip


@contextlib.asynccontextmanager
async def _running(
    server: FakeTelegramServer,
    simulator: Simulator,
    api_key: str,
    tmp: Path,
    command: list[str] | None = None,
    **extra: str,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The fake Bot API and `python -m bot run` against it; both gone afterwards."""
    await server.start()
    proc = await _start_bot(server, simulator, api_key, tmp, command, **extra)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.stop()


async def _sigterm(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM: the bot exits 0 and leaves no process behind."""
    children = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        assert await proc.wait() == 0
    await _until(lambda: not any(_alive(pid) for pid in children), "children to exit", 10)


def _clean_log(tmp: Path, *secrets: str) -> None:
    text = (tmp / "bot.log").read_text()
    assert "stopped by SIGTERM" in text
    assert "Traceback" not in text
    assert not any(secret in text for secret in secrets)


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "bot"], [str(Path(sys.executable).with_name("vocu-bot"))]],
    ids=["python -m bot", "vocu-bot script"],  # the script: workers re-run it as their main
)
async def test_run_serves_telegram_and_stops_cleanly_on_sigterm(
    simulator: Simulator, api_key: str, tmp_path: Path, command: list[str]
) -> None:
    server = FakeTelegramServer()
    async with _running(server, simulator, api_key, tmp_path, command) as proc:
        await _until(lambda: server.polls_started > 0, "the bot to poll getUpdates")
        server.push_message(5, 5, "/say Hello from a real process.")
        await _until(lambda: server.calls_to("sendVoice", ok=True), "the voice note")
        # the pool started every worker at start-up: the forkserver and one per CPU
        await _until(lambda: len(_children(proc.pid)) >= (os.cpu_count() or 2) + 1, "workers")
        await _sigterm(proc)
    _clean_log(tmp_path, server.token, api_key)


async def test_run_in_webhook_mode_checks_the_secret_and_stops_on_sigterm(
    simulator: Simulator, api_key: str, tmp_path: Path
) -> None:
    server = FakeTelegramServer()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url, secret = f"http://127.0.0.1:{port}/hook", "hook-Secret_9"
    hook = {
        "TELEGRAM_WEBHOOK_URL": url,
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "TELEGRAM_WEBHOOK_SECRET": secret,
    }
    async with _running(server, simulator, api_key, tmp_path, **hook) as proc:
        await _until(lambda: (server.webhook or {}).get("url") == url, "setWebhook")
        update = server.make_update_message(5, 5, "/help")
        deadline = time.monotonic() + 30
        while (status := await _post(server, url, update, secret)) != 200:
            assert time.monotonic() < deadline, f"webhook answers {status}"
            await asyncio.sleep(0.1)
        await _until(lambda: server.calls_to("sendMessage", ok=True), "the reply")
        assert await _post(server, url, update, "wrong") == 403
        assert not server.calls_to("getUpdates")
        await _sigterm(proc)
    _clean_log(tmp_path, server.token, api_key, secret)


async def _post(server: FakeTelegramServer, url: str, update: dict, secret: str) -> int:
    """POST an update to the bot's listener; its status (0 while nothing listens)."""
    try:
        return await server.post_update_to(url, update, secret)
    except OSError:
        return 0


async def test_workers_exit_when_the_bot_is_killed(
    simulator: Simulator, api_key: str, tmp_path: Path
) -> None:
    server = FakeTelegramServer()
    async with _running(server, simulator, api_key, tmp_path) as proc:
        await _until(lambda: len(_children(proc.pid)) >= (os.cpu_count() or 2) + 1, "workers")
        children = _children(proc.pid)
        proc.kill()  # SIGKILL: no clean-up in the bot itself
        await proc.wait()
        await _until(lambda: not any(_alive(pid) for pid in children), "workers to exit", 15)
