"""Real audio for the simulator: a tone per voice, PCM for the WebSocket, MP3 via PyAV.

Encoding runs in a thread pool and results are kept in an LRU cache (with in-flight
de-duplication), so a burst of identical generations costs one encode and never blocks
the event loop.
"""

from __future__ import annotations

import asyncio
import io
import math
import zlib
from array import array
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import av

#: Length of one "syllable" block of the synthetic speech, in seconds.
_BLOCK_SECONDS = 0.25
#: Relative loudness of consecutive blocks: the waveform is visibly not flat.
_BLOCK_LEVELS = (0.9, 0.55, 0.8, 0.4, 0.7, 0.08)


@dataclass(frozen=True)
class Segment:
    """A stretch of tone: `freq` Hz for `seconds` seconds."""

    freq: float
    seconds: float


def pitch_for(voice_id: str, prompt_id: str = "default") -> float:
    """A stable, recognisable pitch for a voice (a style shifts it a little)."""
    base = 150 + zlib.crc32(voice_id.encode()) % 250
    if prompt_id != "default":
        base += 10 + zlib.crc32(prompt_id.encode()) % 40
    return float(base)


def speech_seconds(characters: int, per_char: float, rate: float, minimum: float) -> float:
    """Duration of synthesised speech (PC-8), rounded to 10 ms so caches hit."""
    return round(max(minimum, characters * per_char * rate), 2)


@lru_cache(maxsize=64)
def _word(freq: float, sample_rate: int) -> bytes:
    """One cycle of blocks at `freq`, as s16le mono PCM."""
    n = int(sample_rate * _BLOCK_SECONDS)
    out = array("h")
    for level in _BLOCK_LEVELS:
        for i in range(n):
            t = i / sample_rate
            envelope = level * math.sin(math.pi * i / n)
            wave = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(int(20000 * envelope * wave / 1.3))
    return out.tobytes()


def synth_pcm(segments: tuple[Segment, ...], sample_rate: int) -> bytes:
    """Signed 16-bit little-endian mono PCM for `segments`."""
    parts: list[bytes] = []
    for seg in segments:
        word = _word(seg.freq, sample_rate)
        size = int(seg.seconds * sample_rate) * 2
        parts.append((word * (size // len(word) + 1))[:size])
    return b"".join(parts)


def encode_mp3(pcm: bytes, sample_rate: int, bitrate: int) -> bytes:
    """Encode s16le mono PCM as an MP3 file with libmp3lame."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as container:
        stream = container.add_stream(
            "libmp3lame", rate=sample_rate, layout="mono", options={"compression_level": "7"}
        )
        stream.bit_rate = bitrate
        step = 1152 * 8
        total = len(pcm) // 2
        for offset in range(0, total, step):
            count = min(step, total - offset)
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            frame.planes[0].update(pcm[offset * 2 : (offset + count) * 2])
            frame.rate = sample_rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def probe_duration(data: bytes) -> float | None:
    """Duration in seconds of an audio file, or None when PyAV cannot decode it."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                return None
            if container.duration:
                return float(container.duration) / 1_000_000
            samples = 0
            rate = 0
            for frame in container.decode(audio=0):
                samples += frame.samples
                rate = frame.sample_rate or rate
            return samples / rate if rate else None
    except Exception:  # any decode failure means "not measurable"
        return None


class AudioEngine:
    """Async façade: cached MP3s and PCM, computed off the event loop."""

    def __init__(self, sample_rate: int, bitrate: int, cache_size: int = 256) -> None:
        self.sample_rate = sample_rate
        self.bitrate = bitrate
        self._cache: OrderedDict[tuple[Segment, ...], bytes] = OrderedDict()
        self._cache_size = cache_size
        self._inflight: dict[tuple[Segment, ...], asyncio.Future[bytes]] = {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vocu-sim-audio")

    def _encode(self, segments: tuple[Segment, ...]) -> bytes:
        return encode_mp3(synth_pcm(segments, self.sample_rate), self.sample_rate, self.bitrate)

    async def mp3(self, segments: tuple[Segment, ...]) -> bytes:
        """The MP3 for `segments`, from the cache or encoded once in the pool."""
        if (hit := self._cache.get(segments)) is not None:
            self._cache.move_to_end(segments)
            return hit
        if (pending := self._inflight.get(segments)) is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, self._encode, segments)
        self._inflight[segments] = future
        try:
            data = await asyncio.shield(future)
        finally:
            self._inflight.pop(segments, None)
        self._cache[segments] = data
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return data

    async def pcm(self, segments: tuple[Segment, ...]) -> bytes:
        """Raw PCM (for the WebSocket), computed in the pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, synth_pcm, segments, self.sample_rate)

    async def probe(self, data: bytes) -> float | None:
        """Duration of uploaded audio, measured in the pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, probe_duration, data)

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
