"""Core fixtures: an App wired to the simulator and a fresh SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, Limits
from bot.context import Attachment
from bot.router import Invocation, dispatch
from bot.storage import Storage
from bot.vocu.client import VocuClient
from tests.core.recording import RecordingContext
from tests.media import png, tone

__all__ = ["png", "tone"]


@pytest.fixture
async def app(simulator, api_key: str, tmp_path: Path) -> AsyncIterator[App]:
    storage = await Storage.open(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", secret=None, data_dir=tmp_path
    )
    async with VocuClient(api_key, base_url=simulator.base_url) as vocu:
        application = App(
            vocu=vocu, storage=storage, data_dir=tmp_path, limits=Limits(voice_ready_timeout=10)
        )
        yield application
        await application.drain()
    await storage.close()


@pytest.fixture
def ctx() -> RecordingContext:
    return RecordingContext()


async def run(
    app: App, ctx: RecordingContext, line: str, *attachments: Attachment
) -> RecordingContext:
    """Dispatch one text command line as a user would type it."""
    head, _, rest = line.lstrip("/").partition(" ")
    await dispatch(app, ctx, Invocation(command=head, text=rest, attachments=list(attachments)))
    return ctx


def attachment(
    data: bytes, name: str = "file.bin", content_type: str | None = None, size: int | None = None
) -> Attachment:
    """An attachment whose bytes are already known (size defaults to the real size)."""

    async def read() -> bytes:
        return data

    return Attachment(
        filename=name,
        content_type=content_type,
        size=len(data) if size is None else size,
        read=read,
    )
