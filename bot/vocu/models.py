"""Pydantic models of the Vocu API; `extra="allow"` so new server fields never break us."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import _conventions as conv
from .errors import VocuValidationError

SYNTHESIS_LANGUAGES: Final = frozenset(
    {"auto", "zh", "en-us", "ja", "ko", "fr-fr", "pt", "de", "es", "yue"}
)
VOICE_LANGUAGES: Final = SYNTHESIS_LANGUAGES | {"ja-asmr"}
USABLE_VOICE_STATUSES: Final = frozenset({"pending", "lora-success", "lora-awaiting-auto-reupload"})
TERMINAL_TASK_STATUSES: Final = frozenset({"generated", "failed"})


class VocuModel(BaseModel):
    """Base model: unknown fields kept, camelCase aliases, populate by field name too."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --------------------------------------------------------------------------- voices


class Style(VocuModel):
    """A voice style (`metadata.prompts[]`); the creation style has id `default`."""

    id: str
    name: str | None = None
    description: str | None = None
    language: str | None = None
    deleted: bool = False
    prompt_origin_audio_storage_url: str | None = Field(None, alias="promptOriginAudioStorageUrl")
    play_back_audio: str | None = Field(None, alias="playBackAudio")
    preview_audio: str | None = Field(None, alias="previewAudio")
    vocal_filter: bool | None = Field(None, alias="vocalFilter")
    enhance: bool | None = None
    base_speech_rate: float | None = Field(None, alias="baseSpeechRate")

    @property
    def label(self) -> str:
        """The style's name for display (its id when it has none)."""
        return self.name or self.id


class VoiceMetadata(VocuModel):
    """`Voice.metadata`: avatar, description and the styles (deleted ones included)."""

    avatar: str | None = None
    description: str | None = None
    prompts: list[Style] = Field(default_factory=list)
    with_lora: bool | None = Field(None, alias="withLora")


class Voice(VocuModel):
    """A voice character."""

    id: str
    name: str = ""
    status: str = ""
    version: str | None = None
    from_: str | None = Field(None, alias="from")
    id_for_generate: str | None = Field(None, alias="idForGenerate")
    metadata: VoiceMetadata = Field(default_factory=VoiceMetadata)
    avatar: str | None = None
    origin_id: str | None = Field(None, alias="originId")
    need_polling_verify: bool | None = Field(None, alias="needPollingVerify")
    created_at: str | None = Field(None, alias="createdAt")

    @property
    def styles(self) -> list[Style]:
        """Styles that are not deleted, in server order (`default` first)."""
        return [s for s in self.metadata.prompts if not s.deleted]

    @property
    def is_usable(self) -> bool:
        """Whether the voice can generate now (§17.2)."""
        return self.status in USABLE_VOICE_STATUSES

    @property
    def generate_id(self) -> str:
        """PC-17: the id to generate with: `idForGenerate` when present, else `id`."""
        return self.id_for_generate or self.id

    @property
    def avatar_url(self) -> str | None:
        """The avatar URL, from `metadata.avatar` or the top-level `avatar`."""
        return self.metadata.avatar or self.avatar

    @property
    def description(self) -> str | None:
        """The voice description (stored under metadata)."""
        return self.metadata.description


# -------------------------------------------------------------------------- account


class Quota(VocuModel):
    """Concurrency and pro-clone quotas of an account."""

    sync_base_concurrent: int | None = Field(None, alias="syncBaseConcurrent")
    sync_paid_concurrent: int | None = Field(None, alias="syncPaidConcurrent")
    async_base_concurrent: int | None = Field(None, alias="asyncBaseConcurrent")
    async_hp_concurrent: int | None = Field(None, alias="asyncHPConcurrent")
    lora: int | None = None
    priority: int | None = None


