"""Images with Pillow: validate an uploaded avatar and normalise it into a clean PNG data URI."""

from __future__ import annotations

import base64
import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import MediaError

MIB = 1024 * 1024
# 40 megapixels: any phone photo passes, while a tiny PNG claiming 100 000² pixels is refused
# before a byte of it is decompressed. Checked here, not through the process-wide
# Image.MAX_IMAGE_PIXELS, which other code may rely on.
MAX_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
# What a broken file makes Pillow raise, besides its own errors.
_BROKEN = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    struct.error,
    EOFError,
    IndexError,
    TypeError,
)


@dataclass(frozen=True, slots=True)
class NormalisedImage:
    """A metadata-free PNG, its size and the same bytes as a data URI."""

    png: bytes
    width: int
    height: int
    data_uri: str


def normalise_avatar(
    data: bytes, *, max_bytes: int = 10 * MIB, max_side: int = 1024
) -> NormalisedImage:
    """Check an uploaded image, apply its EXIF rotation, shrink it and strip all metadata.

    Accepts PNG, JPEG, WebP, GIF (first frame) and BMP; the result is an RGB or RGBA PNG whose
    longest side is at most `max_side`.
    """
    if len(data) > max_bytes:  # before decoding: never spend CPU on an oversized upload
        raise MediaError("media.image_too_large", limit_mb=round(max_bytes / MIB, 1))
    _verify(data, max_bytes)
    try:
        image = _load(data, max_side)
    except _BROKEN as exc:
        raise MediaError("media.image_corrupt") from exc
    png = _clean_png(image)
    return NormalisedImage(
        png=png,
        width=image.width,
        height=image.height,
        data_uri="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
    )


def _verify(data: bytes, max_bytes: int) -> None:
    """Refuse non-images, damaged files and decompression bombs before decoding any pixels."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise MediaError("media.image_too_large", limit_mb=round(max_bytes / MIB, 1))
            probe.verify()
    except Image.DecompressionBombError as exc:
        raise MediaError("media.image_too_large", limit_mb=round(max_bytes / MIB, 1)) from exc
    except _BROKEN as exc:
        raise MediaError("media.image_corrupt") from exc


def _load(data: bytes, max_side: int) -> Image.Image:
    """Decode (verify() spends the file object, so reopen), rotate upright, convert, shrink."""
    with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
        if opened.format == "JPEG":  # decode at 1/2…1/8 scale when that is still large enough
            opened.draft("RGB", (max_side, max_side))
        opened.load()  # a truncated file fails here (LOAD_TRUNCATED_IMAGES stays off)
        upright = ImageOps.exif_transpose(opened)
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or ("transparency" in upright.info)
        image = upright.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _clean_png(image: Image.Image) -> bytes:
    """Encode only the pixels: a fresh image has no EXIF, ICC, text chunks or other info."""
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    buffer = io.BytesIO()
    clean.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
