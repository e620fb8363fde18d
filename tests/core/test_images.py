"""bot.images against real images made here with Pillow."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from bot import images
from bot.errors import MediaError

from .test_audio import tone


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _picture(size: tuple[int, int] = (300, 200), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue (alpha: right half transparent)."""
    image = Image.new(mode, size, (255, 0, 0, 255) if mode == "RGBA" else (255, 0, 0))
    right = (size[0] // 2, 0, size[0], size[1])
    image.paste((0, 0, 255, 0) if mode == "RGBA" else (0, 0, 255), right)
    return image


def _chunks(png: bytes) -> list[bytes]:
    """The chunk types of a PNG file, in order."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    types, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        types.append(png[offset + 4 : offset + 8])
        offset += 12 + length
    return types


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {}), ("GIF", {}), ("BMP", {})],
)
def test_each_accepted_format_becomes_a_png_data_uri(fmt: str, params: dict[str, object]) -> None:
    result = images.normalise_avatar(_encode(_picture(), fmt, **params))
    assert (result.width, result.height) == (300, 200)
    assert result.data_uri == "data:image/png;base64," + base64.b64encode(result.png).decode()
    with Image.open(io.BytesIO(result.png)) as out:
        assert out.format == "PNG" and out.mode == "RGB" and out.size == (300, 200)
        red, blue = out.getpixel((10, 100)), out.getpixel((290, 100))
    assert red[0] > 200 and red[2] < 60 and blue[2] > 200 and blue[0] < 60


def test_transparency_is_kept_as_rgba() -> None:
    result = images.normalise_avatar(_encode(_picture(mode="RGBA"), "PNG"))
    with Image.open(io.BytesIO(result.png)) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((10, 10))[3] == 255 and out.getpixel((290, 10))[3] == 0


def test_animated_gif_keeps_the_first_frame() -> None:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("green", "yellow", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    result = images.normalise_avatar(buffer.getvalue())
    with Image.open(io.BytesIO(result.png)) as out:
        assert out.convert("RGB").getpixel((5, 5)) == (0, 128, 0)


def test_large_images_shrink_to_1024_keeping_the_aspect_ratio() -> None:
    result = images.normalise_avatar(_encode(_picture((3000, 1500)), "JPEG"))
    assert (result.width, result.height) == (1024, 512)
    smaller = images.normalise_avatar(_encode(_picture((3000, 1500)), "PNG"), max_side=256)
    assert (smaller.width, smaller.height) == (256, 128)


def test_exif_orientation_is_applied_and_all_metadata_stripped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x013B] = "Artist Name"
    exif[0x010F] = "Camera Maker"
    jpeg = _encode(_picture((300, 200)), "JPEG", exif=exif, icc_profile=b"\x00" * 64)
    result = images.normalise_avatar(jpeg)
    assert (result.width, result.height) == (200, 300)
    with Image.open(io.BytesIO(result.png)) as out:
        top, bottom = out.getpixel((100, 10)), out.getpixel((100, 290))
        assert not out.info and not out.getexif()
    assert top[0] > 200 and bottom[2] > 200  # the red left half is now on top
    assert b"Artist Name" not in result.png and b"Camera Maker" not in result.png
    assert set(_chunks(result.png)) <= {b"IHDR", b"IDAT", b"IEND"}


def test_png_text_chunks_are_stripped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location")
    info.add_itxt("Author", "someone", zip=True)
    png = _encode(_picture(), "PNG", pnginfo=info, dpi=(300, 300))
    result = images.normalise_avatar(png)
    assert set(_chunks(result.png)) <= {b"IHDR", b"IDAT", b"IEND"}
    assert b"secret" not in result.png


def test_too_large_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an oversized upload")

    monkeypatch.setattr(images.Image, "open", no_decoding)
    with pytest.raises(MediaError) as caught:
        images.normalise_avatar(b"\x89PNG" + b"\x00" * 2048, max_bytes=1024)
    assert caught.value.key == "media.image_too_large"
    assert caught.value.params == {"limit_mb": 0.0}


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", bytes(range(256)) * 8, tone(1.0, "mp3")],
    ids=["empty", "text", "garbage", "mp3-as-image"],
)
def test_non_images_are_corrupt(data: bytes) -> None:
    with pytest.raises(MediaError) as caught:
        images.normalise_avatar(data)
    assert caught.value.key == "media.image_corrupt"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_truncated_images_are_corrupt(fmt: str) -> None:
    data = _encode(Image.effect_noise((256, 256), 64).convert("RGB"), fmt)
    with pytest.raises(MediaError) as caught:
        images.normalise_avatar(data[: len(data) * 2 // 3])
    assert caught.value.key == "media.image_corrupt"


def test_damaged_png_checksum_is_corrupt() -> None:
    data = bytearray(_encode(_picture(), "PNG"))
    data[-20] ^= 0xFF  # inside the IDAT chunk: its CRC no longer matches
    with pytest.raises(MediaError) as caught:
        images.normalise_avatar(bytes(data))
    assert caught.value.key == "media.image_corrupt"


def _bomb_png(width: int, height: int) -> bytes:
    """A valid PNG of `width`×`height` black pixels, a few kilobytes long."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [8_000, 20_000])  # 64 Mpx (over our limit), 400 Mpx (Pillow's)
def test_decompression_bomb_is_refused(side: int) -> None:
    bomb = _bomb_png(side, side)
    assert len(bomb) < 200_000
    with pytest.raises(MediaError) as caught:
        images.normalise_avatar(bomb)
    assert caught.value.key == "media.image_too_large"
