"""In-memory file storage served without auth under `/sim-storage/…` (the fake CDN)."""

from __future__ import annotations

import colorsys
import io
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from .audio import AudioEngine, Segment

STORAGE_PREFIX = "/sim-storage/"


@dataclass
class StoredFile:
    """Either bytes, or a recipe producing them on first download."""

    content_type: str
    data: bytes | None = None
    producer: Callable[[], Awaitable[bytes]] | None = None


class Storage:
    """Path → file; every URL it hands out is absolute (`<base>/sim-storage/<path>`)."""

    def __init__(self, audio: AudioEngine) -> None:
        self.base_url = ""
        self._audio = audio
        self._files: dict[str, StoredFile] = {}

    def url(self, path: str) -> str:
        """Absolute URL of a storage path."""
        return f"{self.base_url}{STORAGE_PREFIX}{path.lstrip('/')}"

    def path_of(self, url: str) -> str | None:
        """The storage path of one of our URLs (query ignored), or None for a foreign URL."""
        head = f"{self.base_url}{STORAGE_PREFIX}"
        if not url.startswith(head):
            return None
        path = url[len(head) :].split("?", 1)[0]
        return path if path in self._files else None

    def put(self, path: str, data: bytes, content_type: str) -> str:
        """Store bytes; returns the URL."""
        self._files[path] = StoredFile(content_type, data=data)
        return self.url(path)

    def put_audio(self, path: str, segments: tuple[Segment, ...]) -> str:
        """Register an MP3 encoded lazily on first download; returns the URL."""

        async def produce() -> bytes:
            return await self._audio.mp3(segments)

        self._files[path] = StoredFile("audio/mpeg", producer=produce)
        return self.url(path)

    async def get(self, path: str) -> StoredFile | None:
        """The file at `path` with its bytes materialised, or None."""
        stored = self._files.get(path)
        if stored is None:
            return None
        if stored.data is None and stored.producer is not None:
            stored.data = await stored.producer()
        return stored


def avatar_png(seed: str, size: int = 128) -> bytes:
    """A small coloured PNG with an initial-like mark, unique per seed."""
    hue = (zlib.crc32(seed.encode()) % 360) / 360
    red, green, blue = (int(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.55, 0.85))
    image = Image.new("RGB", (size, size), (red, green, blue))
    draw = ImageDraw.Draw(image)
    margin = size // 4
    draw.ellipse((margin, margin, size - margin, size - margin), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
