"""/dialogue: a multi-voice script, one line per speaker, spoken as one async task."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot import synth
from bot.app import App
from bot.context import ChatContext
from bot.errors import LimitError, UsageError, UserFacingError
from bot.i18n import t
from bot.jobs import confirm_cost, job_cost, runner_for
from bot.registry import Arg, ArgKind, Args, command
from bot.text import split_sentences
from bot.vocu.client import VocuClient
from bot.vocu.models import TaskContent

MAX_LINES = 100
# `Alice: text`, `Bob (Cheerful): text`; full-width brackets and colons too
LINE = re.compile(
    r"^\s*([^:：()（）]{1,64}?)\s*(?:[(（]\s*([^)）]{1,64}?)\s*[)）])?\s*[:：]\s*(.*)$"
)
SEPARATORS = re.compile(r"\r?\n|\|")  # `|` too: Discord options cannot hold line breaks


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a script."""

    speaker: str
    style: str | None
    text: str


def parse_speaker(text: str) -> tuple[str, str | None]:
    """`Bob (Cheerful)` → ("Bob", "Cheerful"); `Alice` → ("Alice", None)."""
    match = re.fullmatch(r"\s*([^()（）]+?)\s*(?:[(（]\s*([^)）]+?)\s*[)）])?\s*", text)
    if not match:
        return text.strip(), None
    return match.group(1), match.group(2)


def parse_script(script: str | None) -> list[Line]:
    """The lines of a script; UsageError naming the first line without a speaker."""
    raw = [part.strip() for part in SEPARATORS.split(script or "")]
    numbered = [(n, text) for n, text in enumerate(raw, start=1) if text]
    if not numbered:
        raise UsageError("dialogue.usage")
    if len(numbered) > MAX_LINES:
        raise LimitError("dialogue.too_many_lines", limit=MAX_LINES)
    lines = []
    for number, text in numbered:
        match = LINE.match(text)
        if not match or not match.group(3).strip():
            raise UsageError("dialogue.bad_line", line=number, text=text[:60])
        lines.append(Line(match.group(1).strip(), match.group(2), match.group(3).strip()))
    return lines


@dataclass(frozen=True, slots=True)
class Cast:
    """Speakers resolved to voices, styles and parameters, ready for task blocks."""

    requests: dict[tuple[str, str | None], synth.SpeechRequest]

    def block(self, speaker: str, style: str | None, text: str) -> TaskContent:
        req = self.requests[(speaker, style)]
        return TaskContent.text_block(
            req.voice.generate_id, text, style_id=req.style.id, params=req.params
        )

    @property
    def names(self) -> list[str]:
        """Distinct voice names in order of appearance."""
        return list(dict.fromkeys(r.voice.name for r in self.requests.values()))

    @property
    def prefer_file(self) -> bool:
        return any(r.prefer_file for r in self.requests.values())


async def resolve_cast(
    app: App,
    ctx: ChatContext,
    vocu: VocuClient,
    speakers: Iterable[tuple[str, str | None]],
    labels: dict[tuple[str, str | None], str] | None = None,
) -> Cast:
    """Resolve every speaker before any generation; one reply listing every problem."""
    requests: dict[tuple[str, str | None], synth.SpeechRequest] = {}
    problems: list[str] = []
    for speaker, style in dict.fromkeys(speakers):
        try:
            requests[(speaker, style)] = await synth.build_request(
                app, ctx, vocu, "-", voice=speaker, style=style
            )
        except UserFacingError as exc:
            label = (labels or {}).get((speaker, style), speaker)
            problems.append(f"• {label}: {t(ctx.locale, exc.key, **exc.params)}")
    if problems:
        raise UserFacingError("dialogue.bad_speakers", details="\n".join(problems))
    return Cast(requests)


def check_length(app: App, texts: Iterable[str]) -> None:
    """The whole script within the bot's text limit (a refusal costs no Vocu call)."""
    length = sum(len(text) for text in texts)
    if length > app.limits.max_text_chars:
        raise LimitError("say.too_long", limit=app.limits.max_text_chars, length=length)


def blocks_for(app: App, cast: Cast, lines: Iterable[Line]) -> list[TaskContent]:
    """One block per line (a very long line is split at sentence ends, same voice)."""
    return [
        cast.block(line.speaker, line.style, piece)
        for line in lines
        for piece in split_sentences(line.text, app.limits.request_chars)
    ]


@command("dialogue", Arg("script", ArgKind.TEXT))
async def dialogue(app: App, ctx: ChatContext, args: Args) -> None:
    """Speak a script (`Name: text` or `Name (Style): text` per line) as one clip."""
    lines = parse_script(args.get("script"))
    check_length(app, (line.text for line in lines))
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    cast = await resolve_cast(app, ctx, vocu, ((line.speaker, line.style) for line in lines))
    contents = blocks_for(app, cast, lines)
    if not await confirm_cost(ctx, job_cost(contents)):
        return
    names = ", ".join(cast.names)
    payload = {
        "title": t(ctx.locale, "dialogue.title", names=names),
        "voice_name": names,
        "prefer_file": cast.prefer_file,
        "summary": f"{lines[0].speaker}: {lines[0].text}"[:80],
        "characters": job_cost(contents),
    }
    await runner_for(app).submit(ctx, "dialogue", payload, contents)
