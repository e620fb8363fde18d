"""Discord-only commands for voice channels: /join, /leave, /speak, /skip, /stop, /autoread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str

from adapters.discord_app import strings
from adapters.discord_app.autocomplete import Completer
from adapters.discord_app.autoread import AutoReader
from adapters.discord_app.context import DiscordContext
from adapters.discord_app.player import Track
from adapters.discord_app.voice import VoiceManager
from bot import readaloud, synth
from bot.app import App
from bot.errors import NotAllowedError, UserFacingError
from bot.router import error_reply

Work = Callable[[DiscordContext], Awaitable[str]]


def error_text(exc: BaseException, locale: str | None) -> str:
    """The reply for an error: `discord.*` keys from the adapter catalogue, else as the router."""
    if isinstance(exc, UserFacingError) and exc.key.startswith("discord."):
        return strings.text(locale, exc.key, **exc.params)
    return error_reply(exc, locale)


def _describe(key: str) -> locale_str:
    return locale_str(strings.text("en", key), key=key)


def voice_commands(
    app: App, voices: VoiceManager, reader: AutoReader, completer: Completer
) -> list[app_commands.Command[Any, ..., None]]:
    """The voice-channel commands, bound to this bot's voice manager and reader."""

    async def guarded(
        interaction: discord.Interaction[Any], work: Work, *, private: bool = True
    ) -> None:
        ctx = DiscordContext(app, interaction)
        ctx.start_watchdog()
        try:
            user = await app.storage.get_user_settings(ctx.platform, ctx.user_id)
            ctx.locale = user.language or ctx.locale
            reply = await work(ctx)
            await ctx.reply_text(reply, private=private)
        except Exception as exc:  # the same error → reply mapping as the router's
            await ctx.reply_text(error_text(exc, ctx.locale), private=True)
        finally:
            await ctx.finish()

    def mention(player: Any) -> str:
        channel = player.voice.channel
        return str(getattr(channel, "mention", channel))

    @app_commands.command(name="join", description=_describe("cmd.join"))
    @app_commands.guild_only()
    async def join(interaction: discord.Interaction[Any]) -> None:
        async def work(ctx: DiscordContext) -> str:
            player = await voices.join(interaction.user)
            return strings.text(ctx.locale, "discord.joined", channel=mention(player))

        await guarded(interaction, work, private=False)

    @app_commands.command(name="leave", description=_describe("cmd.leave"))
    @app_commands.guild_only()
    async def leave(interaction: discord.Interaction[Any]) -> None:
        async def work(ctx: DiscordContext) -> str:
            left = await voices.leave(interaction.guild_id)
            return strings.text(ctx.locale, "discord.left" if left else "discord.not_connected")

        await guarded(interaction, work, private=False)

    @app_commands.command(name="speak", description=_describe("cmd.speak"))
    @app_commands.describe(
        text=_describe("arg.text"), voice=_describe("arg.voice"), style=_describe("arg.style")
    )
    @app_commands.autocomplete(voice=completer.voices, style=completer.styles)
    @app_commands.guild_only()
    async def speak(
        interaction: discord.Interaction[Any],
        text: str,
        voice: str | None = None,
        style: str | None = None,
    ) -> None:
        async def work(ctx: DiscordContext) -> str:
            VoiceManager.member_channel(interaction.user)  # before any Vocu call
            vocu = await app.client_for(ctx.platform, ctx.user_id)
            req = await synth.build_request(app, ctx, vocu, text, voice=voice, style=style)
            await readaloud.admit(app, ctx, req)

            async def failed(exc: BaseException) -> None:
                await ctx.reply_text(error_text(exc, ctx.locale), private=True)

            frames = readaloud.speech_pcm(app, ctx, vocu, req)
            player, ahead = await voices.speak(interaction.user, Track(frames, on_error=failed))
            key = "discord.playing" if ahead == 0 else "discord.queued"
            return strings.text(ctx.locale, key, channel=mention(player), ahead=ahead)

        await guarded(interaction, work)

    @app_commands.command(name="skip", description=_describe("cmd.skip"))
    @app_commands.guild_only()
    async def skip(interaction: discord.Interaction[Any]) -> None:
        async def work(ctx: DiscordContext) -> str:
            player = voices.get(interaction.guild_id)
            skipped = player is not None and player.skip()
            return strings.text(
                ctx.locale, "discord.skipped" if skipped else "discord.nothing_playing"
            )

        await guarded(interaction, work)

    @app_commands.command(name="stop", description=_describe("cmd.stop"))
    @app_commands.guild_only()
    async def stop(interaction: discord.Interaction[Any]) -> None:
        async def work(ctx: DiscordContext) -> str:
            player = voices.get(interaction.guild_id)
            stopped = player is not None and player.stop()
            return strings.text(
                ctx.locale, "discord.stopped" if stopped else "discord.nothing_playing"
            )

        await guarded(interaction, work)

    @app_commands.command(name="autoread", description=_describe("cmd.autoread"))
    @app_commands.describe(mode=_describe("arg.mode"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def autoread(interaction: discord.Interaction[Any], mode: Literal["on", "off"]) -> None:
        async def work(ctx: DiscordContext) -> str:
            if not ctx.is_admin:
                raise NotAllowedError("error.admin_only")
            assert interaction.guild_id is not None and interaction.channel_id is not None
            await reader.set(interaction.guild_id, interaction.channel_id, mode == "on")
            channel = f"<#{interaction.channel_id}>"
            return strings.text(ctx.locale, f"discord.autoread_{mode}", channel=channel)

        await guarded(interaction, work, private=False)

    return [join, leave, speak, skip, stop, autoread]
