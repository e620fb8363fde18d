"""Schema versions: an ordered list of migrations, applied in one transaction at open().

Each migration is frozen once released: migration 1 builds the tables from its own snapshot below
(not from `models.py`, which follows the latest schema), later ones alter them in place so an
upgrade keeps every row. To change the schema, append a migration and update `models.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from .models import UTCDateTime

Migration = Callable[[Connection], None]

_V1 = MetaData()
Table(
    "users",
    _V1,
    Column("platform", String(32), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("voice_id", String(128)),
    Column("style_id", String(128)),
    Column("delivery", String(16), nullable=False),
    Column("preset", String(16)),
    Column("speed", Float),
    Column("language", String(16)),
    Column("consented_clone_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)
Table(
    "scopes",
    _V1,
    Column("platform", String(32), primary_key=True),
    Column("scope_id", String(64), primary_key=True),
    Column("voice_id", String(128)),
    Column("style_id", String(128)),
    Column("daily_char_budget_user", Integer),
    Column("daily_char_budget_chat", Integer),
    Column("allow_cloning", Boolean, nullable=False),
    Column("required_role", String(128)),
    Column("autoread_channels", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Table(
    "user_keys",
    _V1,
    Column("platform", String(32), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("ciphertext", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Table(
    "usage",
    _V1,
    Column("platform", String(32), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("scope_id", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("chars", BigInteger, nullable=False),
)
Table(
    "jobs",
    _V1,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("reply_to", String(64)),
    Column("payload", JSON, nullable=False),
    Column("vocu_task_id", String(128)),
    Column("status", String(16), nullable=False),
    Column("result_path", Text),
    Column("result_url", Text),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(128)),
    Column("lease_until", UTCDateTime),
    Column("delivered_at", UTCDateTime),
)
Table(
    "cache_entries",
    _V1,
    Column("key", String(128), primary_key=True),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("last_used", UTCDateTime, nullable=False),
    Column("file_ids", JSON, nullable=False),
    Column("duration", Float),
    Column("voice_name", String(128)),
)


def _v1_initial_tables(conn: Connection) -> None:
    """Create the initial tables."""
    _V1.create_all(conn)


def _v2_job_attempts_and_indexes(conn: Connection) -> None:
    """Count claims per job (to give up on poison jobs) and index the hot queries."""
    conn.execute(text("ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0"))
    # Plain DDL: Index objects built on the _V1 tables would attach to them for good.
    conn.execute(text("CREATE INDEX ix_jobs_claim ON jobs (delivered_at, lease_until)"))
    conn.execute(text("CREATE INDEX ix_jobs_user ON jobs (platform, user_id, created_at)"))
    conn.execute(text("CREATE INDEX ix_cache_last_used ON cache_entries (last_used)"))


MIGRATIONS: tuple[Migration, ...] = (_v1_initial_tables, _v2_job_attempts_and_indexes)
"""Migration N is MIGRATIONS[N - 1]. Append only."""

LATEST_VERSION = len(MIGRATIONS)

_VERSIONS = Table(
    "schema_version",
    MetaData(),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime, nullable=False),
)


def _current_version(conn: Connection) -> int:
    """Highest applied migration, 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(_VERSIONS.c.version), 0))).scalar_one())


def _apply(conn: Connection, target: int, schema: str | None) -> list[int]:
    """Apply every missing migration up to `target`; returns the versions applied."""
    if conn.dialect.name == "postgresql":
        # Serialise concurrent open() calls on this search_path; released at commit.
        conn.execute(
            text(
                "SELECT pg_advisory_xact_lock("
                "hashtext('vocubot-migrate:' || current_setting('search_path')))"
            )
        )
        if schema:
            quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
    _VERSIONS.create(conn, checkfirst=True)
    applied: list[int] = []
    for version in range(_current_version(conn) + 1, target + 1):
        MIGRATIONS[version - 1](conn)
        conn.execute(_VERSIONS.insert().values(version=version, applied_at=datetime.now(UTC)))
        applied.append(version)
    return applied


async def migrate(
    engine: AsyncEngine, target: int = LATEST_VERSION, schema: str | None = None
) -> list[int]:
    """Bring the database to `target` in one transaction; returns the versions applied.

    `engine` must begin write transactions (BEGIN IMMEDIATE on SQLite) so that two processes
    opening the same file at once do not both migrate. On PostgreSQL, `schema` (the engine's
    search_path) is created first if missing.
    """
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"unknown schema version {target}")
    async with engine.begin() as conn:
        return await conn.run_sync(_apply, target, schema)


async def schema_version(engine: AsyncEngine) -> int:
    """The database's current schema version (0 when never migrated)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current_version)
