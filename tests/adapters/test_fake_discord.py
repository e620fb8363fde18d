"""The fake Discord server against the REAL discord.py client (Client + CommandTree)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_server import FakeDiscordServer, patch_discord_py

TOKEN = "fake-bot-token"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


class VoiceModal(discord.ui.Modal, title="Describe the voice"):
    name = discord.ui.TextInput(label="Name", custom_id="voice_name")

    def __init__(self, bot: FakeBot) -> None:
        super().__init__(custom_id="voice_modal")
        self.bot = bot

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.bot.seen["modal"] = self.name.value
        await interaction.response.send_message(f"saved {self.name.value}", ephemeral=True)


class MenuView(discord.ui.View):
    def __init__(self, bot: FakeBot) -> None:
        super().__init__(timeout=30)
        self.bot = bot

    @discord.ui.button(label="Rename", custom_id="rename")
    async def rename(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.bot.seen["button"] = interaction.user.id
        await interaction.response.send_modal(VoiceModal(self.bot))

    @discord.ui.button(label="Done", custom_id="done")
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="done", view=None)


class FakeBot(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.ready = asyncio.Event()
        self.seen: dict[str, Any] = {}
        bot = self

        @self.tree.command(name="speak", description="Say something")
        @app_commands.describe(text="What to say")
        async def speak(
            interaction: discord.Interaction,
            text: str,
            voice: str | None = None,
            reference: discord.Attachment | None = None,
        ) -> None:
            await interaction.response.defer(thinking=True)
            ref = await reference.read() if reference else b""
            bot.seen["speak"] = (text, voice, ref, interaction.locale, interaction.guild_id)
            audio = discord.File(io.BytesIO(b"OggS-fake-audio"), filename="speech.ogg")
            await interaction.followup.send(content=f"said {text}", file=audio)

        @speak.autocomplete("voice")
        async def voice_ac(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            names = ["alloy", "echo", "fable"]
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

        @self.tree.command(name="menu", description="Show the menu")
        async def menu(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("menu", view=MenuView(bot))

        @self.tree.command(name="admin", description="Guild-only admin command")
        @app_commands.default_permissions(administrator=True)
        async def admin(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(
                f"perms={interaction.permissions.administrator}", ephemeral=True
            )

        @self.tree.command(name="ping", description="Edit the original response")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            loading = await interaction.original_response()
            bot.seen["loading_flags"] = loading.flags.value
            png = discord.File(io.BytesIO(b"PNG"), filename="pong.png")
            edited = await interaction.edit_original_response(content="pong", attachments=[png])
            bot.seen["edited"] = (edited.content, [a.filename for a in edited.attachments])
            await interaction.delete_original_response()

        self.tree.copy_global_to(guild=discord.Object(3000))

    async def on_ready(self) -> None:
        self.ready.set()


@pytest.fixture
async def server() -> AsyncIterator[FakeDiscordServer]:
    srv = FakeDiscordServer()
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def bot(server: FakeDiscordServer) -> AsyncIterator[FakeBot]:
    with patch_discord_py(server):
        client = FakeBot()
        task = asyncio.create_task(client.start(TOKEN))
        done, _ = await asyncio.wait(
            [task, asyncio.create_task(client.ready.wait())],
            timeout=10,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if task in done:
            task.result()  # surface the startup error
        assert client.ready.is_set(), "on_ready never fired"
        yield client
        await client.close()
        await asyncio.wait_for(task, 5)
        assert client.is_closed()


async def test_connects_identifies_and_caches_guild(server: FakeDiscordServer, bot: FakeBot):
    assert bot.user is not None and bot.user.id == 1000 and bot.user.bot
    assert bot.application_id == 1000
    assert server.gateway_connects[0]["compress"] == "zlib-stream"
    assert server.identifies[0]["token"] == TOKEN
    assert server.identifies[0]["intents"] == bot.intents.value
    assert server.requests_to("/users/@me")[0].headers["Authorization"] == f"Bot {TOKEN}"
    guild = bot.get_guild(3000)
    assert guild is not None and not guild.unavailable
    assert isinstance(guild.get_channel(2001), discord.TextChannel)
    assert isinstance(guild.get_channel(2002), discord.VoiceChannel)
    alice = guild.get_member(4001)
    assert alice is not None and alice.guild_permissions.administrator
    assert not guild.get_member(4002).guild_permissions.administrator  # type: ignore[union-attr]


async def test_tree_sync_registers_commands(server: FakeDiscordServer, bot: FakeBot):
    synced = await bot.tree.sync()
    guild_synced = await bot.tree.sync(guild=discord.Object(3000))
    assert {c.name for c in synced} == {"speak", "menu", "admin", "ping"}
    assert all(c.id for c in guild_synced)
    put = server.requests_to("/applications/1000/commands", "PUT")[0].json
    speak = next(c for c in put if c["name"] == "speak")
    opts = {o["name"]: o for o in speak["options"]}
    assert opts["text"]["type"] == 3 and opts["text"]["required"] is True
    assert opts["voice"]["autocomplete"] is True
    assert opts["reference"]["type"] == 11
    assert server.requests_to("/guilds/3000/commands", "PUT")
    assert server.guild_commands["3000"][0]["guild_id"] == "3000"
    fetched = await bot.tree.fetch_commands()
    assert sorted(c.name for c in fetched) == ["admin", "menu", "ping", "speak"]


async def test_slash_command_defers_and_sends_followup_file(
    server: FakeDiscordServer, bot: FakeBot
):
    await bot.tree.sync(guild=discord.Object(3000))
    ref = server.add_attachment(b"reference-bytes", "ref.ogg", "audio/ogg")
    inter = await server.interaction_command(
        "speak",
        {"text": "hello", "voice": "echo", "reference": ref["id"]},
        user_id="4002",
        resolved={"attachments": {ref["id"]: ref}},
        locale="de",
    )
    [followup] = await server.wait_for(f"/webhooks/1000/{inter['token']}", "POST")
    assert bot.seen["speak"] == ("hello", "echo", b"reference-bytes", discord.Locale.german, 3000)
    assert server.callbacks(inter) == [{"type": 5, "data": {}}]
    assert followup.query["wait"] in ("1", "true")
    assert followup.json["content"] == "said hello"
    assert followup.files[0].filename == "speech.ogg"
    assert followup.files[0].data == b"OggS-fake-audio"
    [msg] = server.followups(inter)
    assert msg["attachments"][0]["filename"] == "speech.ogg"
    async with aiohttp.ClientSession() as s, s.get(msg["attachments"][0]["url"]) as r:
        assert await r.read() == b"OggS-fake-audio"


async def test_autocomplete_returns_choices(server: FakeDiscordServer, bot: FakeBot):
    await bot.tree.sync()
    inter = await server.interaction_autocomplete(
        "speak", {"text": "hi", "voice": "e"}, focused="voice", guild_id=None, user_id="4001"
    )
    await server.wait_for(f"/interactions/{inter['id']}/", "POST")
    assert server.callbacks(inter) == [
        {"type": 8, "data": {"choices": [{"name": "echo", "value": "echo"}]}}
    ]


async def test_button_opens_modal_and_modal_submit(server: FakeDiscordServer, bot: FakeBot):
    await bot.tree.sync()
    menu = await server.interaction_command("menu")
    await server.wait_for(f"/interactions/{menu['id']}/", "POST")
    assert server.original_response(menu)["content"] == "menu"  # type: ignore[index]

    click = await server.interaction_component("rename", user_id="4002")
    await server.wait_for(f"/interactions/{click['id']}/", "POST")
    assert bot.seen["button"] == 4002
    assert server.last_modal()["custom_id"] == "voice_modal"

    submit = await server.interaction_modal_submit(None, {"voice_name": "Robo"})
    await server.wait_for(f"/interactions/{submit['id']}/", "POST")
    assert bot.seen["modal"] == "Robo"
    [cb] = server.callbacks(submit)
    assert cb["type"] == 4 and cb["data"]["flags"] == 64

    done = await server.interaction_component("done")
    await server.wait_for(f"/interactions/{done['id']}/", "POST")
    assert server.callbacks(done)[0]["type"] == 7
    edited = server.messages[done["message"]["id"]]
    assert edited["content"] == "done" and edited["components"] == []


async def test_guild_command_permissions_and_double_ack(server: FakeDiscordServer, bot: FakeBot):
    await bot.tree.sync(guild=discord.Object(3000))
    inter = await server.interaction_command("admin", user_id="4001")
    await server.wait_for(f"/interactions/{inter['id']}/", "POST")
    assert server.callbacks(inter)[0]["data"]["content"] == "perms=True"
    # a second callback on the same interaction is rejected like Discord does
    async with aiohttp.ClientSession() as s:
        url = f"{server.api_base}/interactions/{inter['id']}/{inter['token']}/callback"
        async with s.post(url, json={"type": 6}) as r:
            assert r.status == 400 and (await r.json())["code"] == 40060


async def test_original_response_get_edit_delete(server: FakeDiscordServer, bot: FakeBot):
    await bot.tree.sync()
    inter = await server.interaction_command("ping", guild_id=None, user_id="4002")
    await server.wait_for(f"/webhooks/1000/{inter['token']}/messages/@original", "DELETE")
    assert bot.seen["loading_flags"] & 128  # deferred "thinking" message is LOADING
    assert bot.seen["edited"] == ("pong", ["pong.png"])
    patch = server.requests_to("/messages/@original", "PATCH")[0]
    assert patch.files[0].data == b"PNG"
    assert server.original_response(inter) is None  # deleted


async def test_gateway_resume_after_drop(server: FakeDiscordServer, bot: FakeBot):
    await server.dispatch("TYPING_START", {"channel_id": "2001", "user_id": "4002", "timestamp": 0})
    await server.drop_gateway(4000)
    for _ in range(200):
        if server.resumes:
            break
        await asyncio.sleep(0.01)
    assert server.resumes[0]["token"] == TOKEN
    assert server.resumes[0]["seq"] == 1 + len(server.guilds) + 1  # READY, GUILD_CREATE, TYPING
    waiter = asyncio.create_task(bot.wait_for("message", timeout=5))
    await asyncio.sleep(0)
    await server.message_create("2001", "4001", "after resume")
    assert (await waiter).content == "after resume"


def _voice_form(payload: dict[str, Any], audio: bytes) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    form.add_field("files[0]", audio, filename="voice-message.ogg", content_type="audio/ogg")
    return form


async def test_raw_voice_message_multipart_and_faults(server: FakeDiscordServer):
    waveform = base64.b64encode(bytes(range(0, 256, 4))).decode()
    payload = {
        "flags": 8192,
        "attachments": [
            {"id": "0", "filename": "voice-message.ogg", "duration_secs": 1.5, "waveform": waveform}
        ],
    }
    url = f"{server.api_base}/channels/2001/messages"
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as s:
        async with s.post(url, data=_voice_form(payload, b"OggS-voice")) as r:
            assert r.status == 200
            msg = await r.json()
        server.fail_next(
            "/channels/2001/messages",
            400,
            {"code": 50173, "message": "Cannot send voice messages in this channel"},
        )
        async with s.post(url, data=_voice_form(payload, b"OggS-voice")) as r:
            assert r.status == 400 and (await r.json())["code"] == 50173
        bad = {**payload, "content": "hi"}
        async with s.post(url, data=_voice_form(bad, b"OggS-voice")) as r:
            assert (await r.json())["code"] == 50159

    att = msg["attachments"][0]
    assert msg["flags"] == 8192 and att["duration_secs"] == 1.5 and att["waveform"] == waveform
    rec = server.requests_to("/channels/2001/messages", "POST")[0]
    assert rec.json["flags"] == 8192
    assert rec.json["attachments"][0]["duration_secs"] == 1.5
    assert rec.files[0] == ("files[0]", "voice-message.ogg", "audio/ogg", b"OggS-voice")
    assert [r.status for r in server.requests_to("/channels/2001/messages")] == [200, 400, 400]


async def test_upload_url_flow(server: FakeDiscordServer):
    async with aiohttp.ClientSession() as s:
        slots_url = f"{server.api_base}/channels/2001/attachments"
        body = {"files": [{"id": "0", "filename": "voice-message.ogg", "file_size": 9}]}
        async with s.post(slots_url, json=body) as r:
            [slot] = (await r.json())["attachments"]
        async with s.put(slot["upload_url"], data=b"OggS-up!!") as r:
            assert r.status in (200, 204)
        msg_body = {
            "flags": 8192,
            "attachments": [
                {
                    "id": "0",
                    "filename": "voice-message.ogg",
                    "uploaded_filename": slot["upload_filename"],
                    "duration_secs": 2.0,
                    "waveform": "AAAA",
                }
            ],
        }
        async with s.post(f"{server.api_base}/channels/2001/messages", json=msg_body) as r:
            msg = await r.json()
    assert msg["attachments"][0]["size"] == 9 and msg["attachments"][0]["duration_secs"] == 2.0


async def test_rate_limit_retry_and_channel_send(server: FakeDiscordServer, bot: FakeBot):
    server.fail_next("/channels/2001/messages", 429, {"retry_after": 0.05, "global": False})
    channel = bot.get_channel(2001)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("hello", file=discord.File(io.BytesIO(b"x" * 10), "a.txt"))
    assert sent.content == "hello" and sent.attachments[0].size == 10
    recs = server.requests_to("/channels/2001/messages", "POST")
    assert [r.status for r in recs] == [429, 200]

    waiter = asyncio.create_task(bot.wait_for("message", timeout=5))
    await asyncio.sleep(0)
    await server.message_create("2001", "4002", "hi bot")
    message = await waiter
    assert message.author.id == 4002 and message.content == "hi bot"
    await server.voice_state_update("4002", "2002")
    await asyncio.sleep(0.05)
    assert [m.id for m in bot.get_channel(2002).members] == [4002]  # type: ignore[union-attr]


def test_env_has_no_proxy() -> None:
    assert "HTTP_PROXY" not in os.environ and "HTTPS_PROXY" not in os.environ
