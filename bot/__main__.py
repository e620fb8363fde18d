"""CLI: `vocu-bot run | console | simulator`: the composition root, the only reader of Settings."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("vocu-bot")
DRAIN_SECONDS = 10.0  # at exit, how long background work (cache, usage writes) may take

SIMULATOR_KEY = "sk-" + "vocubotlocalsimulator" + "0" * 11  # the embedded simulator's account


def setup_logging(level: str) -> None:
    """One line per event; chatty HTTP libraries (which log URLs with tokens) kept quiet."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "aiohttp.access", "discord.http"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    """Create the shared resources (Vocu client, storage, the simulator if no key), then close."""
    from bot import audio
    from bot.app import App, Limits
    from bot.storage import Storage
    from bot.vocu.client import VocuClient

    simulator = None
    if settings.vocu_api_key is None:
        from bot.vocu.simulator import Simulator, SimulatorConfig

        simulator = Simulator(SimulatorConfig())
        base_url = await simulator.start(host="127.0.0.1", port=0)
        api_key = SIMULATOR_KEY
        note = (
            f"No VOCU_API_KEY set: using the built-in Vocu simulator at {base_url} (offline demo)."
        )
        print(note, file=sys.stderr, flush=True)
    else:
        base_url, api_key = settings.vocu_base_url, settings.vocu_api_key.get_secret_value()
    settings.vocubot_data_dir.mkdir(parents=True, exist_ok=True)
    secret = settings.vocubot_secret_key.get_secret_value() if settings.vocubot_secret_key else None
    storage = await Storage.open(
        settings.database_url, secret=secret, data_dir=settings.vocubot_data_dir
    )
    try:
        async with VocuClient(api_key, base_url=base_url) as vocu:
            app = App(
                vocu=vocu,
                storage=storage,
                data_dir=settings.vocubot_data_dir,
                simulated=simulator is not None,
                limits=Limits(
                    max_text_chars=settings.vocubot_max_text_chars,
                    rate_per_minute=settings.vocubot_rate_per_minute,
                    daily_user_chars=settings.vocubot_daily_user_chars,
                    daily_chat_chars=settings.vocubot_daily_chat_chars,
                    cache_bytes=settings.vocubot_cache_mb * 1024 * 1024,
                ),
            )
            try:
                yield app
            finally:  # also when stopped (SIGTERM, Ctrl-C): write what is counted and queued
                try:
                    await asyncio.wait_for(app.drain(), DRAIN_SECONDS)
                except Exception:
                    log.warning("background work not finished at exit", exc_info=True)
                await app.close()
    finally:
        await storage.close()
        audio.shutdown_pool()
        if simulator is not None:
            await simulator.stop()


async def _until_sigterm(work: Coroutine[Any, Any, int]) -> int:
    """Run `work`; SIGTERM (docker stop, systemctl stop, kill) stops it as Ctrl-C does, through
    every cleanup (platforms, jobs, drained writes, worker processes), and exits 0."""
    task, loop = asyncio.current_task(), asyncio.get_running_loop()
    assert task is not None
    stopping = False

    def stop() -> None:
        nonlocal stopping
        stopping = True
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, stop)
    except (NotImplementedError, RuntimeError):  # not on this platform or thread
        return await work
    try:
        return await work
    except asyncio.CancelledError:
        if not stopping:
            raise
        task.uncancel()
        log.info("stopped by SIGTERM")
        return 0
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def _console(settings: Settings, out_dir: Path) -> int:
    from adapters.console import run_console

    async with open_app(settings) as app:
        return await run_console(app, out_dir=out_dir)


async def _run(settings: Settings, out_dir: Path) -> int:
    platforms = []
    if settings.telegram_bot_token:
        from adapters.telegram_app import run_telegram

        platforms.append(run_telegram)
    if settings.discord_bot_token:
        from adapters.discord_app import run_discord

        platforms.append(run_discord)
    if not platforms:
        print(
            "No TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN set: starting the console adapter.",
            file=sys.stderr,
        )
        print(
            "Type commands such as /help, /voices or /say Hello! (Ctrl-D to quit).", file=sys.stderr
        )
        return await _console(settings, out_dir)
    async with open_app(settings) as app:
        from bot import audio
        from bot.jobs import JobRunner

        jobs = JobRunner(app)  # resumes unfinished jobs; adapters register their couriers
        await jobs.start()
        # Voice notes are transcoded in worker processes: start them all before the first burst.
        app.spawn(audio.start_pool(), name="opus-workers")
        try:
            await asyncio.gather(*(start(app, settings) for start in platforms))
        finally:
            await jobs.stop()
    return 0


def _serve(work: Coroutine[Any, Any, int]) -> int:
    """Run the bot's event loop: uvloop where it is installed (Linux, macOS), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(work)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `vocu-bot` console script."""
    parser = argparse.ArgumentParser(
        prog="vocu-bot", description="Vocu voice bot for Discord and Telegram"
    )
    sub = parser.add_subparsers(dest="cmd")
    run = sub.add_parser("run", help="start every platform that has a token (console if none)")
    run.add_argument("--out", type=Path, default=None, help="where the console writes audio")
    console = sub.add_parser("console", help="commands on stdin, replies on stdout")
    console.add_argument("--out", type=Path, default=None, help="where audio replies are written")
    sim = sub.add_parser("simulator", help="serve the Vocu API simulator")
    from bot.vocu.simulator.cli import add_arguments, run_from_args

    add_arguments(sim)
    args = parser.parse_args(argv)
    if args.cmd == "simulator":
        setup_logging("INFO")
        return run_from_args(args)
    settings = Settings()
    setup_logging(settings.vocubot_log_level)
    out_dir = args.out or settings.vocubot_data_dir / "audio"
    if args.cmd == "console":
        return _serve(_until_sigterm(_console(settings, out_dir)))
    if args.cmd in (None, "run"):
        return _serve(_until_sigterm(_run(settings, out_dir)))
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
