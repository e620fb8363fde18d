"""Discord adapter, command registration: the synced schema is the core registry rendered
generically; settings for guild sync, sharding, endpoints; start-up and clean shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import App
from bot.context import ChatContext
from bot.registry import REGISTRY, Arg, ArgKind, Args, command, visible_commands
from tests.adapters.conftest import (
    DC_BOB,
    DC_TOKEN,
    DiscordHarness,
    discord_settings,
    running_discord,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MANAGE_GUILD = str(1 << 5)
OPTION_TYPE = {
    ArgKind.WORD: 3,
    ArgKind.TEXT: 3,
    ArgKind.VOICE: 3,
    ArgKind.STYLE: 3,
    ArgKind.CHOICE: 3,
    ArgKind.NUMBER: 10,
    ArgKind.AUDIO: 11,
    ArgKind.IMAGE: 11,
}


def _by_name(commands: list[dict[str, Any]], name: str, type_: int = 1) -> dict[str, Any]:
    return next(c for c in commands if c["name"] == name and c.get("type", 1) == type_)


def _options(cmd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in cmd.get("options") or []}


async def test_schema_renders_the_registry(discord_bot: DiscordHarness) -> None:
    commands = discord_bot.server.global_commands
    say = _options(_by_name(commands, "say"))
    assert say["text"]["type"] == 3
    assert say["voice"]["type"] == 3 and say["voice"]["autocomplete"] is True
    assert say["style"]["autocomplete"] is True
    assert [c["value"] for c in say["preset"]["choices"]] == ["creative", "balance", "stable"]
    assert say["speed"]["type"] == 10 and not say["speed"].get("required")
    voice = _by_name(commands, "voice")
    subs = _options(voice)
    assert {
        "info",
        "clone",
        "style_add",
        "style_remove",
        "avatar",
        "share",
        "import",
        "delete",
    } <= set(subs)
    assert all(s["type"] == 1 for s in subs.values())
    clone = _options(subs["clone"])
    assert clone["name"]["type"] == 3 and clone["sample"]["type"] == 11
    assert _options(subs["avatar"])["image"]["type"] == 11
    assert _options(subs["import"])["share_id"]["type"] == 3
    assert _options(subs["style_remove"])["style"]["autocomplete"] is True
    settings = _options(_by_name(commands, "settings"))
    assert [c["value"] for c in settings["setting"]["choices"]][:2] == ["delivery", "preset"]
    for name in ("join", "leave", "speak", "skip", "stop", "autoread", "voices", "use", "account"):
        assert _by_name(commands, name)
    assert str(_by_name(commands, "autoread")["default_member_permissions"]) == MANAGE_GUILD
    menu = _by_name(commands, "Speak this message", 3)
    assert menu["name_localizations"]["zh-CN"] == "朗读这条消息"
    say_cmd = _by_name(commands, "say")
    assert say_cmd["description_localizations"]["zh-CN"] != say_cmd["description"]
    for core in visible_commands():  # every core command, each option as its Arg says
        parent = _by_name(commands, core.group) if core.group else None
        rendered = (
            _options(parent)[core.sub or core.name] if parent else _by_name(commands, core.name)
        )
        options = _options(rendered)
        for arg in core.args:
            if arg.kind is ArgKind.SECRET:
                assert arg.name not in options
                continue
            option = options[arg.name]
            assert option["type"] == OPTION_TYPE[arg.kind], (core.name, arg.name)
            assert bool(option.get("required")) is arg.required
            assert bool(option.get("autocomplete")) is (arg.kind in (ArgKind.VOICE, ArgKind.STYLE))
            assert [c["value"] for c in option.get("choices") or []] == list(arg.choices)
    for cmd in commands:
        assert len(cmd.get("description", "")) <= 100
        for option in cmd.get("options") or []:
            assert 1 <= len(option["description"]) <= 100


@pytest.fixture
def late_commands() -> Iterator[dict[str, Any]]:
    """Commands registered in the core at test time, as later core work will add them."""
    seen: dict[str, Any] = {}

    @command(
        "probe_budget",
        Arg("chars", ArgKind.NUMBER),
        Arg("voice", ArgKind.VOICE, required=False),
        group="probe",
        sub="budget",
        admin_only=True,
    )
    async def budget(app: App, ctx: ChatContext, args: Args) -> None:
        seen["budget"] = dict(args.values)
        await ctx.reply_text("budget saved")

    @command("probe_key", Arg("key", ArgKind.SECRET), admin_only=True)
    async def key(app: App, ctx: ChatContext, args: Args) -> None:
        seen["key"] = args.get("key")
        await ctx.reply_text("key saved", private=True)

    yield seen
    for name in ("probe_budget", "probe_key"):
        REGISTRY.pop(name, None)


async def test_commands_added_to_the_registry_appear_without_adapter_change(
    late_commands: dict[str, Any], app: App, dc_server: Any
) -> None:
    async with running_discord(app, discord_settings(dc_server)):
        commands = dc_server.global_commands
        group = _by_name(commands, "probe")
        assert (
            str(group["default_member_permissions"]) == MANAGE_GUILD
        )  # all its subs are admin-only
        budget = _options(_options(group)["budget"])
        assert budget["chars"]["type"] == 10 and budget["chars"]["required"] is True
        assert budget["voice"]["autocomplete"] is True
        key = _by_name(commands, "probe_key")
        assert str(key["default_member_permissions"]) == MANAGE_GUILD
        assert not key.get("options")  # a SECRET is never an option

        inter = await dc_server.interaction_command(
            "probe",
            [
                {
                    "type": 1,
                    "name": "budget",
                    "options": [{"type": 10, "name": "chars", "value": 500}],
                }
            ],
        )
        await dc_server.wait_for(f"/interactions/{inter['id']}/", "POST")
        assert late_commands["budget"] == {"chars": "500"}
        assert dc_server.callbacks(inter)[0]["data"]["content"] == "budget saved"

        denied = await dc_server.interaction_command(
            "probe",
            [{"type": 1, "name": "budget", "options": [{"type": 10, "name": "chars", "value": 1}]}],
            user_id=DC_BOB,
        )
        await dc_server.wait_for(f"/interactions/{denied['id']}/", "POST")
        [reply] = dc_server.callbacks(denied)
        assert reply["data"]["flags"] & 64 and "admin" in reply["data"]["content"]
        assert late_commands["budget"] == {"chars": "500"}


async def test_secret_is_asked_in_a_modal(
    late_commands: dict[str, Any], app: App, dc_server: Any
) -> None:
    async with running_discord(app, discord_settings(dc_server)):
        inter = await dc_server.interaction_command("probe_key")
        await dc_server.wait_for(f"/interactions/{inter['id']}/", "POST")
        modal = dc_server.last_modal()
        [row] = modal["components"]
        assert row["components"][0]["custom_id"] == "secret:key"
        submit = await dc_server.interaction_modal_submit(None, {"secret:key": " sk-secret "})
        await dc_server.wait_for(f"/interactions/{submit['id']}/", "POST")
        assert late_commands["key"] == "sk-secret"
        [reply] = dc_server.callbacks(submit)
        assert reply["data"]["flags"] & 64  # the answer is ephemeral
        posted = [r.body for r in dc_server.requests if r.body]
        assert not any(b"sk-secret" in body for body in posted)  # never echoed back


async def test_guild_ids_sync_instantly_to_those_servers(app: App, dc_server: Any) -> None:
    settings = discord_settings(dc_server, DISCORD_GUILD_IDS="3000")
    async with running_discord(app, settings):
        assert dc_server.requests_to("/applications/1000/guilds/3000/commands", "PUT")
        assert not dc_server.requests_to("/applications/1000/commands", "PUT")
        assert dc_server.registered_command("say", "3000")["guild_id"] == "3000"


async def test_shard_settings(app: App, dc_server: Any) -> None:
    settings = discord_settings(dc_server, DISCORD_SHARD_COUNT=2, DISCORD_SHARD_IDS="1")
    async with running_discord(app, settings) as bot:
        assert bot.shard_count == 2
        assert [i["shard"] for i in dc_server.identifies] == [[1, 2]]


async def test_run_discord_starts_and_stops_cleanly(
    app: App, dc_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import discord.gateway
    import discord.http

    from adapters.discord_app import run_discord

    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(
        run_discord(app, discord_settings(dc_server), guild_ready_timeout=0.05)
    )
    try:
        await dc_server.wait_until_identified()
        await dc_server.wait_for("/applications/1000/commands", "PUT")
        assert discord.http.Route.BASE == dc_server.api_base  # DISCORD_API_BASE_URL honoured
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
    assert "voice" in caplog.text  # the start-up line about voice support
    assert DC_TOKEN not in caplog.text


def test_voice_libraries_are_available() -> None:
    from adapters.discord_app.runtime import voice_problem

    assert voice_problem() is None  # PyNaCl, davey and libopus (system or PyAV's) all load


async def test_key_is_entered_in_a_modal_never_in_the_channel(discord_bot: DiscordHarness) -> None:
    server = discord_bot.server
    assert "key" not in _options(_by_name(server.global_commands, "key"))
    inter = await discord_bot.command("key", {"action": "set"})
    await server.wait_for(f"/interactions/{inter['id']}/", "POST")
    assert server.callbacks(inter)[0]["type"] == 9  # a modal
    secret = "sk-" + "k" * 32
    submit = await server.interaction_modal_submit(None, {"secret:key": secret})
    await server.wait_for(f"/interactions/{submit['id']}/", "POST")
    [reply] = server.callbacks(submit)
    assert reply["data"]["flags"] & 64 and secret not in reply["data"]["content"]
    assert await discord_bot.app.storage.get_user_key("discord", "4001") == secret


async def test_admin_only_commands_need_manage_server(discord_bot: DiscordHarness) -> None:
    for core in visible_commands():
        if core.admin_only and not core.group:
            rendered = _by_name(discord_bot.server.global_commands, core.name)
            assert str(rendered["default_member_permissions"]) == MANAGE_GUILD
    inter = await discord_bot.command("server", user_id=DC_BOB)
    [reply] = await discord_bot.replies(inter)
    assert reply["flags"] & 64 and "admin" in reply["content"]


async def test_runs_without_the_message_content_intent_when_not_granted(
    app: App, dc_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import discord.gateway
    import discord.http

    from adapters.discord_app import run_discord

    real = dc_server._on_gateway_op

    async def strict(conn: Any, payload: dict[str, Any]) -> None:  # Discord's 4014
        if payload.get("op") == 2 and payload["d"]["intents"] & (1 << 15):
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        await real(conn, payload)

    dc_server._on_gateway_op = strict
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    task = asyncio.create_task(
        run_discord(app, discord_settings(dc_server), guild_ready_timeout=0.05)
    )
    try:
        await dc_server.wait_until_identified()
        assert not dc_server.identifies[-1]["intents"] & (1 << 15)
        assert "Message Content intent" in caplog.text
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
