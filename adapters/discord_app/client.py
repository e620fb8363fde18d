"""The discord.py client: app commands from the registry, voice channels, autoread."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

from adapters.discord_app.autocomplete import Completer
from adapters.discord_app.autoread import AutoReader, message_names
from adapters.discord_app.commands import CatalogTranslator, Runner, render_registry, speak_menu
from adapters.discord_app.courier import DiscordCourier
from adapters.discord_app.views import PickSelect, RunButton
from adapters.discord_app.voice import Connector, VoiceManager, connect
from adapters.discord_app.voice_commands import voice_commands
from bot.app import App
from bot.config import Settings

log = logging.getLogger(__name__)


def intents(message_content: bool = True) -> discord.Intents:
    """Guilds, voice states and messages; message content (privileged) for /autoread."""
    wanted = discord.Intents.default()
    wanted.message_content = message_content
    return wanted


def parse_ids(raw: str | None) -> list[int]:
    """ "1, 2 3" → [1, 2, 3]."""
    return [int(part) for part in (raw or "").replace(",", " ").split() if part.strip()]


class BotMixin:
    """Our behaviour, shared by the plain and the sharded client."""

    def __init__(
        self,
        app: App,
        *,
        guild_ids: list[int],
        voice_problem: str | None,
        connector: Connector = connect,
        **options: Any,
    ) -> None:
        options.setdefault("intents", intents())
        # the next class in the MRO is discord.Client or discord.AutoShardedClient
        super().__init__(allowed_mentions=discord.AllowedMentions.none(), **options)  # type: ignore[call-arg]
        self._setup_bot(app, guild_ids=guild_ids, voice_problem=voice_problem, connector=connector)

    def _setup_bot(
        self,
        app: App,
        *,
        guild_ids: list[int],
        voice_problem: str | None,
        connector: Connector,
    ) -> None:
        client: Any = self
        self.app = app
        self.guild_ids = guild_ids
        self.ready = asyncio.Event()
        self.runner = Runner(app)
        self.voices = VoiceManager(connector=connector, problem=voice_problem)
        self.reader = AutoReader(app, self.voices)
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
        completer = Completer(app)
        render_registry(self.tree, self.runner, completer)
        for command in voice_commands(app, self.voices, self.reader, completer):
            self.tree.add_command(command)
        self.tree.add_command(speak_menu(self.runner, message_names))

    async def setup_hook(self) -> None:
        client: Any = self
        client.add_dynamic_items(RunButton, PickSelect)
        await self.tree.set_translator(CatalogTranslator())
        await self.sync_commands()
        self.app.couriers["discord"] = DiscordCourier(self.app, self)  # late results

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Register the commands: in DISCORD_GUILD_IDS at once if set, else globally."""
        if not self.guild_ids:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))
            return synced
        synced = []
        for guild_id in self.guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)
        return synced

    async def run_line(self, interaction: discord.Interaction[Any], line: str) -> None:
        """Run a picker's command line as the user who clicked."""
        await self.runner.run_line(interaction, line)

    async def on_ready(self) -> None:
        client: Any = self
        log.info("discord connected as %s in %d servers", client.user, len(client.guilds))
        self.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        try:
            await self.reader.on_message(message)
        except Exception:
            log.exception("autoread failed")

    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        await self.voices.on_voice_state_update(member, before, after)

    async def close(self) -> None:
        """Leave every voice channel, then close the gateway and the HTTP session."""
        self.app.couriers.pop("discord", None)
        await self.voices.close()
        await super().close()  # type: ignore[misc]


class DiscordBot(BotMixin, discord.Client):
    """One connection (unsharded, or a single shard)."""


class ShardedDiscordBot(BotMixin, discord.AutoShardedClient):
    """Several shards in this process (DISCORD_SHARD_COUNT / DISCORD_SHARD_IDS)."""


def create_client(
    app: App,
    settings: Settings,
    *,
    voice_problem: str | None = None,
    message_content: bool = True,
    **options: Any,
) -> DiscordBot | ShardedDiscordBot:
    """The client the settings ask for (sharded when DISCORD_SHARD_COUNT is set)."""
    guild_ids = parse_ids(settings.discord_guild_ids)
    options["intents"] = intents(message_content)
    if settings.discord_shard_count:
        shard_ids = parse_ids(settings.discord_shard_ids) or None
        return ShardedDiscordBot(
            app,
            guild_ids=guild_ids,
            voice_problem=voice_problem,
            shard_count=settings.discord_shard_count,
            shard_ids=shard_ids,
            **options,
        )
    return DiscordBot(app, guild_ids=guild_ids, voice_problem=voice_problem, **options)
