"""Voice-channel playback: a per-server queue of streamed speech.

Speech is decoded (bot.live_audio.pcm_frames) into 20 ms frames of 48 kHz stereo s16 PCM while it
downloads; the frames cross into discord.py's voice thread through a bounded thread-safe queue
(FrameSource), so playback starts with the first decoded frame, not after the whole clip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.audio import PCM_FRAME_BYTES

log = logging.getLogger(__name__)

SILENCE = bytes(PCM_FRAME_BYTES)
BUFFER_FRAMES = 500  # 10 s of PCM (1.9 MB) ahead of playback at most
UNDERRUN_WAIT = 0.02  # a frame's time: on underrun send silence rather than stall the clock
STALL_TIMEOUT = 15.0  # seconds without audio before giving up on a stream
IDLE_TIMEOUT = 300.0  # leave the channel after this long with nothing to say


class FrameSource(discord.AudioSource):
    """PCM frames pushed from the event loop, read every 20 ms by discord.py's player thread."""

    def __init__(
        self, *, buffer_frames: int = BUFFER_FRAMES, stall_timeout: float = STALL_TIMEOUT
    ) -> None:
        self._frames: queue.Queue[bytes | None] = queue.Queue(maxsize=buffer_frames)
        self._stall_timeout = stall_timeout
        self._starved = 0.0
        self._ended = False
        self.closed = False
        self.received = 0  # frames of speech queued so far
        self.audio_frames = 0  # frames of speech handed to the player
        self.silence_frames = 0  # underruns papered over with silence

    # -- event-loop side --
    async def put(self, frame: bytes | None) -> None:
        """Queue a frame (None = end of stream), waiting while the buffer is full."""
        if frame is not None:
            self.received += 1
        while not self.closed:
            try:
                self._frames.put_nowait(frame)
                return
            except queue.Full:
                await asyncio.sleep(UNDERRUN_WAIT)

    # -- voice-thread side --
    def read(self) -> bytes:
        """The next 3840-byte frame; silence on underrun; b"" at the end."""
        if self._ended or self.closed:
            return b""
        try:
            frame = self._frames.get(timeout=UNDERRUN_WAIT)
        except queue.Empty:
            self._starved += UNDERRUN_WAIT
            if self._starved >= self._stall_timeout:
                log.warning("voice stream stalled for %.0f s; stopping it", self._starved)
                self._ended = True
                return b""
            self.silence_frames += 1
            return SILENCE
        self._starved = 0.0
        if frame is None:
            self._ended = True
            return b""
        self.audio_frames += 1
        return frame

    def is_opus(self) -> bool:
        return False

    def cleanup(self) -> None:
        self.closed = True
        with contextlib.suppress(queue.Empty):
            while True:
                self._frames.get_nowait()


class VoiceLike(Protocol):
    """What the player needs of discord.py's VoiceClient (tests use a fake)."""

    channel: Any

    def play(
        self, source: discord.AudioSource, *, after: Callable[[Exception | None], Any]
    ) -> None: ...

    def stop(self) -> None: ...

    async def disconnect(self, *, force: bool = False) -> None: ...

    async def move_to(self, channel: Any) -> None: ...


@dataclass(slots=True)
class Track:
    """One thing to say: its PCM frames, and what to do if producing them fails."""

    frames: AsyncIterator[bytes]
    on_error: Callable[[BaseException], Awaitable[None]] | None = None


class GuildPlayer:
    """The queue of one server's voice connection; plays tracks one after another."""

    def __init__(
        self,
        voice: VoiceLike,
        *,
        on_idle: Callable[[], Awaitable[None]],
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.voice = voice
        self.idle_timeout = idle_timeout
        self._on_idle = on_idle
        self._queue: asyncio.Queue[Track] = asyncio.Queue()
        self._unfinished = 0  # queued or playing: counted here, as a track taken off the
        # queue is not `current` until the player task runs again
        self.current: FrameSource | None = None
        self._task = asyncio.create_task(self._run(), name="discord-voice-player")

    def enqueue(self, track: Track) -> int:
        """Queue `track`; returns how many tracks are ahead of it."""
        ahead = self._unfinished
        self._unfinished += 1
        self._queue.put_nowait(track)
        return ahead

    def skip(self) -> bool:
        """Stop the current track (the next one starts); False if nothing was playing."""
        if self.current is None:
            return False
        self.current.cleanup()
        self.voice.stop()
        return True

    def stop(self) -> bool:
        """Drop the queue and the current track."""
        dropped = False
        while not self._queue.empty():
            self._queue.get_nowait()
            self._unfinished -= 1
            dropped = True
        return self.skip() or dropped

    async def close(self) -> None:
        """Stop playing and disconnect."""
        self.stop()
        if self._task is not asyncio.current_task():  # not when leaving from the idle timer
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.voice.disconnect(force=True)

    async def _run(self) -> None:
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for may swallow a cancel that
                # arrives with an item, and close() would then wait for a whole idle timeout
                async with asyncio.timeout(self.idle_timeout):
                    track = await self._queue.get()
            except TimeoutError:
                log.info("voice idle for %.0f s; leaving", self.idle_timeout)
                await self._on_idle()
                return
            try:
                await self._play(track)
            except Exception:
                log.exception("voice playback failed")
            finally:
                self._unfinished -= 1

    async def _play(self, track: Track) -> None:
        source = FrameSource()
        self.current = source
        started = asyncio.Event()
        producer = asyncio.create_task(self._produce(track, source, started))
        try:
            await started.wait()  # the first decoded frame (or the end of a failed stream)
            if source.closed or source.received == 0:
                return
            loop = asyncio.get_running_loop()
            finished = asyncio.Event()

            def after(error: Exception | None) -> None:  # called in the voice thread
                with contextlib.suppress(RuntimeError):  # the loop may be gone at shutdown
                    loop.call_soon_threadsafe(finished.set)

            self.voice.play(source, after=after)
            await finished.wait()
        finally:
            producer.cancel()
            source.cleanup()
            self.current = None

    @staticmethod
    async def _produce(track: Track, source: FrameSource, started: asyncio.Event) -> None:
        try:
            async for frame in track.frames:
                await source.put(frame)
                started.set()
                if source.closed:
                    break
        except Exception as exc:
            log.warning("voice stream failed: %s", type(exc).__name__)
            if track.on_error is not None:
                await track.on_error(exc)
        finally:
            await source.put(None)
            started.set()
            aclose = getattr(track.frames, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
