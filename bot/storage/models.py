"""ORM rows (SQLAlchemy 2, `Mapped[]`): the schema as of the latest migration.

The tables are created by `migrations.py`, never by `create_all`; a test checks that the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time zones: we store naive UTC text (which sorts and compares correctly, so
    `lease_until < :now` works) and re-attach UTC when reading.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; naive values are taken to be UTC already."""
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every storage table."""


class SchemaVersionRow(Base):
    """One row per applied migration."""

    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserRow(Base):
    """Per-user preferences, keyed by (platform, user_id)."""

    __tablename__ = "users"
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    voice_id: Mapped[str | None] = mapped_column(String(128))
    style_id: Mapped[str | None] = mapped_column(String(128))
    delivery: Mapped[str] = mapped_column(String(16), default="voice")
    preset: Mapped[str | None] = mapped_column(String(16))
    speed: Mapped[float | None]
    language: Mapped[str | None] = mapped_column(String(16))
    consented_clone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScopeRow(Base):
    """Defaults and limits of a guild or chat, keyed by (platform, scope_id)."""

    __tablename__ = "scopes"
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    voice_id: Mapped[str | None] = mapped_column(String(128))
    style_id: Mapped[str | None] = mapped_column(String(128))
    daily_char_budget_user: Mapped[int | None]
    daily_char_budget_chat: Mapped[int | None]
    allow_cloning: Mapped[bool] = mapped_column(default=True)
    required_role: Mapped[str | None] = mapped_column(String(128))
    autoread_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserKeyRow(Base):
    """A user's own Vocu API key, Fernet-encrypted (the plain key is never stored)."""

    __tablename__ = "user_keys"
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsageRow(Base):
    """Characters generated per user, scope and UTC day."""

    __tablename__ = "usage"
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO date: portable
    chars: Mapped[int] = mapped_column(BigInteger, default=0)


class JobRow(Base):
    """An asynchronous generation; written before the Vocu task exists."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "delivered_at", "lease_until"),
        Index("ix_jobs_user", "platform", "user_id", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    reply_to: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    vocu_task_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    result_path: Mapped[str | None] = mapped_column(Text)
    result_url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # added by migration 2


class CacheRow(Base):
    """Index of the audio cache on disk."""

    __tablename__ = "cache_entries"
    __table_args__ = (Index("ix_cache_last_used", "last_used"),)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used: Mapped[datetime] = mapped_column(UTCDateTime)
    file_ids: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    duration: Mapped[float | None]
    voice_name: Mapped[str | None] = mapped_column(String(128))
