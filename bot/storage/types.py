"""Plain, immutable records returned by Storage: never live ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

Delivery = Literal["voice", "file"]
Preset = Literal["creative", "balance", "stable"]
JobKind = Literal["long", "dialogue", "template", "say"]
JobStatus = Literal["created", "submitted", "generated", "failed", "delivered"]

DELIVERIES: frozenset[str] = frozenset(get_args(Delivery))
PRESETS: frozenset[str] = frozenset(get_args(Preset))
JOB_KINDS: frozenset[str] = frozenset(get_args(JobKind))
JOB_STATUSES: frozenset[str] = frozenset(get_args(JobStatus))

NO_SCOPE = ""
"""scope_id recorded for usage outside any guild or group (a private chat)."""


class StorageError(Exception):
    """Base of the storage layer's own errors."""


class UndecryptableKeyError(StorageError):
    """A stored API key cannot be decrypted: the storage secret has changed."""


@dataclass(frozen=True, slots=True)
class UserSettings:
    """One user's preferences on one platform; the defaults when nothing is stored."""

    platform: str
    user_id: str
    voice_id: str | None = None
    style_id: str | None = None
    delivery: Delivery = "voice"
    preset: Preset | None = None
    speed: float | None = None
    language: str | None = None
    consented_clone_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScopeSettings:
    """Defaults and limits of one guild (Discord) or chat (Telegram).

    A budget of None means unlimited.
    """

    platform: str
    scope_id: str
    voice_id: str | None = None
    style_id: str | None = None
    daily_char_budget_user: int | None = None
    daily_char_budget_chat: int | None = None
    allow_cloning: bool = True
    required_role: str | None = None
    autoread_channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Job:
    """An asynchronous generation, from its creation to its delivery.

    `delivered_at` is set once the user has been told (the result, or the failure: a failed job
    keeps status "failed" and gains a `delivered_at`).
    """

    id: str
    kind: JobKind
    platform: str
    chat_id: str
    user_id: str
    reply_to: str | None
    payload: dict[str, Any]
    vocu_task_id: str | None
    status: JobStatus
    result_path: str | None
    result_url: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    lease_owner: str | None
    lease_until: datetime | None
    delivered_at: datetime | None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One cached audio file and the platform file ids that let us resend it without uploading."""

    key: str
    path: str
    size: int
    created: datetime
    last_used: datetime
    file_ids: dict[str, str] = field(default_factory=dict)
    duration: float | None = None
    voice_name: str | None = None
