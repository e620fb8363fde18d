"""Parsing and checking voice/style samples: JSON data URLs or multipart files (§14.1, PC-37)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from PIL import Image

from .audio import Segment, pitch_for
from .entities import Style, new_id
from .errors import ApiError
from .helpers import as_bool, decode_data_url, read_json
from .state import SimState

#: Languages accepted when creating voices and styles (synthesis list plus `ja-asmr`).
CREATION_LANGUAGES = frozenset(
    {"auto", "zh", "en-us", "ja", "ko", "fr-fr", "pt", "de", "es", "yue", "ja-asmr"}
)
_EXTENSIONS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}


@dataclass
class Upload:
    """One uploaded binary: its bytes, MIME type and whether it came as a multipart file."""

    data: bytes
    mime: str
    as_file: bool


@dataclass
class VoiceForm:
    """Fields of a create-voice / add-style request, whatever the encoding."""

    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)


async def read_voice_form(request: web.Request) -> VoiceForm:
    """Read a JSON or multipart body; data URLs are decoded (400 VALIDATION_INVALID_FORMAT)."""
    form = VoiceForm()
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or not part.name:
                continue
            if part.filename is not None:
                data = await part.read(decode=False)
                mime = part.headers.get("Content-Type", "application/octet-stream")
                form.files[part.name] = Upload(bytes(data), mime, as_file=True)
            else:
                form.fields[part.name] = await part.text()
        for key in ("train_params", "extra_params"):
            if isinstance(form.fields.get(key), str):
                try:
                    form.fields[key] = json.loads(form.fields[key])
                except ValueError as exc:
                    raise ApiError(400, "VALIDATION_INVALID_FORMAT", f"{key} is not JSON.") from exc
    else:
        form.fields = await read_json(request)
    for key in ("prompt", "avatar"):
        value = form.fields.pop(key, None)
        if key not in form.files and isinstance(value, str) and value:
            mime, data = decode_data_url(value)
            form.files[key] = Upload(data, mime, as_file=False)
    return form


async def check_sample(state: SimState, upload: Upload | None, cap: int) -> float | None:
    """Validate a voice sample; returns its measured duration (None when not measurable)."""
    if upload is None or not upload.data:
        raise ApiError(400, "VOICE_PROMPT_MISSING", "Prompt audio is missing.")
    if len(upload.data) > cap:
        code = "UPLOAD_TOO_LARGE" if upload.as_file else "VOICE_PROMPT_TOO_LARGE"
        raise ApiError(413, code)
    duration = await state.audio.probe(upload.data)
    if duration is not None and duration < state.config.min_prompt_seconds:
        raise ApiError(400, "MINIMUM_DURATION_NOT_MET")
    return duration


def creation_language(value: Any) -> str:
    """A creation language; unknown values silently become `auto`."""
    return value if isinstance(value, str) and value in CREATION_LANGUAGES else "auto"


def store_style(
    state: SimState,
    voice_id: str,
    style_id: str,
    name: str,
    upload: Upload,
    duration: float | None,
    fields: dict[str, Any],
) -> Style:
    """Keep the original sample and a processed (tone) preview; build the Style."""
    sample_id = new_id()
    ext = _EXTENSIONS.get(upload.mime, "bin")
    origin = state.storage.put(f"prompt/{voice_id}/{sample_id}.{ext}", upload.data, upload.mime)
    seconds = round(duration or 3.0, 2)
    segments = (Segment(pitch_for(voice_id, style_id), seconds),)
    playback = state.storage.put_audio(f"prompt/{voice_id}/{sample_id}-playback.mp3", segments)
    description = fields.get("description")
    return Style(
        id=style_id,
        name=name,
        origin_url=origin,
        playback_url=playback,
        language=creation_language(fields.get("language")),
        vocal_filter=as_bool(fields.get("vocalFilter"), default=True),
        description=str(description) if description else None,
        duration=duration,
    )


def check_image(data: bytes) -> None:
    """400 VALIDATION_INVALID_FORMAT unless Pillow can read the image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception as exc:  # any Pillow failure means "not an image"
        raise ApiError(400, "VALIDATION_INVALID_FORMAT", "The image cannot be decoded.") from exc