class Account(VocuModel):
    """The account (`user` envelope of `GET /api/account/info`)."""

    id: str = ""
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    avatar: str | None = None
    role: str | None = None
    is_paid: bool = Field(False, alias="isPaid")
    notifications: int | str | None = None
    credits: float | None = None
    credit: float | None = None
    bonus_credit: float | None = Field(None, alias="bonusCredit")
    lora_quota: int | None = Field(None, alias="loraQuota")
    quota: Quota | None = None

    @property
    def total_balance(self) -> float:
        """`credit + bonusCredit` (`credits` is the deprecated alias of `bonusCredit`)."""
        bonus = self.bonus_credit if self.bonus_credit is not None else self.credits
        return (self.credit or 0) + (bonus or 0)


# ----------------------------------------------------------------------- generation


class GenerationParams(VocuModel):
    """Generation parameters (§10), checked locally; raises VocuValidationError when invalid.

    `speech_rate` is the wire's duration multiplier (PC-10); pass `speed=` (2.0 = faster)
    instead to have it converted. `extra` is passed through verbatim (PC-35/PC-36).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    preset: str | None = None
    break_clone: bool | None = None
    language: str | None = None
    vivid: bool | None = None
    emo_switch: list[int] | None = None
    speech_rate: float | None = Field(None, alias="speechRate", ge=0.5, le=2.0)
    flash: bool | None = None
    stream: bool | None = None
    seed: int | None = Field(None, ge=-1, le=2147483647)
    srt: bool | None = None
    instruct_mode: bool | None = None
    reference_mode: str | None = None
    infinite_mode: bool | None = None
    post_processing: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise VocuValidationError(f"invalid generation parameters: {_brief(exc)}") from None

    @model_validator(mode="before")
    @classmethod
    def _speed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "speed" in data:
            data = dict(data)
            speed = data.pop("speed")
            if speed is not None:
                if "speech_rate" in data or "speechRate" in data:
                    raise ValueError("give speed or speech_rate, not both")
                if not isinstance(speed, int | float) or speed <= 0:
                    raise ValueError("speed must be a positive number")
                data["speech_rate"] = conv.speech_rate_from_speed(float(speed))
        return data

    @field_validator("preset")
    @classmethod
    def _preset(cls, value: str | None) -> str | None:
        if value is None or value in conv.PRESET_SHORT or re.match(conv.PRESET_KEY_PATTERN, value):
            return value
        raise ValueError(f"unknown preset {value!r}")

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None or value in SYNTHESIS_LANGUAGES:
            return value
        raise ValueError(f"unsupported synthesis language {value!r}")

    @field_validator("emo_switch")
    @classmethod
    def _emo(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if len(value) != 5 or any(not 0 <= v <= 10 for v in value):
            raise ValueError("emo_switch must be exactly 5 integers in 0..10")
        return value

    def to_wire(self, *, omit: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The body/query fields: wire names, unset fields left out, `extra` merged last."""
        wire = self.model_dump(by_alias=True, exclude_none=True, exclude={"extra"})
        for key in omit:
            wire.pop(key, None)
        wire.update(self.extra)
        return wire


def _brief(exc: ValidationError) -> str:
    """A short, secret-free summary of a pydantic error (field + reason)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(x) for x in err["loc"]) or "value"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


class SyncResult(VocuModel):
    """Reply of sync generation: audio id, MP3 URL, optional stream/SRT URLs, charge."""

    id: str
    audio: str | None = None
    stream_url: str | None = Field(None, alias="streamUrl")
    credit_used: float | None = None
    srt: str | None = None


class StreamMetadata(VocuModel):
    """The `X-Reecho-Response-Data` JSON of a byte stream (PC-23: `billing` is opaque)."""

    id: str | None = None
    audio: str | None = None
    stream_url: str | None = Field(None, alias="streamUrl")
    credit_used: float | None = None
    billing: Any = None
    srt: str | None = None
    estimated_duration: float | None = Field(None, alias="estimatedDuration")


class Preset(VocuModel):
    """A sampling preset (`GET /api/tts/presets`)."""

    key: str
    i18n_name: str | None = None
    i18n_description: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)


class UploadedAudio(VocuModel):
    """A voice-conversion input uploaded with `upload-audio` (PC-40: duration optional)."""

    url: str
    duration: float | None = None


class UploadedFile(VocuModel):
    """A file stored by the simple upload (PC-27)."""

    id: str
    url: str | None = None


# ---------------------------------------------------------------------------- tasks


class TaskContent(VocuModel):
    """One block of an async task; build text blocks with `TaskContent.text_block`."""

    type: str | None = "text"
    voice_id: str | None = Field(None, alias="voiceId")
    text: str | None = None
    prompt_id: str | None = Field(None, alias="promptId")
    audio: str | None = None
    generated_at: str | None = Field(None, alias="generatedAt")

    @classmethod
    def text_block(
        cls,
        voice_id: str,
        text: str,
        *,
        style_id: str = "default",
        params: GenerationParams | None = None,
    ) -> TaskContent:
        """A `text` block; params are flattened into the block (wire names)."""
        fields: dict[str, Any] = params.to_wire(omit=frozenset({"flash"})) if params else {}
        return cls.model_validate(
            {**fields, "type": "text", "voiceId": voice_id, "text": text, "promptId": style_id}
        )

    def to_wire(self) -> dict[str, Any]:
        """The request form: wire names, response-only fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"audio", "generated_at"})


