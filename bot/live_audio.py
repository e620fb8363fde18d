"""Live audio for voice channels: an MP3 stream decoded as it arrives into the 20 ms PCM frames
discord.py plays, so playback starts with the first bytes rather than after the whole clip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import av
from av.audio.frame import AudioFrame

from bot.audio import PCM_FRAME_BYTES, PCM_RATE
from bot.errors import MediaError


async def pcm_frames(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Decode an MP3 stream as it arrives into 20 ms frames of 48 kHz stereo s16le PCM, each
    PCM_FRAME_BYTES long (the last zero-padded) as discord.py expects. A chunk decodes in a
    millisecond or two, so this runs inline on the event loop."""
    decoder = _StreamDecoder()
    async for chunk in chunks:
        for frame in decoder.feed(chunk):
            yield frame
    for frame in decoder.finish():
        yield frame


class _StreamDecoder:
    """Incremental MP3 → PCM: parse packets out of arbitrary chunks, decode, resample, slice."""

    def __init__(self) -> None:
        self._codec = av.CodecContext.create("mp3", "r")
        self._resampler = av.AudioResampler(format="s16", layout="stereo", rate=PCM_RATE)
        self._pcm = bytearray()
        self._head: bytearray | None = bytearray()  # held until an ID3 tag is ruled in or out
        self._skip = 0  # bytes of ID3 tag still to drop: the parser would take it for audio
        self._decoded = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """Take the next chunk; return the whole frames now available."""
        if self._head is not None:
            self._head.extend(chunk)
            if len(self._head) < 10:
                return []
            chunk, self._head = bytes(self._head), None
            self._skip = _id3_size(chunk)
        if self._skip:
            dropped = min(self._skip, len(chunk))
            chunk, self._skip = chunk[dropped:], self._skip - dropped
        for packet in self._codec.parse(chunk):
            self._decode(packet)
        return self._slice()

    def finish(self) -> list[bytes]:
        """Flush parser, decoder and resampler; pad the last frame; refuse undecodable input."""
        packets = self._codec.parse(bytes(self._head)) if self._head else []
        for packet in [*packets, *self._codec.parse(None), None]:
            self._decode(packet)
        if not self._decoded:
            raise MediaError("media.audio_corrupt")
        if len(self._pcm) % PCM_FRAME_BYTES:
            self._pcm.extend(bytes(PCM_FRAME_BYTES - len(self._pcm) % PCM_FRAME_BYTES))
        return self._slice()

    def _decode(self, packet: av.Packet[Any] | None) -> None:
        """Decode one packet (None flushes), skipping damaged ones as a player would."""
        try:
            frames: list[AudioFrame | None] = list(self._codec.decode(packet))
        except av.InvalidDataError:
            return
        for frame in frames if packet is not None else [*frames, None]:
            for out in self._resampler.resample(frame):
                self._decoded = True
                self._pcm.extend(bytes(out.planes[0])[: out.samples * 4])

    def _slice(self) -> list[bytes]:
        """Cut whole frames off the front of the PCM buffer."""
        whole = len(self._pcm) - len(self._pcm) % PCM_FRAME_BYTES
        size = PCM_FRAME_BYTES
        frames = [bytes(self._pcm[i : i + size]) for i in range(0, whole, size)]
        del self._pcm[:whole]
        return frames


def _id3_size(head: bytes) -> int:
    """Length of the ID3v2 tag at the start of `head` (0 if none): header + syncsafe size."""
    if not head.startswith(b"ID3") or any(byte & 0x80 for byte in head[6:10]):
        return 0
    size = sum(byte << (7 * (3 - i)) for i, byte in enumerate(head[6:10]))
    return 10 + size + (10 if head[5] & 0x10 else 0)
