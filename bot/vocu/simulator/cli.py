"""Command-line entry of the simulator (wired into `vocu-bot simulator` by the composition root)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .config import SimulatorConfig
from .server import Simulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vocu-bot simulator`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (0 = any)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument(
        "--generation-latency", type=float, default=0.0, help="extra seconds per generation"
    )
    parser.add_argument("--fail-429", type=int, default=0, metavar="N", help="next N answers: 429")
    parser.add_argument("--fail-5xx", type=int, default=0, metavar="N", help="next N answers: 503")
    parser.add_argument("--drop", type=int, default=0, metavar="N", help="drop the next N requests")
    parser.add_argument(
        "--truncate-after", type=int, default=None, metavar="BYTES", help="cut audio streams"
    )
    parser.add_argument("--zero-credits", action="store_true", help="new keys start with 0 credits")
    parser.add_argument("--stuck-creating", action="store_true", help="voices stay `creating`")
    parser.add_argument("--fail-tasks", action="store_true", help="async tasks end `failed`")
    parser.add_argument(
        "--voice-creating-seconds", type=float, default=1.0, help="time a new voice is `creating`"
    )
    parser.add_argument(
        "--task-pending-seconds", type=float, default=0.5, help="time a new task is `pending`"
    )
    parser.add_argument(
        "--task-processing-seconds", type=float, default=1.0, help="then `processing`"
    )
    parser.add_argument(
        "--strict-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accept only this key (repeatable)",
    )


def build_simulator(args: argparse.Namespace) -> Simulator:
    """A simulator configured from parsed arguments."""
    config = SimulatorConfig(
        voice_creating_seconds=args.voice_creating_seconds,
        task_pending_seconds=args.task_pending_seconds,
        task_processing_seconds=args.task_processing_seconds,
        strict_keys=bool(args.strict_key),
        api_keys=list(args.strict_key),
    )
    if args.zero_credits:
        config.seed_bonus_credit = 0
        config.seed_credit = 0
    sim = Simulator(config)
    faults = sim.faults
    faults.latency = args.latency
    faults.generation_latency = args.generation_latency
    faults.truncate_streams_after = args.truncate_after
    faults.stuck_creating = args.stuck_creating
    faults.fail_tasks = args.fail_tasks
    faults.fail_next(args.fail_429, status=429, code="RATE_LIMIT_EXCEEDED")
    faults.fail_next(args.fail_5xx, status=503, code="NO_WORKER_AVAILABLE")
    faults.drop_next(args.drop)
    return sim


async def serve(sim: Simulator, host: str, port: int) -> None:
    """Start, print the base URL, and serve until cancelled."""
    base_url = await sim.start(host=host, port=port)
    print(f"Vocu simulator listening on {base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def run_from_args(args: argparse.Namespace) -> int:
    """Serve forever (Ctrl-C stops); returns the process exit code."""
    sim = build_simulator(args)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sim, args.host, args.port))
    return 0


def main() -> int:
    """`python -m bot.vocu.simulator.cli`."""
    parser = argparse.ArgumentParser(description="Stateful local Vocu API simulator")
    add_arguments(parser)
    return run_from_args(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
