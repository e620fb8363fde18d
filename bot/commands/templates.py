"""/templates and /template create|show|update|delete|speak: reusable multi-speaker scripts.

A template keeps a script's structure: each voice becomes a speaker number (`metaVoiceId`), so
speaking it needs a mapping such as `1=Alice 2=Bob (Cheerful)`.
"""

from __future__ import annotations

import re

from bot.app import App
from bot.commands.dialogue import (
    Line,
    blocks_for,
    check_length,
    parse_script,
    parse_speaker,
    resolve_cast,
)
from bot.context import Capability, ChatContext, Choice, confirmed
from bot.errors import UsageError, UserFacingError
from bot.i18n import t
from bot.jobs import confirm_cost, job_cost, runner_for
from bot.registry import REGISTRY, Arg, ArgKind, Args, check_required, command, parse_text
from bot.vocu.client import VocuClient
from bot.vocu.models import TaskContent, Template

ACTIONS = ("create", "show", "update", "delete", "speak")
TEMPLATE = Arg("template", ArgKind.WORD)
SCRIPT = Arg("script", ArgKind.TEXT)
MAPPING = re.compile(r"(\d+)\s*[=:：]\s*(.+?)(?=\s*[,;，]?\s+\d+\s*[=:：]|\s*[,;，]?\s*$)")


def _speakers(template: Template) -> list[int]:
    return sorted({b.meta_voice_id for b in template.contents if b.meta_voice_id})


def _mapping_hint(template: Template) -> str:
    return " ".join(f"{n}=…" for n in _speakers(template))


async def _templates(vocu: VocuClient) -> list[Template]:
    return await vocu.templates.list(limit=100)


async def find_template(vocu: VocuClient, query: str) -> Template:
    """The template `query` names: id, name (any case) or a unique name prefix."""
    q = query.strip().casefold()
    found = await _templates(vocu)
    for candidates in (
        [x for x in found if x.id == query.strip()],
        [x for x in found if x.name.casefold() == q],
        [x for x in found if q and x.name.casefold().startswith(q)],
    ):
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            names = ", ".join(f"{x.name} ({x.id[:8]})" for x in candidates[:10])
            raise UsageError("template.ambiguous", query=query, choices=names)
    raise UserFacingError("template.not_found", query=query)


async def _script_blocks(
    app: App, ctx: ChatContext, vocu: VocuClient, script: str | None
) -> tuple[list[TaskContent], list[str]]:
    """Template blocks from a dialogue script: each voice becomes a speaker number."""
    lines = parse_script(script)
    check_length(app, (line.text for line in lines))
    cast = await resolve_cast(app, ctx, vocu, ((line.speaker, None) for line in lines))
    blocks = [
        TaskContent.text_block(cast.requests[(line.speaker, None)].voice.id, line.text)
        for line in lines
    ]
    return blocks, cast.names


def _speaker_list(names: list[str]) -> str:
    return ", ".join(f"{n}={name}" for n, name in enumerate(names, start=1))


@command("templates")
async def templates(app: App, ctx: ChatContext, args: Args) -> None:
    """Your saved templates (multi-speaker scripts)."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    found = await _templates(vocu)
    if not found:
        await ctx.reply_text(t(ctx.locale, "templates.none"))
        return
    lines = [t(ctx.locale, "templates.header", count=len(found))]
    for x in found:
        lines.append(
            t(
                ctx.locale,
                "templates.line",
                name=x.name,
                blocks=len(x.contents),
                speakers=len(_speakers(x)),
                id=x.id[:8],
            )
        )
    text = "\n".join(lines)
    if ctx.can(Capability.BUTTONS):
        choices = [Choice(x.name[:40], f'template show "{x.id}"') for x in found[:25]]
        await ctx.reply_choices(text, choices)
    else:
        await ctx.reply_text(text)


@command("template_create", Arg("name", ArgKind.WORD), SCRIPT, group="template", sub="create")
async def template_create(app: App, ctx: ChatContext, args: Args) -> None:
    """Save a dialogue script (one `Name: text` per line) as a template."""
    name = (args.get("name") or "").strip()
    if len(name) > 64:
        raise UsageError("template.bad_name")
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    blocks, names = await _script_blocks(app, ctx, vocu, args.get("script"))
    created = await vocu.templates.create(name, blocks)
    await ctx.reply_text(
        t(
            ctx.locale,
            "template.created",
            name=created.name,
            blocks=len(created.contents),
            speakers=_speaker_list(names),
            mapping=" ".join(f"{n}={v}" for n, v in enumerate(names, start=1)),
        )
    )


@command("template_show", TEMPLATE, group="template", sub="show")
async def template_show(app: App, ctx: ChatContext, args: Args) -> None:
    """A template's lines with their speaker numbers."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    found = await find_template(vocu, args.get("template") or "")
    x = await vocu.templates.get(found.id)
    lines = [t(ctx.locale, "template.show_header", name=x.name, id=x.id)]
    if x.metadata.description:
        lines.append(x.metadata.description)
    for block in x.contents:
        speaker = str(block.meta_voice_id) if block.meta_voice_id else "—"
        lines.append(f"{speaker}: {block.text}")
    lines.append(t(ctx.locale, "template.show_hint", name=x.name, mapping=_mapping_hint(x)))
    await ctx.reply_text("\n".join(lines))


