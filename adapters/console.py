"""Console adapter: commands on stdin, replies on stdout, audio written to a folder."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.app import App
from bot.context import Attachment, AudioReply, Capability, Choice
from bot.jobs import JobRunner
from bot.router import Invocation, dispatch

YES_WORDS = {"y", "yes", "1", "是", "ok"}


class LineReader:
    """Lines from a text stream, read without blocking the event loop."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    async def next(self) -> str | None:
        line = await asyncio.to_thread(self.stream.readline)
        return line.rstrip("\n") if line else None


@dataclass
class ConsoleContext:
    """A ChatContext for one console command."""

    reader: LineReader
    out: TextIO
    audio_dir: Path
    locale: str = "en"
    platform: str = "console"
    user_id: str = "console-user"
    chat_id: str = "console"
    guild_id: str | None = None
    is_private: bool = True
    is_admin: bool = True
    counter: list[int] = field(default_factory=lambda: [0])

    def can(self, capability: Capability) -> bool:
        return capability in (Capability.AUDIO_FILE, Capability.PRIVATE_REPLY)

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def reply_text(self, text: str, *, private: bool = False) -> None:
        self._print(text)

    async def reply_audio(self, audio: AudioReply, *, caption: str | None = None) -> None:
        _save_audio(self.out, self.audio_dir, self.counter, audio)
        if caption:
            self._print(caption)

    async def reply_choices(self, text: str, choices: list[Choice]) -> None:
        self._print(text)
        for choice in choices:
            self._print(f"  /{choice.command}  ({choice.label})")

    async def ask_confirm(self, question: str, *, yes: str, cancel: str) -> bool:
        self._print(f"{question} [{yes} / {cancel}]")
        answer = await self.reader.next()
        return (answer or "").strip().lower() in YES_WORDS | {yes.lower()}

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        print("…", file=sys.stderr, flush=True)
        yield

    async def progress(self, text: str) -> None:
        self._print(text)


def _save_audio(out: TextIO, audio_dir: Path, counter: list[int], audio: AudioReply) -> None:
    counter[0] += 1
    audio_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() else "_" for c in audio.voice_name)[:32] or "voice"
    path = audio_dir / f"{counter[0]:03d}-{safe}.mp3"
    path.write_bytes(audio.mp3)
    print(f"[audio] {path} ({audio.seconds():.1f} s, {audio.title})", file=out, flush=True)


@dataclass
class ConsoleCourier:
    """Delivers results outside a command (e.g. a job resumed after a restart)."""

    out: TextIO
    audio_dir: Path
    counter: list[int]

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        print(text, file=self.out, flush=True)

    async def send_audio(
        self, chat_id: str, audio: AudioReply, *, reply_to: str | None = None
    ) -> None:
        _save_audio(self.out, self.audio_dir, self.counter, audio)


def _local_file(path: Path) -> Attachment:
    async def read() -> bytes:
        return await asyncio.to_thread(path.read_bytes)

    return Attachment(filename=path.name, content_type=None, size=path.stat().st_size, read=read)


def parse_line(line: str) -> Invocation | None:
    """`/say hello @file.mp3` → Invocation; None for blank lines and comments."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    head, _, rest = line.lstrip("/").partition(" ")
    words, attachments = [], []
    try:
        tokens = shlex.split(rest)
    except ValueError:
        tokens = rest.split()
    for token in tokens:
        path = Path(token[1:]).expanduser() if token.startswith("@") else None
        if path is not None and path.is_file():
            attachments.append(_local_file(path))
        else:
            words.append(token)
    text = rest if not attachments else " ".join(shlex.quote(w) if " " in w else w for w in words)
    return Invocation(command=head.split("@")[0], text=text, attachments=attachments)


async def run_console(
    app: App, *, out_dir: Path, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> int:
    """Read commands until EOF, then finish pending work (jobs included) and return 0."""
    reader = LineReader(stdin)
    counter = [0]
    app.couriers[ConsoleContext.platform] = ConsoleCourier(stdout, out_dir, counter)
    runner = JobRunner(app)
    await runner.start()
    try:
        await runner.adopt(ConsoleContext.platform, ConsoleContext.user_id)
        while (line := await reader.next()) is not None:
            inv = parse_line(line)
            if inv is None:
                continue
            ctx = ConsoleContext(reader=reader, out=stdout, audio_dir=out_dir, counter=counter)
            await dispatch(app, ctx, inv)
        await runner.settle(ConsoleContext.platform, ConsoleContext.user_id)
        await app.drain()
    finally:
        await runner.stop()
    return 0
