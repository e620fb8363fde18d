"""bot.audio against real encoded inputs made here with PyAV (no fixtures on disk)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import math
from array import array
from collections.abc import AsyncIterator, Iterator
from fractions import Fraction
from functools import cache

import av
import pytest
from PIL import Image

from bot import audio, live_audio
from bot.errors import MediaError

# container, codec, sample format, rate
_FORMATS = {
    "mp3": ("mp3", "libmp3lame", "fltp", 44_100),
    "mp3-24k": ("mp3", "libmp3lame", "fltp", 24_000),  # Vocu's rate: an Opus rate, kept
    "mp3-22k": ("mp3", "libmp3lame", "fltp", 22_050),
    "mp3-16k": ("mp3", "libmp3lame", "fltp", 16_000),
    "ogg": ("ogg", "libopus", "s16", 48_000),
    "m4a": ("ipod", "aac", "fltp", 44_100),
    "wav": ("wav", "pcm_s16le", "s16", 44_100),
    "flac": ("flac", "flac", "s16", 44_100),
    "webm": ("webm", "libopus", "s16", 48_000),
    "mp4": ("mp4", "aac", "fltp", 44_100),  # a video note: H.264 picture + AAC sound
}


@cache
def _second(fmt: str, rate: int, freq: int) -> bytes:
    """One second of a sine tone as raw samples (period-exact, so seconds can be tiled)."""
    wave = [0.4 * math.sin(2 * math.pi * freq * i / rate) for i in range(rate)]
    if fmt == "s16":
        return array("h", (int(32767 * x) for x in wave)).tobytes()
    return array("f", wave).tobytes()


@cache
def tone(seconds: float, fmt: str = "mp3", freq: int = 440) -> bytes:
    """A mono sine tone of `seconds`, encoded as `fmt` (mp3, ogg, m4a, wav, flac, webm, mp4)."""
    container, codec, sample_fmt, rate = _FORMATS[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        video = out.add_stream("libx264", rate=10) if fmt == "mp4" else None
        if video is not None:
            video.width = video.height = 64
            video.pix_fmt = "yuv420p"
        second, width = _second(sample_fmt, rate, freq), 2 if sample_fmt == "s16" else 4
        pts, total = 0, int(seconds * rate)
        while pts < total:
            count = min(1024, total - pts)
            start = (pts % rate) * width
            chunk = (second + second)[start : start + count * width]
            frame = av.AudioFrame(format=sample_fmt, layout="mono", samples=count)
            frame.planes[0].update(chunk)
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            out.mux(stream.encode(frame))
            pts += count
        out.mux(stream.encode(None))
        if video is not None:
            for index in range(int(seconds * 10)):
                picture = av.VideoFrame.from_image(Image.new("RGB", (64, 64), (index * 8, 0, 0)))
                picture.pts = index
                out.mux(video.encode(picture))
            out.mux(video.encode(None))
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, "PNG")
    return buffer.getvalue()


def _decoded(data: bytes) -> tuple[str, str, int, int, float]:
    """(container format, codec, rate, channels, decoded seconds) of `data`."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return (
            container.format.name,
            stream.codec_context.name,
            stream.sample_rate,
            stream.channels,
            samples / stream.sample_rate,
        )


@pytest.fixture(scope="module", autouse=True)
def _stop_pool() -> Iterator[None]:
    yield
    audio.shutdown_pool()


# --- probe and prepare_sample -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(_FORMATS))
def test_probe_reads_every_accepted_format(fmt: str) -> None:
    info = audio.probe(tone(3.0, fmt))
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert info.channels == 1 and info.sample_rate == _FORMATS[fmt][3]
    assert info.codec


@pytest.mark.parametrize("fmt", list(_FORMATS))
def test_prepare_sample_converts_every_format_to_mono_mp3(fmt: str) -> None:
    sample = audio.prepare_sample(tone(3.0, fmt), max_bytes=10 * audio.MIB)
    assert sample.mime == "audio/mpeg"
    assert sample.duration == pytest.approx(3.0, abs=0.05)
    container, codec, rate, channels, seconds = _decoded(sample.data)
    assert (container, channels) == ("mp3", 1)
    assert codec.startswith("mp3") and rate in (44_100, 48_000)
    assert seconds == pytest.approx(3.0, abs=0.1)
    assert not sample.data.startswith(b"ID3")  # no tags sent on to the API


