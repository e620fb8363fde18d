"""Audio with PyAV, in memory: probe, samples → MP3, MP3 → OGG/Opus voice notes.

The blocking functions suit a worker thread; `to_voice_note_async` runs in worker processes.
Live PCM for voice channels is in `bot.live_audio`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from bot.errors import MediaError

MIB = 1024 * 1024
PCM_RATE = 48_000
PCM_FRAME_BYTES = 3840  # 20 ms × 48 000 Hz × 2 channels × 2 bytes (discord.py's frame)
WAVEFORM_SAMPLES = 256  # Discord voice messages accept at most 256 one-byte samples
MAX_DECODED_SECONDS = 30 * 60  # a 1 MB file of FLAC silence must not decode for ever
MP3_RATE = 44_100
# CELT ("audio") at 32 kbit/s, complexity 3: ~27 ms of CPU per 3 s clip, decoding included;
# "voip" (SILK/hybrid at this rate) measured 30–50 % dearer, complexity 10 about 25 % dearer.
# Complexity 0 and the source's own rate when Opus takes it (Vocu's 24 kHz) skip the
# resampler and cut a 5 s clip from ~45 to ~32 ms of CPU; voices sound the same at 32 kbit/s.
_OPUS_OPTIONS = {"application": "audio", "compression_level": "0", "frame_duration": "60"}
_OPUS_RATES = (8_000, 12_000, 16_000, 24_000, 48_000)
_FLOATS = ("fltp", "flt")  # sample formats whose mono plane is packed float as it is
_WAVE_STRIDE = 16  # 1 sample in 16 (1.5 kHz at 24 kHz) finds the peaks a picture needs


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What `probe` learnt about an audio file."""

    duration: float
    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class PreparedSample:
    """A voice sample re-encoded into a format the Vocu API accepts."""

    data: bytes
    mime: str
    duration: float


@dataclass(frozen=True, slots=True)
class VoiceNote:
    """An OGG/Opus voice note plus what Telegram and Discord want to know about it."""

    ogg: bytes
    duration: float
    waveform: bytes
    waveform_b64: str


def _open_audio(data: bytes) -> tuple[InputContainer, AudioStream]:
    """Open `data` as a container with at least one audio stream, or raise audio_corrupt."""
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="replace")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaError("media.audio_corrupt") from exc
    if not container.streams.audio:
        container.close()
        raise MediaError("media.audio_corrupt")
    return container, container.streams.audio[0]


def _decode(
    container: InputContainer, stream: AudioStream, *, limit_mb: float = 0
) -> Iterator[AudioFrame]:
    """Yield the decoded frames of `stream`; a decoding failure becomes audio_corrupt, and
    over MAX_DECODED_SECONDS of audio is too large (`limit_mb` is just the figure shown)."""
    limit, samples = MAX_DECODED_SECONDS * (stream.sample_rate or PCM_RATE), 0
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                samples += frame.samples
                if samples > limit:
                    raise MediaError("media.audio_too_large", limit_mb=limit_mb)
                yield frame
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaError("media.audio_corrupt") from exc


def _resampled(
    data: bytes, *, fmt: str, rate: int, frame_size: int | None = None, limit_mb: float = 0
) -> Iterator[AudioFrame]:
    """Decode `data` into mono frames of `fmt` at `rate` (`frame_size` samples each if given)."""
    container, stream = _open_audio(data)
    with container:
        yield from _resample(
            container, stream, fmt=fmt, rate=rate, frame_size=frame_size, limit_mb=limit_mb
        )


def _resample(
    container: InputContainer,
    stream: AudioStream,
    *,
    fmt: str,
    rate: int,
    frame_size: int | None = None,
    limit_mb: float = 0,
) -> Iterator[AudioFrame]:
    """The decoded frames of `stream` as mono `fmt` at `rate` (`frame_size` samples each)."""
    resampler = av.AudioResampler(format=fmt, layout="mono", rate=rate, frame_size=frame_size)
    for frame in _decode(container, stream, limit_mb=limit_mb):
        yield from resampler.resample(frame)
    yield from resampler.resample(None)


