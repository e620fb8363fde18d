"""Real encoded test media, generated on the fly (no binary fixtures in the repo)."""

from __future__ import annotations

import io
import math

import av


def tone(seconds: float, fmt: str = "mp3", rate: int = 24000) -> bytes:
    """A real encoded sine tone (speech-like enough for the simulator's checks)."""
    codec = {"mp3": "libmp3lame", "ogg": "libopus", "wav": "pcm_s16le"}[fmt]
    rate = 48000 if fmt == "ogg" else rate
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        total = int(seconds * rate)
        step = 1024
        for start in range(0, total, step):
            n = min(step, total - start)
            samples = bytearray()
            for i in range(n):
                value = int(8000 * math.sin(2 * math.pi * 220 * (start + i) / rate))
                samples += value.to_bytes(2, "little", signed=True)
            frame = av.AudioFrame(format="s16", layout="mono", samples=n)
            frame.planes[0].update(bytes(samples))
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def png(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(buf, "PNG")
    return buf.getvalue()