@command("template_update", TEMPLATE, SCRIPT, group="template", sub="update")
async def template_update(app: App, ctx: ChatContext, args: Args) -> None:
    """Replace a template's lines with a new script (its name is kept)."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    found = await find_template(vocu, args.get("template") or "")
    blocks, names = await _script_blocks(app, ctx, vocu, args.get("script"))
    await vocu.templates.update(found.id, contents=blocks)
    await ctx.reply_text(
        t(
            ctx.locale,
            "template.updated",
            name=found.name,
            blocks=len(blocks),
            speakers=_speaker_list(names),
        )
    )


@command("template_delete", TEMPLATE, group="template", sub="delete")
async def template_delete(app: App, ctx: ChatContext, args: Args) -> None:
    """Delete a template, after confirmation."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    found = await find_template(vocu, args.get("template") or "")
    if not await confirmed(ctx, t(ctx.locale, "template.delete_confirm", name=found.name)):
        return
    await vocu.templates.delete(found.id)
    await ctx.reply_text(t(ctx.locale, "template.deleted", name=found.name))


def parse_mapping(text: str | None) -> dict[int, tuple[str, str | None]]:
    """`1=Alice 2=Bob (Cheerful)` → {1: ("Alice", None), 2: ("Bob", "Cheerful")}."""
    mapping: dict[int, tuple[str, str | None]] = {}
    for match in MAPPING.finditer(text or ""):
        mapping[int(match.group(1))] = parse_speaker(match.group(2))
    return mapping


@command(
    "template_speak",
    TEMPLATE,
    Arg("mapping", ArgKind.TEXT, required=False),  # absent: the reply names the speakers
    group="template",
    sub="speak",
)
async def template_speak(app: App, ctx: ChatContext, args: Args) -> None:
    """Speak a template, mapping its speaker numbers to voices: `1=Alice 2=Bob`."""
    vocu = await app.client_for(ctx.platform, ctx.user_id)
    found = await vocu.templates.get((await find_template(vocu, args.get("template") or "")).id)
    needed = _speakers(found)
    mapping = parse_mapping(args.get("mapping"))
    missing = [n for n in needed if n not in mapping]
    if missing or not mapping:
        raise UsageError(
            "template.missing_speakers",
            missing=", ".join(map(str, missing)) or "—",
            name=found.name,
            mapping=_mapping_hint(found),
        )
    check_length(app, (block.text for block in found.contents))
    keys = {n: mapping[n] for n in needed}
    labels = {key: f"{n}={key[0]}" for n, key in keys.items()}
    cast = await resolve_cast(app, ctx, vocu, keys.values(), labels)
    lines = [
        Line(*keys[b.meta_voice_id], b.text)
        for b in found.contents
        if b.meta_voice_id and (b.type or "text") == "text"
    ]
    contents = blocks_for(app, cast, lines)
    if not contents:
        raise UserFacingError("template.empty", name=found.name)
    if not await confirm_cost(ctx, job_cost(contents)):
        return
    names = ", ".join(cast.names)
    payload = {
        "title": f"{found.name} ({names})",
        "voice_name": names,
        "prefer_file": cast.prefer_file,
        "summary": found.name[:80],
        "characters": job_cost(contents),
        "template_id": found.id,
    }
    await runner_for(app).submit(ctx, "template", payload, contents)


@command(
    "template",
    Arg("action", ArgKind.CHOICE, choices=ACTIONS),
    Arg("details", ArgKind.TEXT, required=False),
    hidden=True,  # for typed `/template create …`; Discord renders the group instead
)
async def template(app: App, ctx: ChatContext, args: Args) -> None:
    """`/template <action> …`: forwards to the template sub-command of that name."""
    action = (args.get("action") or "").lower()
    target = REGISTRY.get(f"template_{action}")
    if action not in ACTIONS or target is None:
        raise UsageError("template.usage", actions="|".join(ACTIONS))
    sub_args = Args(
        values=parse_text(target, args.get("details") or ""), attachments=args.attachments
    )
    check_required(target, sub_args, ctx.locale)
    await target.handler(app, ctx, sub_args)