def _reframed(container: InputContainer, stream: AudioStream, size: int) -> Iterator[AudioFrame]:
    """The decoded frames of a mono float stream, cut to `size` samples (the last may be
    shorter) and relabelled packed "flt": one plane of mono float is already packed, so this
    spares the resampler's conversion (a fifth of a voice note's CPU)."""
    fifo = av.AudioFifo()
    for frame in _decode(container, stream):
        frame.pts = None  # the FIFO checks timestamps for gaps; the encoder numbers samples
        fifo.write(frame)
        while (part := fifo.read(size)) is not None:
            yield _as_packed(part)
    if (rest := fifo.read()) is not None:
        yield _as_packed(rest)


def _as_packed(frame: AudioFrame) -> AudioFrame:
    """A copy of a mono planar float frame as packed float (the same bytes)."""
    packed = av.AudioFrame(format="flt", layout="mono", samples=frame.samples)
    packed.planes[0].update(bytes(frame.planes[0])[: frame.samples * 4])
    packed.sample_rate = frame.sample_rate
    return packed


def _seconds(frames: Iterable[AudioFrame]) -> float:
    """Total duration of `frames`, by counting samples."""
    return sum(frame.samples / frame.sample_rate for frame in frames if frame.sample_rate)


class _Encoder:
    """Encode frames into one audio stream of an in-memory container."""

    def __init__(self, *, opus: bool = False, rate: int | None = None) -> None:
        """MP3 (mono, 44.1 kHz, 128 kbit/s) by default; OGG/Opus (32 kbit/s) if `opus`."""
        self._buffer = io.BytesIO()
        self.rate = rate or (PCM_RATE if opus else MP3_RATE)
        muxer = {} if opus else {"id3v2_version": "0"}  # MP3: frames + Xing header, no tags
        self._out = av.open(self._buffer, "w", format="ogg" if opus else "mp3", options=muxer)
        stream = self._out.add_stream(
            "libopus" if opus else "libmp3lame",
            self.rate,
            _OPUS_OPTIONS if opus else {},
            layout="mono",
            bit_rate=32_000 if opus else 128_000,
            format="flt" if opus else "fltp",  # what the frames are: no conversion in encode()
        )
        self._stream, self.samples = stream, 0

    def add(self, frame: AudioFrame) -> None:
        """Encode one frame (already at the encoder's rate and layout)."""
        frame.pts, frame.time_base = self.samples, Fraction(1, self.rate)
        self.samples += frame.samples
        self._out.mux(self._stream.encode(frame))

    def finish(self) -> bytes:
        """Flush the encoder, close the container and return its bytes."""
        self._out.mux(self._stream.encode(None))
        self._out.close()
        return self._buffer.getvalue()


def probe(data: bytes) -> AudioInfo:
    """Describe an audio file; the duration is measured by decoding if the container lacks it."""
    container, stream = _open_audio(data)
    with container:
        codec = stream.codec_context.name
        rate, channels = stream.sample_rate, stream.channels
        frames = _decode(container, stream)
        first = next(frames, None)  # proves the data decodes, whatever the header claims
        if first is None:
            raise MediaError("media.audio_corrupt")
        if container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        else:
            duration = _seconds([first]) + _seconds(frames)
    return AudioInfo(duration=duration, codec=codec, sample_rate=rate, channels=channels)


def prepare_sample(data: bytes, *, max_bytes: int, min_seconds: float = 3.0) -> PreparedSample:
    """Validate an uploaded voice sample and re-encode it as mono MP3 for the Vocu API."""
    if len(data) > max_bytes:  # before decoding: never spend CPU on an oversized upload
        raise MediaError("media.audio_too_large", limit_mb=round(max_bytes / MIB, 1))
    encoder = _Encoder()
    for frame in _resampled(data, fmt="fltp", rate=MP3_RATE, limit_mb=round(max_bytes / MIB, 1)):
        encoder.add(frame)
    if encoder.samples == 0:
        raise MediaError("media.audio_corrupt")
    if (seconds := encoder.samples / encoder.rate) < min_seconds:
        raise MediaError("media.audio_too_short", seconds=min_seconds)
    return PreparedSample(data=encoder.finish(), mime="audio/mpeg", duration=seconds)


