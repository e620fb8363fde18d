"""Splitter configurations: `/api/splitter…` (§19, current docs only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import VocuValidationError
from ..models import Splitter
from . import Resource, model_list, require, seg

SPLITTER = "/api/splitter"


def _config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as sent; the server validates marks, lookup table and fallback."""
    if not isinstance(config, Mapping) or "fallbackConfig" not in config:
        raise VocuValidationError("a splitter config needs a fallbackConfig with a voiceId")
    return dict(config)


def _name(name: str) -> str:
    name = require(name, "name")
    if len(name) > 100:
        raise VocuValidationError("a splitter name has at most 100 characters")
    return name


class SplittersResource(Resource):
    """List, read, create, update (diff) and delete splitter configurations."""

    async def list(self, *, limit: int = 20, offset: int = 0) -> list[Splitter]:
        """One page of the account's splitters, newest first (the server caps `limit` at 50)."""
        if not 1 <= limit <= 50 or offset < 0:
            raise VocuValidationError("limit must be 1..50 and offset >= 0")
        params = {"limit": str(limit), "offset": str(offset)}
        return await self._client._request("GET", SPLITTER, model_list(Splitter), params=params)

    async def get(self, splitter_id: str) -> Splitter:
        """One splitter."""
        path = f"{SPLITTER}/{seg(splitter_id, 'splitter_id')}"
        return await self._client._request("GET", path, Splitter.model_validate)

    async def create(self, name: str, config: Mapping[str, Any]) -> Splitter:
        """Save a configuration."""
        body = {"name": _name(name), "config": _config(config)}
        return await self._client._request("POST", SPLITTER, Splitter.model_validate, json=body)

    async def update(
        self,
        splitter_id: str,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Splitter:
        """Change the name and/or the config (a diff update: what is omitted stays)."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = _name(name)
        if config is not None:
            body["config"] = _config(config)
        if not body:
            raise VocuValidationError("give a name or a config to update")
        path = f"{SPLITTER}/{seg(splitter_id, 'splitter_id')}"
        return await self._client._request(
            "POST", path, Splitter.model_validate, json=body, idempotent=True
        )

    async def delete(self, splitter_id: str) -> None:
        """Delete a splitter (a second delete is a 404)."""
        path = f"{SPLITTER}/{seg(splitter_id, 'splitter_id')}"
        await self._client._request("DELETE", path, lambda _: None, envelope=None)
