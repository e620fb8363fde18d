"""DiscordContext details: progress edits, private replies after a public defer, long replies,
and replies after the interaction token expired (they go to the channel)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import App
from bot.context import ChatContext
from bot.registry import REGISTRY, Args, command
from tests.adapters.conftest import DC_TEXT, DiscordHarness, discord_settings, running_discord

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def context_commands() -> Iterator[dict[str, Any]]:
    seen: dict[str, Any] = {}

    @command("probe_progress")
    async def progress(app: App, ctx: ChatContext, args: Args) -> None:
        async with ctx.working():
            await ctx.progress("step 1/2")
            await ctx.progress("step 2/2")
        await ctx.reply_text("finished")

    @command("probe_private_late")
    async def private_late(app: App, ctx: ChatContext, args: Args) -> None:
        async with ctx.working():
            await asyncio.sleep(0)
        await ctx.reply_text("only for you", private=True)

    @command("probe_long")
    async def long(app: App, ctx: ChatContext, args: Args) -> None:
        seen["roles"] = getattr(ctx, "roles", None)
        await ctx.reply_text("\n".join(f"line {i:04d} " + "x" * 90 for i in range(50)))

    yield seen
    for name in ("probe_progress", "probe_private_late", "probe_long"):
        REGISTRY.pop(name, None)


@pytest.fixture
async def probe_bot(context_commands: dict[str, Any], app: App, dc_server: Any) -> Any:
    async with running_discord(app, discord_settings(dc_server)) as bot:
        yield DiscordHarness(dc_server, app, None, "", bot, [])  # type: ignore[arg-type]


async def test_progress_edits_the_original_response(probe_bot: DiscordHarness) -> None:
    inter = await probe_bot.command("probe_progress")
    await probe_bot.text(inter, "finished")
    patches = probe_bot.server.requests_to("/messages/@original", "PATCH")
    assert [p.json["content"] for p in patches] == ["step 1/2", "step 2/2"]
    assert probe_bot.server.original_response(inter)["content"] == "step 2/2"


async def test_private_reply_after_a_public_defer(probe_bot: DiscordHarness) -> None:
    inter = await probe_bot.command("probe_private_late")
    reply = await probe_bot.text(inter, "only for you")
    assert reply["flags"] & 64
    assert probe_bot.server.original_response(inter) is None  # the public "thinking…" is gone


async def test_long_replies_are_split(
    probe_bot: DiscordHarness, context_commands: dict[str, Any]
) -> None:
    inter = await probe_bot.command("probe_long")
    messages = await probe_bot.replies(inter, count=3)
    assert all(len(m["content"]) <= 2000 for m in messages)
    assert "line 0000" in messages[0]["content"] and "line 0049" in messages[-1]["content"]
    assert "Admin" in context_commands["roles"] and "3100" in context_commands["roles"]


async def test_after_the_token_expires_replies_go_to_the_channel(
    discord_bot: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.discord_app.context.TOKEN_LIFETIME", timedelta(seconds=-1))
    inter = await discord_bot.command("say", {"text": "Late but delivered."})
    [post] = await discord_bot.server.wait_for(f"/channels/{DC_TEXT}/messages", "POST")
    assert post.json["flags"] == 8192 and post.files[0].filename == "voice-message.ogg"
    assert not discord_bot.server.followups(inter)
