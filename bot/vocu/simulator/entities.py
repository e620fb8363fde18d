"""Voices, styles and async tasks with their time-driven lifecycles (§11, §17)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .audio import Segment

#: Voice statuses in which generation is allowed (§17.2).
USABLE_STATUSES = frozenset({"pending", "lora-success", "lora-awaiting-auto-reupload"})
#: Statuses hidden from the voice list unless `show=full`.
HIDDEN_STATUSES = frozenset({"lora-pending", "lora-failed", "lora-awaiting"})


def new_id() -> str:
    """A fresh UUID string."""
    return str(uuid.uuid4())


def now_iso() -> str:
    """Current UTC time, ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mono() -> float:
    """Monotonic clock used by every lifecycle."""
    return time.monotonic()


@dataclass
class Style:
    """One entry of `metadata.prompts`."""

    id: str
    name: str
    origin_url: str
    playback_url: str
    language: str = "auto"
    vocal_filter: bool = True
    enhance: bool = False
    description: str | None = None
    deleted: bool = False
    transcript: str | None = None
    duration: float | None = None
    flags: list[str] = field(default_factory=lambda: ["v3:20250828-vfa"])

    def to_json(self) -> dict[str, Any]:
        """The wire shape (§11.1); `description` is omitted when unset."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "promptOriginAudioStorageUrl": self.origin_url,
            "playBackAudio": self.playback_url,
            "previewAudio": self.playback_url,
            "language": self.language,
            "vocalFilter": self.vocal_filter,
            "enhance": self.enhance,
            "flags": list(self.flags),
        }
        if self.description:
            out["description"] = self.description
        if self.transcript and self.duration:
            out["baseSpeechRate"] = round(len(self.transcript) / self.duration, 2)
        if self.deleted:
            out["deleted"] = True
        return out


@dataclass
class Voice:
    """A voice; its status follows `timeline` ([(monotonic time, status)], sorted)."""

    id: str
    name: str
    user_id: str
    prompts: list[Style]
    timeline: list[tuple[float, str]]
    version: str = "v3.0"
    source: str = "upload"
    description: str | None = None
    avatar: str | None = None
    origin_id: str | None = None
    with_lora: bool = False
    lora_refunded: bool = False
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def status(self, now: float | None = None) -> str:
        """The status at `now` (default: the current time)."""
        at = mono() if now is None else now
        current = self.timeline[0][1]
        for when, status in self.timeline:
            if when <= at:
                current = status
        return current

    def style(self, prompt_id: str, *, prefix: bool = False) -> Style | None:
        """A non-deleted style by id (optionally by id prefix, as on the `.mp3` GET)."""
        for style in self.prompts:
            if not style.deleted and style.id == prompt_id:
                return style
        if prefix and prompt_id:
            for style in self.prompts:
                if not style.deleted and style.id.startswith(prompt_id):
                    return style
        return None

    def touch(self) -> None:
        """Bump `updatedAt`."""
        self.updated_at = now_iso()

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        """The Voice (§11.1); `full` adds the fields of the "full voice object"."""
        metadata: dict[str, Any] = {
            "description": self.description or "",
            "prompts": [style.to_json() for style in self.prompts],
        }
        if self.avatar:
            metadata["avatar"] = self.avatar
        if self.with_lora:
            metadata["withLora"] = True
        status = self.status()
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": status,
            "metadata": metadata,
            "version": self.version,
            "from": self.source,
        }
        if status == "lora-awaiting":
            out["needPollingVerify"] = True
        if full:
            out.update(
                userId=self.user_id,
                originId=self.origin_id,
                createdAt=self.created_at,
                updatedAt=self.updated_at,
                deletedAt=None,
            )
            if self.avatar:
                out["avatar"] = self.avatar
        return out


@dataclass
class Task:
    """An async generation task (§11.2) driven by `pending_until` / `processing_until`."""

    id: str
    user_id: str
    contents: list[dict[str, Any]]
    segments: list[tuple[Segment, ...]]
    characters: int
    voices: list[dict[str, Any]]
    is_premium: bool
    srt: bool
    pending_until: float
    processing_until: float
    will_fail: bool
    frozen: tuple[float, float]
    seq: int
    project_id: str | None = None
    track_id: str | None = None
    settled: str | None = None
    run: str = field(default_factory=new_id)
    stream_token: str = field(default_factory=new_id)
    audio_urls: list[str] = field(default_factory=list)
    merged_url: str | None = None
    stream_url: str | None = None
    generated_at: str | None = None
    regenerates: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def status(self, now: float | None = None) -> str:
        """`pending` → `processing` → the settled outcome."""
        if self.settled:
            return self.settled
        at = mono() if now is None else now
        if at < self.pending_until:
            return "pending"
        if at < self.processing_until:
            return "processing"
        return "failed" if self.will_fail else "generated"

    def running(self) -> bool:
        """Whether the task is still pending or processing."""
        return self.status() in ("pending", "processing")

    def to_json(self, *, stream: bool = False) -> dict[str, Any]:
        """The Generate object; audio URLs appear once generated (stream URLs from processing)."""
        status = self.status()
        show_stream = stream and status in ("processing", "generated") and self.stream_url
        contents = []
        for index, item in enumerate(self.contents):
            entry = dict(item)
            if show_stream:
                entry["audio"] = self.stream_url
            elif status == "generated" and index < len(self.audio_urls):
                entry["audio"] = self.audio_urls[index]
                entry["generatedAt"] = self.generated_at
            contents.append(entry)
        metadata: dict[str, Any] = {
            "contents": contents,
            "characters": self.characters,
            "voices": self.voices,
            "isPremium": self.is_premium,
            "srt": self.srt,
        }
        if show_stream:
            metadata["audio"] = self.stream_url
        elif status == "generated":
            metadata["audio"] = self.merged_url
            metadata["generatedAt"] = self.generated_at
        if self.regenerates:
            metadata["regenerates"] = self.regenerates
        out: dict[str, Any] = {
            "id": self.id,
            "userId": self.user_id,
            "status": status,
            "type": "vocu-neural-voice-001",
            "metadata": metadata,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        if self.project_id:
            out["projectId"] = self.project_id
        if self.track_id:
            out["trackId"] = self.track_id
        return out