def mp3_duration(mp3: bytes) -> float:
    """Duration of an MP3 (or any audio) in seconds: packet durations, no decoding (cheap on
    the event loop); audio whose packets carry no duration is decoded and counted."""
    container, stream = _open_audio(mp3)
    with container:
        total, base = 0, stream.time_base
        try:
            for packet in container.demux(stream):
                if packet.size and not packet.duration:
                    break
                total += packet.duration or 0
            else:
                if base is not None and total:
                    return float(total * base)
        except (av.FFmpegError, ValueError, OSError) as exc:
            raise MediaError("media.audio_corrupt") from exc
    container, stream = _open_audio(mp3)
    with container:
        return _seconds(_decode(container, stream))


def concat_mp3(parts: list[bytes]) -> bytes:
    """Join MP3 clips into one MP3 by decoding and re-encoding (safe across rates and tags)."""
    if not parts:
        raise ValueError("concat_mp3 needs at least one part")
    encoder = _Encoder()
    for part in parts:
        for frame in _resampled(part, fmt="fltp", rate=MP3_RATE):
            encoder.add(frame)
    return encoder.finish()


def to_voice_note(mp3: bytes) -> VoiceNote:
    """MP3 → mono OGG/Opus, with duration and a ≤256-byte waveform, in one decode pass; at the
    source's rate when Opus takes it (Vocu's 24 kHz), else 48 kHz."""
    container, stream = _open_audio(mp3)
    with container:
        rate = stream.sample_rate or PCM_RATE
        # Frames cut to the Opus frame size (60 ms) spare PyAV a second resampler in encode().
        if rate in _OPUS_RATES and stream.channels == 1 and stream.format.name in _FLOATS:
            frames = _reframed(container, stream, rate * 60 // 1000)
        else:
            rate = rate if rate in _OPUS_RATES else PCM_RATE
            frames = _resample(
                container, stream, fmt="flt", rate=rate, frame_size=rate * 60 // 1000
            )
        encoder = _Encoder(opus=True, rate=rate)
        peaks = _Peaks(rate)
        for frame in frames:
            peaks.add(frame)
            encoder.add(frame)
    if encoder.samples == 0:
        raise MediaError("media.audio_corrupt")
    waveform = peaks.waveform()
    return VoiceNote(
        ogg=encoder.finish(),
        duration=encoder.samples / encoder.rate,
        waveform=waveform,
        waveform_b64=base64.b64encode(waveform).decode("ascii"),
    )


class _Peaks:
    """The voice-note waveform of packed float mono audio: at most 256 peaks, one per 10 ms of a
    short clip, or per 1/256 of a longer one."""

    def __init__(self, rate: int = PCM_RATE) -> None:
        self._block = rate // 100  # 10 ms
        self._chunks: list[bytes] = []

    def add(self, frame: AudioFrame) -> None:
        """Take the samples of one packed float mono frame."""
        self._chunks.append(bytes(frame.planes[0])[: frame.samples * 4])

    def waveform(self) -> bytes:
        """At most 256 bytes, each 0–255, normalised to the loudest bin."""
        samples = memoryview(b"".join(self._chunks)).cast("f")
        n = len(samples)
        count = min(WAVEFORM_SAMPLES, -(-n // self._block))
        peaks = []
        for i in range(count):
            part = samples[i * n // count : (i + 1) * n // count : _WAVE_STRIDE]
            peaks.append(max(max(part), -min(part)))
        top = max([*peaks, 1 / 32])  # a floor, so near-silence does not fill the picture
        return bytes(min(255, int(peak * 255 / top)) for peak in peaks)


# A process pool, measured with bench/media.py (100 distinct 3 s clips, 2 cores shared with other
# jobs, best of 3 interleaved rounds, two runs): ProcessPoolExecutor(2) 1.5–1.9 s, ThreadPool(2)
# 3.1–4.1 s, serial 4.7–7 s. PyAV drops the GIL inside FFmpeg, but the Python around each frame
# convoys on it, so threads barely beat one core. Through to_voice_note_async: 2.0 s cold.
_POOL: ProcessPoolExecutor | None = None
_WORKERS = os.cpu_count() or 2
WATCH_SECONDS = 2.0  # how often a worker checks that the bot that started it still runs
_CACHE: OrderedDict[str, Future[VoiceNote | _Failure]] = OrderedDict()  # by sha256
_CACHE_ENTRIES = 128
# Reentrant: cancelling futures (pool shutdown) runs their done-callbacks, which take it too.
_LOCK = threading.RLock()
_Failure = tuple[str, dict[str, Any]]  # a worker's MediaError: its params would not pickle


def _watch(owner: int) -> None:
    """In a worker: exit when the process that started the pool is gone. A worker's parent is
    the forkserver, so a SIGKILLed bot (outside a container or a systemd unit, which clean up
    themselves) would otherwise leave its workers behind for good."""

    def check() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            try:
                os.kill(owner, 0)  # signal 0: only asks whether the process exists
            except (
                ProcessLookupError,
                PermissionError,
            ):  # gone (or its pid reused by another user)
                os._exit(0)

    threading.Thread(target=check, name="owner-watch", daemon=True).start()


def _ready() -> int:
    """A job that shows a worker is up; it lasts long enough for its siblings to take the rest."""
    time.sleep(0.05)
    return os.getpid()


def _voice_note_job(mp3: bytes) -> VoiceNote | _Failure:
    """`to_voice_note` as run in a worker process."""
    try:
        return to_voice_note(mp3)
    except MediaError as exc:
        return exc.key, exc.params


def _submit(job: Callable[..., Any], *args: Any) -> Future[Any]:
    """Queue a job on the process-wide pool, starting (or restarting) it if need be."""
    global _POOL
    with _LOCK:
        for _ in range(2):
            if _POOL is None:
                # forkserver: forking a process that runs an event loop and threads is unsafe.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["bot.audio"])  # each worker forks with PyAV loaded
                _POOL = ProcessPoolExecutor(
                    _WORKERS, mp_context=context, initializer=_watch, initargs=(os.getpid(),)
                )
            try:
                return _POOL.submit(job, *args)
            except BrokenProcessPool:  # a worker died (OOM kill…): start a fresh pool once
                _POOL.shutdown(wait=False, cancel_futures=True)
                _POOL = None
        raise RuntimeError("audio worker pool keeps breaking")


async def start_pool() -> int:
    """Start every worker process now and wait until each answers; returns how many answered.

    The pool would otherwise start a worker only when a transcode finds none idle: the first
    burst of voice notes would pay for starting processes (importing PyAV and the main module)."""
    seen: set[int] = set()
    for _ in range(20):  # a worker still importing lets a sibling take its job: ask again
        futures = [_submit(_ready) for _ in range(_WORKERS)]  # queued before any can finish
        seen.update(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))
        if len(seen) >= _WORKERS:
            break
    return len(seen)


def shutdown_pool() -> None:
    """Stop the worker processes (at application shutdown; the pool restarts if used again)."""
    global _POOL
    with _LOCK:
        if _POOL is not None:
            _POOL.shutdown(wait=True, cancel_futures=True)
            _POOL = None


def _forget_failure(key: str, future: Future[VoiceNote | _Failure]) -> None:
    """Drop a failed transcode from the cache so that the next request tries again."""
    if future.cancelled() or future.exception() is not None or isinstance(future.result(), tuple):
        with _LOCK:
            if _CACHE.get(key) is future:
                del _CACHE[key]


async def to_voice_note_async(mp3: bytes) -> VoiceNote:
    """`to_voice_note` in the shared worker pool; identical audio (by sha256) is transcoded once."""
    key = hashlib.sha256(mp3).hexdigest()
    with _LOCK:
        future, created = _CACHE.get(key), False
        if future is None:
            future = _CACHE[key] = _submit(_voice_note_job, mp3)
            created = True
            while len(_CACHE) > _CACHE_ENTRIES:
                _CACHE.popitem(last=False)
        else:
            _CACHE.move_to_end(key)
    if created:  # outside the lock: a future that is already done runs this at once
        future.add_done_callback(lambda done: _forget_failure(key, done))
    # Shielded: one caller giving up must not cancel the transcode others are waiting for.
    result = await asyncio.shield(asyncio.wrap_future(future))
    if isinstance(result, tuple):
        raise MediaError(result[0], **result[1])
    return result