class TaskMetadata(VocuModel):
    """`Task.metadata`: blocks, merged audio URL, usage."""

    contents: list[TaskContent] = Field(default_factory=list)
    audio: str | None = None
    characters: int | None = None
    srt: bool | None = None
    is_premium: bool | None = Field(None, alias="isPremium")
    generated_at: str | None = Field(None, alias="generatedAt")
    voices: list[Voice] = Field(default_factory=list)
    regenerates: list[dict[str, Any]] = Field(default_factory=list)


class Task(VocuModel):
    """An async generation task."""

    id: str
    status: str = ""
    type: str | None = None
    user_id: str | None = Field(None, alias="userId")
    metadata: TaskMetadata = Field(default_factory=TaskMetadata)
    created_at: str | None = Field(None, alias="createdAt")
    updated_at: str | None = Field(None, alias="updatedAt")

    @property
    def is_done(self) -> bool:
        """`generated` or `failed`."""
        return self.status in TERMINAL_TASK_STATUSES

    @property
    def audio(self) -> str | None:
        """Merged audio URL, else the first block's audio URL."""
        if self.metadata.audio:
            return self.metadata.audio
        return next((c.audio for c in self.metadata.contents if c.audio), None)


# ------------------------------------------------------------------------ templates


class TemplateContent(VocuModel):
    """A template block: `metaVoiceId` (1-based int, or null for a voice-less block)."""

    meta_voice_id: int | None = Field(None, alias="metaVoiceId")
    text: str = ""
    type: str | None = None


class TemplateMetadata(VocuModel):
    """`Template.metadata`: the last metaVoiceId used and the description."""

    meta_voice_id: int | None = Field(None, alias="metaVoiceId")
    description: str | None = None


class Template(VocuModel):
    """A content template: structure only, voices replaced by `metaVoiceId`."""

    id: str
    name: str = ""
    from_: str | None = Field(None, alias="from")
    contents: list[TemplateContent] = Field(default_factory=list)
    metadata: TemplateMetadata = Field(default_factory=TemplateMetadata)
    created_at: str | None = Field(None, alias="createdAt")


class Splitter(VocuModel):
    """A saved splitter configuration (§19): placeholder markers → generation params."""

    id: str
    name: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    created_at: str | None = Field(None, alias="createdAt")
    updated_at: str | None = Field(None, alias="updatedAt")


# ------------------------------------------------------------------------- realtime


class TurboChannel(VocuModel):
    """An opened low-latency channel (PC-28)."""

    turbo_channel_id: str = Field("", alias="turboChannelId")
    ws_url: str = Field(alias="wsUrl")
    cancel_after: float | None = Field(None, alias="cancelAfter")


@dataclass(frozen=True, slots=True)
class PcmChunk:
    """Raw PCM audio from the WebSocket (PC-31: signed little-endian)."""

    pcm: bytes
    sample_rate: int
    channels: int
    bits: int
