"""Figures for bot.audio: voice-note transcoding in a thread pool versus a process pool.

Run: `.venv/bin/python -m bench.media [clips] [seconds]`. Prints figures, decides nothing.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import sys
import time
from array import array
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from fractions import Fraction

import av

from bot import audio


def tone_mp3(seconds: float, freq: int) -> bytes:
    """A mono 44.1 kHz sine tone as MP3 (one period-exact second, repeated)."""
    rate = 44_100
    second = array("f", (0.4 * math.sin(2 * math.pi * freq * i / rate) for i in range(rate)))
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono", bit_rate=128_000)
        total, pts = int(seconds * rate), 0
        while pts < total:
            count = min(rate, total - pts)
            frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
            frame.planes[0].update(second[:count].tobytes())
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            out.mux(stream.encode(frame))
            pts += count
        out.mux(stream.encode(None))
    return buffer.getvalue()


def timed(label: str, make: Callable[[], Executor], clips: list[bytes]) -> float:
    """Run every clip through `to_voice_note` in a fresh pool; print cold and warm times."""
    start = time.perf_counter()
    with make() as pool:
        list(pool.map(audio.to_voice_note, clips[:2]))  # warm-up (process start, imports)
        warm = time.perf_counter()
        list(pool.map(audio.to_voice_note, clips))
        done = time.perf_counter()
    print(f"{label:<28} {done - warm:6.2f} s warm, {done - start:6.2f} s incl. start")
    return done - warm


def main() -> None:
    """Compare serial, thread pool and process pool for N clips of S seconds."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    workers = os.cpu_count() or 2
    clips = [tone_mp3(seconds, 200 + i) for i in range(count)]
    print(f"{count} × {seconds:g} s MP3 → OGG/Opus, {workers} CPUs")
    start = time.perf_counter()
    for clip in clips:
        audio.to_voice_note(clip)
    print(f"{'serial':<28} {time.perf_counter() - start:6.2f} s")
    ctx = multiprocessing.get_context("forkserver")
    best: dict[str, float] = {}
    for _ in range(3):  # interleaved rounds: the box is shared, take the best of each
        for label, make in (
            (f"ThreadPoolExecutor({workers})", lambda: ThreadPoolExecutor(workers)),
            (
                f"ProcessPoolExecutor({workers})",
                lambda: ProcessPoolExecutor(workers, mp_context=ctx),
            ),
        ):
            best[label] = min(best.get(label, math.inf), timed(label, make, clips))
    for label, seconds_taken in best.items():
        print(f"best {label:<23} {seconds_taken:6.2f} s")


if __name__ == "__main__":
    main()
