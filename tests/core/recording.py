"""A recording ChatContext: what the core said, in order, with scripted answers to questions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.context import AudioReply, Capability, Choice


@dataclass
class RecordingContext:
    """Records every reply; `answers` scripts the replies to ask_confirm (default: yes)."""

    platform: str = "test"
    user_id: str = "u1"
    chat_id: str = "c1"
    guild_id: str | None = None
    locale: str = "en"
    is_private: bool = True
    is_admin: bool = False
    capabilities: set[Capability] = field(
        default_factory=lambda: {Capability.VOICE_NOTE, Capability.AUDIO_FILE, Capability.BUTTONS}
    )
    answers: list[bool] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    private_texts: list[str] = field(default_factory=list)
    audio: list[AudioReply] = field(default_factory=list)
    choices: list[tuple[str, list[Choice]]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    progress_updates: list[str] = field(default_factory=list)
    working_entered: int = 0

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    async def reply_text(self, text: str, *, private: bool = False) -> None:
        self.texts.append(text)
        if private:
            self.private_texts.append(text)

    async def reply_audio(self, audio: AudioReply, *, caption: str | None = None) -> None:
        self.audio.append(audio)
        if caption:
            self.texts.append(caption)

    async def reply_choices(self, text: str, choices: list[Choice]) -> None:
        self.texts.append(text)
        self.choices.append((text, choices))

    async def ask_confirm(self, question: str, *, yes: str, cancel: str) -> bool:
        self.questions.append(question)
        return self.answers.pop(0) if self.answers else True

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        self.working_entered += 1
        yield

    async def progress(self, text: str) -> None:
        self.progress_updates.append(text)

    @property
    def last(self) -> str:
        """The last text reply."""
        return self.texts[-1] if self.texts else ""
