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


#: Length of the first pre-encoded tone per pitch (doubled when a longer one is asked for);
#: generations take a prefix of its MP3 frames.
_TRACK_SECONDS = 12.0


def mp3_frames(data: bytes) -> tuple[list[bytes], float]:
    """The MPEG audio frames of an MP3 file (no ID3/Xing header) and one frame's duration."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        frames, seconds = [], 0.0
        for packet in container.demux(stream):
            if packet.size:
                frames.append(bytes(packet))
                if not seconds and packet.duration and packet.time_base is not None:
                    seconds = float(packet.duration * packet.time_base)
    return frames, seconds or 1152 / stream.rate


class AudioEngine:
    """Async façade: MP3s and PCM computed off the event loop.

    Each pitch is encoded once as a long CBR track; a generation is a prefix of its frames
    (one per segment, concatenated), which is a valid MP3 of the right length. So a burst of
    distinct generations costs the simulator almost no CPU, as a remote service would.
    """

    def __init__(self, sample_rate: int, bitrate: int, cache_size: int = 256) -> None:
        self.sample_rate = sample_rate
        self.bitrate = bitrate
        self._tracks: dict[float, tuple[list[bytes], float]] = {}
        self._inflight: dict[tuple[float, float], asyncio.Future[tuple[list[bytes], float]]] = {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vocu-sim-audio")

    def _encode_track(self, freq: float, seconds: float) -> tuple[list[bytes], float]:
        pcm = synth_pcm((Segment(freq, seconds),), self.sample_rate)
        return mp3_frames(encode_mp3(pcm, self.sample_rate, self.bitrate))

    async def _track(self, freq: float, seconds: float) -> tuple[list[bytes], float]:
        """Frames of the tone at `freq`, at least `seconds` long (encoded once, shared)."""
        track = self._tracks.get(freq)
        if track is not None and len(track[0]) * track[1] >= seconds:
            return track
        have = len(track[0]) * track[1] if track is not None else 0.0
        length = max(_TRACK_SECONDS, 2 * have, math.ceil(seconds) + 1.0)
        key = (freq, length)
        pending = self._inflight.get(key)
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = loop.run_in_executor(self._pool, self._encode_track, freq, length)
            self._inflight[key] = pending
            pending.add_done_callback(lambda _f: self._inflight.pop(key, None))
        track = await asyncio.shield(pending)
        self._tracks[freq] = track
        return track

    async def mp3(self, segments: tuple[Segment, ...]) -> bytes:
        """The MP3 for `segments`: prefixes of each pitch's pre-encoded frames."""
        parts: list[bytes] = []
        for seg in segments:
            frames, frame_seconds = await self._track(seg.freq, seg.seconds)
            parts.extend(frames[: max(1, math.ceil(seg.seconds / frame_seconds))])
        return b"".join(parts)

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
