"""Process-wide discord.py set-up: API/gateway endpoints, voice libraries (Opus, NaCl, DAVE)."""

from __future__ import annotations

import ctypes.util
import glob
import logging
import os

import discord
import discord.gateway
import discord.http
import discord.opus
import yarl

from bot.config import Settings

log = logging.getLogger(__name__)


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py at DISCORD_API_BASE_URL and (if set) DISCORD_GATEWAY_URL.

    A plain Client connects straight to DEFAULT_GATEWAY (it never asks GET /gateway/bot), and
    so does an AutoShardedClient given a shard count.
    """
    discord.http.Route.BASE = settings.discord_api_base_url.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def _opus_candidates() -> list[str]:
    """libopus from the system first, else the copy that PyAV's wheel ships (same library)."""
    found = [name for name in (ctypes.util.find_library("opus"), "libopus.so.0") if name]
    import av  # bot.audio depends on PyAV anyway

    libs = os.path.join(os.path.dirname(os.path.dirname(av.__file__)), "av.libs")
    return found + sorted(glob.glob(os.path.join(libs, "libopus*.so*")))


def load_opus() -> str | None:
    """Load libopus for discord.py's encoder; returns what was loaded, or None."""
    if discord.opus.is_loaded():
        return "libopus"
    for candidate in _opus_candidates():
        try:
            discord.opus.load_opus(candidate)
        except OSError:
            continue
        if discord.opus.is_loaded():
            return os.path.basename(candidate)
    return None


def voice_problem() -> str | None:
    """Why voice channels cannot work in this install, or None if they can."""
    try:
        import nacl.secret  # noqa: F401  (transport encryption)
    except ImportError:
        return "PyNaCl is not installed (pip install 'discord.py[voice]')"
    try:
        import davey  # noqa: F401  (DAVE end-to-end encryption, required by Discord)
    except ImportError:
        return "davey is not installed (pip install 'discord.py[voice]')"
    if load_opus() is None:
        return "libopus was not found (install the libopus0 package)"
    return None


def report_voice() -> str | None:
    """Check voice support once at start-up and say clearly in the log if it is unavailable."""
    problem = voice_problem()
    if problem:
        log.warning("voice unavailable: %s; /join, /speak and /autoread will say so", problem)
    else:
        log.info("voice ready (opus %s, PyNaCl, davey)", load_opus())
    return problem
