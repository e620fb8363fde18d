"""Discord adapter, commands by INTERACTION_CREATE: options and attachments, autocomplete,
buttons, select menus, paging, confirmations, ephemeral replies, DMs and locales."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import App
from bot.context import ChatContext, Choice
from bot.registry import REGISTRY, Arg, ArgKind, Args, command
from tests.adapters.conftest import (
    DC_ALICE,
    DC_BOB,
    DiscordHarness,
    discord_settings,
    running_discord,
    until,
)
from tests.media import png, tone

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EPHEMERAL = 64


def _sub(name: str, **options: Any) -> list[dict[str, Any]]:
    types = {int: 4, float: 10, str: 3}
    opts = [{"name": k, "type": types.get(type(v), 3), "value": v} for k, v in options.items()]
    return [{"type": 1, "name": name, "options": opts}]


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message["components"] for c in row["components"]]


async def _voice_id(h: DiscordHarness, name: str) -> str:
    voices = await h.app.voices(h.app.vocu)
    return next(v.id for v in voices if v.name == name)


async def test_autocomplete_voices_and_styles_of_the_chosen_voice(
    discord_bot: DiscordHarness,
) -> None:
    server = discord_bot.server
    inter = await server.interaction_autocomplete(
        "say", {"text": "hi", "voice": "al"}, focused="voice"
    )
    await server.wait_for(f"/interactions/{inter['id']}/", "POST")
    [cb] = server.callbacks(inter)
    alice = await _voice_id(discord_bot, "Alice")
    assert cb["type"] == 8 and cb["data"]["choices"] == [{"name": "Alice", "value": alice}]

    inter = await server.interaction_autocomplete(
        "say", {"text": "hi", "voice": alice, "style": ""}, focused="style"
    )
    await server.wait_for(f"/interactions/{inter['id']}/", "POST")
    names = [c["name"] for c in server.callbacks(inter)[0]["data"]["choices"]]
    assert names == ["Default Style", "Cheerful", "Calm"]
    everything = await server.interaction_autocomplete(
        "say", {"text": "x", "voice": ""}, focused="voice"
    )
    await server.wait_for(f"/interactions/{everything['id']}/", "POST")
    assert 1 < len(server.callbacks(everything)[0]["data"]["choices"]) <= 25


async def test_clone_with_sample_attachment_and_consent_buttons(
    discord_bot: DiscordHarness,
) -> None:
    server = discord_bot.server
    sample = server.add_attachment(tone(4.0), "me.mp3", "audio/mpeg")
    inter = await discord_bot.command(
        "voice",
        [
            {
                "type": 1,
                "name": "clone",
                "options": [
                    {"name": "name", "type": 3, "value": "Robo"},
                    {"name": "sample", "type": 11, "value": sample["id"]},
                ],
            }
        ],
        resolved={"attachments": {sample["id"]: sample}},
    )
    question = await discord_bot.text(inter, "Robo")
    assert question["flags"] & EPHEMERAL
    yes, cancel = _buttons(question)
    assert (yes["label"], cancel["label"]) == ("Yes", "Cancel")

    intruder = await server.interaction_component(yes["custom_id"], user_id=DC_BOB)
    await server.wait_for(f"/interactions/{intruder['id']}/", "POST")
    assert server.callbacks(intruder)[0]["data"]["flags"] & EPHEMERAL  # not theirs to answer

    click = await server.interaction_component(yes["custom_id"], user_id=DC_ALICE)
    await server.wait_for(f"/interactions/{click['id']}/", "POST")
    assert server.callbacks(click)[0]["type"] == 7  # the question is edited, buttons removed
    assert server.messages[question["id"]]["components"] == []
    await discord_bot.text(inter, "Creating the voice Robo")
    await discord_bot.app.drain()
    assert any(
        v.name == "Robo" for v in await discord_bot.app.voices(discord_bot.app.vocu, fresh=True)
    )


async def test_confirmation_times_out_as_no(
    discord_bot: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.discord_app.views.CONFIRM_TIMEOUT", 0.2)
    bob = await _voice_id(discord_bot, "Bob")
    inter = await discord_bot.command("voice", _sub("delete", voice=bob))
    await discord_bot.text(inter, "Nothing was changed")
    assert any(v.id == bob for v in await discord_bot.app.voices(discord_bot.app.vocu, fresh=True))


async def test_avatar_from_image_attachment(discord_bot: DiscordHarness) -> None:
    image = discord_bot.server.add_attachment(png(300, 200), "face.png", "image/png")
    alice = await _voice_id(discord_bot, "Alice")
    inter = await discord_bot.command(
        "voice",
        [
            {
                "type": 1,
                "name": "avatar",
                "options": [
                    {"name": "voice", "type": 3, "value": alice},
                    {"name": "image", "type": 11, "value": image["id"]},
                ],
            }
        ],
        resolved={"attachments": {image["id"]: image}},
    )
    reply = await discord_bot.text(inter, "Updated the avatar of Alice")
    assert "300×200" in reply["content"]


async def test_voices_pages_embeds_and_buttons_run_as_the_clicking_user(
    discord_bot: DiscordHarness,
) -> None:
    server = discord_bot.server
    inter = await discord_bot.command("voices", user_id=DC_ALICE)
    [listing] = await discord_bot.replies(inter)
    assert listing["content"].startswith("Your voices")
    titles = [e["title"] for e in listing["embeds"]]
    assert {"Alice", "Bob"} <= set(titles) and "Page 1/1" in listing["embeds"][-1]["footer"]["text"]
    alice = await _voice_id(discord_bot, "Alice")
    button = next(b for b in _buttons(listing) if b["label"] == "Alice")
    assert button["custom_id"] == f"vocu:run:use {alice}"

    click = await server.interaction_component(button["custom_id"], user_id=DC_BOB)
    picked = await discord_bot.text(click, "Now speaking as Alice")
    bob_settings = await discord_bot.app.storage.get_user_settings("discord", DC_BOB)
    assert bob_settings.voice_id == alice  # the clicking user, not the one who listed
    style = next(b for b in _buttons(picked) if b["label"] == "Cheerful")
    click = await server.interaction_component(style["custom_id"], user_id=DC_BOB)
    await discord_bot.text(click, "Cheerful")
    assert (
        await discord_bot.app.storage.get_user_settings("discord", DC_BOB)
    ).style_id != "default"


@pytest.fixture
def picker_commands() -> Iterator[dict[str, Any]]:
    seen: dict[str, Any] = {"echo": []}

    @command("probe_list")
    async def listing(app: App, ctx: ChatContext, args: Args) -> None:
        lines = "\n".join(f"• item{i} — the {i}th" for i in range(7))
        await ctx.reply_choices(
            f"Items (7):\n{lines}", [Choice(f"item{i}", f"probe_echo {i}") for i in range(7)]
        )

    @command("probe_menu")
    async def menu(app: App, ctx: ChatContext, args: Args) -> None:
        await ctx.reply_choices(
            "Pick one:", [Choice(f"opt{i}", f"probe_echo {i}") for i in range(7)]
        )

    @command("probe_echo", Arg("value", ArgKind.WORD))
    async def echo(app: App, ctx: ChatContext, args: Args) -> None:
        seen["echo"].append((ctx.user_id, args.get("value")))
        await ctx.reply_text(f"echo {args.get('value')}")

    yield seen
    for name in ("probe_list", "probe_menu", "probe_echo"):
        REGISTRY.pop(name, None)


async def test_select_menu_and_paging(
    picker_commands: dict[str, Any], app: App, dc_server: Any
) -> None:
    async with running_discord(app, discord_settings(dc_server)):
        inter = await dc_server.interaction_command("probe_menu")
        await dc_server.wait_for(f"/interactions/{inter['id']}/", "POST")
        menu = dc_server.original_response(inter)
        [select] = _buttons(menu)
        assert select["type"] == 3 and len(select["options"]) == 7
        pick = await dc_server.interaction_component(
            "vocu:pick", component_type=3, values=["probe_echo 5"], user_id=DC_BOB
        )
        await until(lambda: picker_commands["echo"])
        assert picker_commands["echo"] == [(DC_BOB, "5")]
        await dc_server.wait_for(f"/interactions/{pick['id']}/", "POST")

        inter = await dc_server.interaction_command("probe_list")
        await dc_server.wait_for(f"/interactions/{inter['id']}/", "POST")
        page = dc_server.original_response(inter)
        assert [e["title"] for e in page["embeds"]] == [f"item{i}" for i in range(5)]
        nxt = next(b for b in _buttons(page) if b["label"] == "Next")
        turn = await dc_server.interaction_component(nxt["custom_id"], message=page)
        await dc_server.wait_for(f"/interactions/{turn['id']}/", "POST")
        assert dc_server.callbacks(turn)[0]["type"] == 7
        turned = dc_server.messages[page["id"]]
        assert [e["title"] for e in turned["embeds"]] == ["item5", "item6"]
        assert "Page 2/2" in turned["embeds"][-1]["footer"]["text"]


async def test_settings_are_ephemeral_and_errors_too(discord_bot: DiscordHarness) -> None:
    inter = await discord_bot.command("settings")
    [reply] = await discord_bot.replies(inter)
    assert reply["flags"] & EPHEMERAL and "Delivery" in reply["content"]
    inter = await discord_bot.command("say", {"text": "hi", "voice": "Nobody-at-all"})
    [error] = await discord_bot.replies(inter)
    assert error["flags"] & EPHEMERAL and "Nobody-at-all" in error["content"]
    assert discord_bot.generations() == 0


async def test_dm_and_chinese_locale(discord_bot: DiscordHarness) -> None:
    inter = await discord_bot.command("help", guild_id=None, user_id=DC_BOB, locale="zh-CN")
    [reply] = await discord_bot.replies(inter)
    assert "/say" in reply["content"] and any("\u4e00" <= ch <= "\u9fff" for ch in reply["content"])
    inter = await discord_bot.command(
        "say", {"text": "Hello from a DM"}, guild_id=None, user_id=DC_BOB
    )
    [voice] = await discord_bot.replies(inter)
    assert voice["flags"] & 8192
