"""Engine creation for SQLite (aiosqlite) and PostgreSQL (asyncpg), and portable upserts."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Table, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "vocubot_sqlite_begin"


def normalise_url(url: str | URL) -> URL:
    """Pick the async driver: `sqlite://` → aiosqlite, `postgres(ql)://` → asyncpg."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None  # a URI filename: the caller manages it
    return Path(database)


def create_engines(url: URL, schema: str | None = None) -> tuple[AsyncEngine, AsyncEngine]:
    """Return (engine, write_engine), sharing one pool.

    On SQLite the write engine opens its transactions with BEGIN IMMEDIATE, taking the write lock
    up front: a deferred transaction that reads then writes can fail with SQLITE_BUSY at once
    when another process wrote in between, busy timeout or not. On PostgreSQL both are the same
    and `schema` (if given) becomes the search_path.
    """
    kwargs: dict[str, Any] = {"pool_pre_ping": url.get_backend_name() == "postgresql"}
    if url.get_backend_name() == "postgresql" and schema:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() != "sqlite":
        return engine, engine
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine, engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def _set_wal(cursor: Any) -> None:
    """Switch to WAL; the switch can fail at once with "locked" (no busy handler) while
    another connection opens the same new file, so retry for a few seconds."""
    for attempt in range(100):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Let SQLAlchemy emit BEGIN itself; share the file safely between processes."""
    dbapi_connection.isolation_level = None  # the driver's implicit BEGIN is wrong for us
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    _set_wal(cursor)  # readers never block the writer
    cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL, much faster
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    """BEGIN DEFERRED for reads, BEGIN IMMEDIATE on the write engine."""
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE (PostgreSQL's or SQLite's)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    keys: dict[str, Any],
    values: dict[str, Any],
    update: dict[str, Any] | None = None,
) -> None:
    """INSERT keys+values, or on a key conflict UPDATE with `update` (default: `values`)."""
    stmt = _insert(session)(model).values(**keys, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_=update if update is not None else values
    )
    await session.execute(stmt)


async def upsert_many(
    session: AsyncSession,
    model: type[DeclarativeBase],
    keys: list[str],
    rows: list[dict[str, Any]],
    update: Callable[[Any, Any], dict[str, Any]] | None = None,
) -> None:
    """Upsert every row in one statement executed once per row (executemany): INSERT, or on a
    key conflict UPDATE with `update(table columns, excluded)` (default: the row's non-keys)."""
    if not rows:
        return
    table = model.__table__
    assert isinstance(table, Table)
    stmt = _insert(session)(table)  # Core, not ORM: no per-row bookkeeping
    if update is not None:
        set_ = update(table.c, stmt.excluded)
    else:
        set_ = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    await session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=set_), rows)
