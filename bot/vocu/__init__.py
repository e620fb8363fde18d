"""Typed async SDK for the Vocu voice API (imports only aiohttp, pydantic and the stdlib)."""