def test_probe_measures_duration_by_decoding_when_the_container_has_none() -> None:
    # A raw ADTS stream carries no duration, so probe has to count samples.
    buffer = io.BytesIO()
    with av.open(io.BytesIO(tone(3.0, "m4a"))) as source, av.open(buffer, "w", "adts") as out:
        stream = out.add_stream_from_template(source.streams.audio[0])
        for packet in source.demux(source.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    assert audio.probe(buffer.getvalue()).duration == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 10, bytes(range(256)) * 40, b"not audio at all " * 100, _png()],
    ids=["empty", "ten-zeros", "garbage", "text", "png-as-audio"],
)
def test_corrupt_or_wrong_type_is_refused(data: bytes) -> None:
    with pytest.raises(MediaError) as probed:
        audio.probe(data)
    assert probed.value.key == "media.audio_corrupt"
    with pytest.raises(MediaError) as prepared:
        audio.prepare_sample(data, max_bytes=10 * audio.MIB)
    assert prepared.value.key == "media.audio_corrupt"


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "m4a", "wav", "flac"])
def test_truncated_header_is_corrupt(fmt: str) -> None:
    with pytest.raises(MediaError) as caught:
        audio.prepare_sample(tone(3.0, fmt)[:60], max_bytes=10 * audio.MIB)
    assert caught.value.key == "media.audio_corrupt"


