"""The simulator command line: options become knobs, and it serves until stopped."""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

from bot.vocu.simulator.cli import add_arguments, build_simulator
from tests.conftest import make_api_key


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_options_map_to_knobs() -> None:
    args = _parse(
        "--latency", "0.5", "--generation-latency", "1", "--truncate-after", "100",
        "--stuck-creating", "--fail-tasks", "--zero-credits", "--strict-key", "sk-a",
        "--strict-key", "sk-b", "--voice-creating-seconds", "3",
        "--task-pending-seconds", "2", "--task-processing-seconds", "4",
    )  # fmt: skip
    assert (args.host, args.port) == ("127.0.0.1", 8765)
    sim = build_simulator(args)
    faults = sim.faults
    assert (faults.latency, faults.generation_latency) == (0.5, 1.0)
    assert faults.truncate_streams_after == 100 and faults.stuck_creating and faults.fail_tasks
    assert sim.config.strict_keys and sim.config.api_keys == ["sk-a", "sk-b"]
    assert sim.config.seed_bonus_credit == 0 and sim.config.voice_creating_seconds == 3
    assert (sim.config.task_pending_seconds, sim.config.task_processing_seconds) == (2, 4)
    sim.state.audio.close()


async def test_process_serves_and_prints_url() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.vocu.simulator.cli", "--port", "0", "--fail-429", "1",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        base_url = line.strip().rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:")
        headers = {"Authorization": f"Bearer {make_api_key()}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.get(base_url + "/api/account/info") as response:
                assert response.status == 429
            async with session.get(base_url + "/api/account/info") as response:
                assert response.status == 200
    finally:
        proc.terminate()
        await proc.wait()
