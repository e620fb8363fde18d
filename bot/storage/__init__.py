"""Persistence: user and scope settings, encrypted API keys, usage, jobs and the audio cache index.

SQLAlchemy 2 async over SQLite (aiosqlite, WAL) or PostgreSQL (asyncpg). Open one `Storage` at
startup with `await Storage.open(url)` and `await storage.close()` at shutdown.
"""

from .migrations import LATEST_VERSION
from .storage import Storage
from .types import (
    NO_SCOPE,
    CacheEntry,
    Delivery,
    Job,
    JobKind,
    JobStatus,
    Preset,
    ScopeSettings,
    StorageError,
    UndecryptableKeyError,
    UserSettings,
)

__all__ = [
    "LATEST_VERSION",
    "NO_SCOPE",
    "CacheEntry",
    "Delivery",
    "Job",
    "JobKind",
    "JobStatus",
    "Preset",
    "ScopeSettings",
    "Storage",
    "StorageError",
    "UndecryptableKeyError",
    "UserSettings",
]