def test_truncated_body_keeps_only_what_decodes() -> None:
    data = tone(4.0, "mp3")
    with pytest.raises(MediaError) as caught:  # half of 4 s is under the 3 s minimum
        audio.prepare_sample(data[: len(data) // 2], max_bytes=10 * audio.MIB)
    assert caught.value.key == "media.audio_too_short"


def test_too_short_is_refused() -> None:
    with pytest.raises(MediaError) as caught:
        audio.prepare_sample(tone(2.0, "ogg"), max_bytes=10 * audio.MIB)
    assert caught.value.key == "media.audio_too_short"
    assert caught.value.params == {"seconds": 3.0}


def test_too_large_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an oversized upload")

    monkeypatch.setattr(audio.av, "open", no_decoding)
    with pytest.raises(MediaError) as caught:
        audio.prepare_sample(b"\x00" * (3 * audio.MIB), max_bytes=2 * audio.MIB)
    assert caught.value.key == "media.audio_too_large"
    assert caught.value.params == {"limit_mb": 2.0}


def test_audio_that_decodes_for_too_long_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio, "MAX_DECODED_SECONDS", 1)
    with pytest.raises(MediaError) as caught:
        audio.prepare_sample(tone(3.0, "flac"), max_bytes=10 * audio.MIB)
    assert caught.value.key == "media.audio_too_large"
    assert caught.value.params == {"limit_mb": 10.0}  # the figure the reply shows


# --- MP3 helpers ------------------------------------------------------------------------------


def test_mp3_duration() -> None:
    # packet durations include the encoder padding (up to ~2 frames), hence 60 ms
    assert audio.mp3_duration(tone(3.0, "mp3")) == pytest.approx(3.0, abs=0.06)
    with pytest.raises(MediaError):
        audio.mp3_duration(b"garbage" * 50)


def test_concat_mp3_joins_clips_of_different_rates() -> None:
    first = tone(2.0, "mp3")
    second = audio.prepare_sample(tone(3.0, "ogg"), max_bytes=10 * audio.MIB).data  # 48 kHz
    joined = audio.concat_mp3([first, second, first])
    container, _, rate, channels, seconds = _decoded(joined)
    assert (container, rate, channels) == ("mp3", 44_100, 1)
    assert seconds == pytest.approx(7.0, abs=0.1)
    assert audio.mp3_duration(joined) == pytest.approx(7.0, abs=0.1)
    with pytest.raises(ValueError):
        audio.concat_mp3([])


# --- voice notes ------------------------------------------------------------------------------


def _check_voice_note(note: audio.VoiceNote, seconds: float) -> None:
    container, codec, rate, channels, decoded = _decoded(note.ogg)
    assert (container, codec, rate, channels) == ("ogg", "opus", 48_000, 1)
    assert decoded == pytest.approx(seconds, abs=0.1)
    assert note.duration == pytest.approx(seconds, abs=0.1)
    assert 0 < len(note.waveform) <= 256
    assert base64.b64decode(note.waveform_b64) == note.waveform


def test_voice_note_is_ogg_opus_with_duration_and_waveform() -> None:
    note = audio.to_voice_note(tone(3.0, "mp3"))
    _check_voice_note(note, 3.0)
    assert len(note.waveform) == 256 and max(note.waveform) == 255  # a steady tone: flat, full
    assert min(note.waveform) > 200


def test_voice_note_of_a_short_clip_has_fewer_waveform_samples() -> None:
    note = audio.to_voice_note(tone(1.0, "mp3"))
    _check_voice_note(note, 1.0)
    assert 90 <= len(note.waveform) <= 110  # one sample per 10 ms


@pytest.mark.parametrize("fmt", ["mp3-24k", "mp3-22k", "mp3-16k"])
def test_voice_note_of_another_rate(fmt: str) -> None:
    # 24 and 16 kHz are Opus rates, encoded as they are; 22.05 kHz (like 44.1) is resampled
    note = audio.to_voice_note(tone(2.0, fmt))
    _check_voice_note(note, 2.0)
    assert max(note.waveform) == 255 and min(note.waveform) > 200  # a steady tone


def test_voice_note_of_mono_float_at_an_opus_rate_skips_the_resampler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_resampler(*args: object, **kwargs: object) -> Iterator[av.AudioFrame]:
        raise AssertionError("resampled")

    monkeypatch.setattr(audio, "_resample", no_resampler)
    _check_voice_note(audio.to_voice_note(tone(2.0, "mp3-24k")), 2.0)
    with pytest.raises(AssertionError, match="resampled"):
        audio.to_voice_note(tone(2.0, "mp3"))  # 44.1 kHz: not an Opus rate


def test_voice_note_of_stereo_is_mono() -> None:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=24_000, layout="stereo")
        frame = av.AudioFrame(format="s16", layout="stereo", samples=24_000 * 2)
        frame.planes[0].update(bytes(range(256)) * (24_000 * 2 * 4 // 256))
        frame.sample_rate, frame.pts = 24_000, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    _check_voice_note(audio.to_voice_note(buf.getvalue()), 2.0)


def test_voice_note_of_garbage_is_corrupt() -> None:
    with pytest.raises(MediaError) as caught:
        audio.to_voice_note(b"\xff\xfb" + b"\x00" * 500)
    assert caught.value.key == "media.audio_corrupt"


async def test_voice_note_async_transcodes_identical_audio_once() -> None:
    mp3 = tone(3.0, "mp3", freq=523)
    notes = await asyncio.gather(*(audio.to_voice_note_async(mp3) for _ in range(5)))
    _check_voice_note(notes[0], 3.0)
    assert all(note is notes[0] for note in notes)  # one future, one result, shared
    assert await audio.to_voice_note_async(mp3) is notes[0]


async def test_voice_note_async_raises_media_errors_with_params_and_forgets_them() -> None:
    bad = b"not an mp3" * 30
    with pytest.raises(MediaError) as caught:
        await audio.to_voice_note_async(bad)
    assert caught.value.key == "media.audio_corrupt"
    assert hashlib.sha256(bad).hexdigest() not in audio._CACHE  # a failure is not cached
    with pytest.raises(MediaError):
        await audio.to_voice_note_async(bad)


# --- streaming PCM ----------------------------------------------------------------------------


class _Chunks:
    """An async source of `data` in `size`-byte chunks that counts what was consumed."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size, self.consumed = data, size, 0
        self.total = math.ceil(len(data) / size)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), self.size):
            self.consumed += 1
            yield self.data[start : start + self.size]
            await asyncio.sleep(0)


async def _pcm(source: _Chunks) -> tuple[list[bytes], int]:
    frames: list[bytes] = []
    consumed_at_first = -1
    async for frame in live_audio.pcm_frames(source.__aiter__()):
        if not frames:
            consumed_at_first = source.consumed
        frames.append(frame)
    return frames, consumed_at_first


async def test_pcm_frames_are_20ms_stereo_and_start_before_the_stream_ends() -> None:
    mp3 = tone(3.0, "mp3")
    source = _Chunks(mp3, 2048)
    frames, consumed_at_first = await _pcm(source)
    assert {len(frame) for frame in frames} == {audio.PCM_FRAME_BYTES}
    assert abs(len(frames) - 150) <= 4  # 3 s / 20 ms, give or take encoder padding
    assert 0 < consumed_at_first < source.total / 2
    left = array("h", frames[50])[0::2]
    right = array("h", frames[50])[1::2]
    assert left == right and max(left) > 5000  # the mono tone, on both channels


async def test_pcm_frames_pad_the_last_frame_and_skip_id3() -> None:
    tagged = tone(1.01, "mp3")  # FFmpeg's MP3 muxer starts the file with an ID3v2 tag
    assert tagged.startswith(b"ID3")
    untagged = tagged[live_audio._id3_size(tagged) :]
    assert untagged.startswith(b"\xff")
    plain_frames, _ = await _pcm(_Chunks(untagged, 7))
    tagged_frames, _ = await _pcm(_Chunks(tagged, 3))
    assert len(tagged_frames) == len(plain_frames) == pytest.approx(51, abs=3)
    assert all(len(frame) == audio.PCM_FRAME_BYTES for frame in tagged_frames)
    assert tagged_frames[-1].endswith(b"\x00" * 16)


async def test_pcm_frames_of_garbage_is_corrupt() -> None:
    with pytest.raises(MediaError) as caught:
        await _pcm(_Chunks(_png() + b"\x00" * 3000, 512))
    assert caught.value.key == "media.audio_corrupt"
