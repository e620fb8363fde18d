"""Voices and styles: `/api/voice…` (or the `/api/tts/voice…` alias, PC-1)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from .. import _conventions as conv
from ..errors import VocuTimeout, VocuValidationError
from ..models import VOICE_LANGUAGES, Voice
from . import Resource, bool_str, data_uri, model_list, require, seg


def _check_language(language: str | None) -> None:
    if language is not None and language not in VOICE_LANGUAGES:
        raise VocuValidationError(f"unsupported voice language {language!r}")


def _transcript(payload: Any) -> str | None:
    if payload is None or isinstance(payload, str):
        return payload
    raise TypeError("transcript is not a string")


class VoicesResource(Resource):
    """Create, inspect, edit, share and delete voices and their styles."""

    def _path(self, voice_id: str | None = None, *rest: str) -> str:
        path = self._client.voice_path
        if voice_id is not None:
            path += "/" + seg(voice_id, "voice_id")
        for part in rest:
            path += "/" + part
        return path

    def _style(self, voice_id: str, style_id: str, action: str = "") -> str:
        parts = ["prompt", seg(style_id, "style_id")] + ([action] if action else [])
        return self._path(voice_id, *parts)

    async def _voice(self, method: str, path: str, body: Any = None, **kw: Any) -> Voice:
        return await self._client._request(method, path, Voice.model_validate, json=body, **kw)

    async def list(
        self, *, show_market: bool = False, show_full: bool = False, from_: str | None = None
    ) -> list[Voice]:
        """All voices of the account (not paginated); market voices with `show_market`."""
        params: dict[str, str] = {}
        if show_market:
            params["showMarket"] = "true"
        if show_full:
            params["show"] = "full"
        if from_:
            params["from"] = from_
        return await self._client._request(
            "GET", self._path(), model_list(Voice), params=params or None
        )

    async def get(self, voice_id: str) -> Voice:
        """One voice, in any status (also `creating` and `failed`)."""
        return await self._voice("GET", self._path(voice_id))

    async def create(
        self,
        *,
        name: str,
        prompt: bytes,
        prompt_mime: str = "audio/mpeg",
        description: str | None = None,
        language: str | None = None,
        model_version: str | None = None,
        avatar: bytes | None = None,
        avatar_mime: str = "image/png",
        vocal_filter: bool = True,
        multipart: bool = False,
    ) -> Voice:
        """Clone a voice from a sample; it starts `creating` (see `wait_ready`)."""
        fields: dict[str, Any] = {"name": require(name, "name"), "vocalFilter": vocal_filter}
        _check_language(language)
        if not prompt:
            raise VocuValidationError("prompt audio must not be empty")
        optional = {"description": description, "language": language}
        fields.update({k: v for k, v in optional.items() if v is not None})
        if model_version is not None:
            fields["modelVersion"] = model_version
        timeout = self._client.generate_timeout
        if not multipart:
            fields["prompt"] = data_uri(prompt, prompt_mime, "prompt")
            if avatar is not None:
                fields["avatar"] = data_uri(avatar, avatar_mime, "avatar")
            return await self._voice("POST", self._path(), fields, timeout=timeout)

        def form() -> aiohttp.FormData:
            fd = aiohttp.FormData()
            for key, value in fields.items():
                fd.add_field(key, bool_str(value) if isinstance(value, bool) else str(value))
            fd.add_field("prompt", prompt, filename="prompt", content_type=prompt_mime)
            if avatar:
                fd.add_field("avatar", avatar, filename="avatar", content_type=avatar_mime)
            return fd

        return await self._client._request(
            "POST", self._path(), Voice.model_validate, form=form, timeout=timeout
        )

    async def wait_ready(
        self,
        voice_id: str,
        *,
        timeout: float = 120,  # noqa: ASYNC109 - a polling deadline
        interval: float = 1.0,
    ) -> Voice:
        """Poll until the voice is no longer `creating`; VocuTimeout after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            voice = await self.get(voice_id)
            if voice.status != "creating":
                return voice
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise VocuTimeout(f"voice still creating after {timeout:g}s")
            await asyncio.sleep(min(interval, remaining))

    async def update_info(
        self, voice_id: str, *, name: str | None = None, description: str | None = None
    ) -> Voice:
        """Rename/describe. Server rule (§14.5): an omitted description is cleared."""
        body = {k: v for k, v in {"name": name, "description": description}.items() if v}
        return await self._voice("POST", self._path(voice_id, "info"), body, idempotent=True)

    async def upload_avatar(self, voice_id: str, *, image: bytes, mime: str = "image/png") -> Voice:
        """Set the voice's avatar from image bytes (sent as a data URL)."""
        body = {"avatar": data_uri(image, mime, "image")}
        return await self._voice("POST", self._path(voice_id, "avatar"), body, idempotent=True)

    async def add_style(
        self,
        voice_id: str,
        *,
        name: str,
        prompt: bytes,
        prompt_mime: str = "audio/mpeg",
        description: str | None = None,
        language: str | None = None,
        vocal_filter: bool = True,
    ) -> Voice:
        """Add a style from a sample (≤ 20 MB); returns the voice with the style appended."""
        _check_language(language)
        body: dict[str, Any] = {
            "name": require(name, "name"),
            "prompt": data_uri(prompt, prompt_mime, "prompt"),
            "vocalFilter": vocal_filter,
        }
        if description is not None:
            body["description"] = description
        if language is not None:
            body["language"] = language
        path = self._path(voice_id, "prompt")
        return await self._voice("POST", path, body, timeout=self._client.generate_timeout)

    async def delete_style(self, voice_id: str, style_id: str) -> Voice:
        """Mark a style deleted; the `default` style cannot be deleted (checked locally)."""
        if style_id == "default":
            raise VocuValidationError("the default style cannot be deleted; set another default")
        return await self._voice("DELETE", self._style(voice_id, style_id))

    async def set_default_style(self, voice_id: str, style_id: str) -> Voice:
        """Make a style the default. The ids swap (§14.11): rebuild ids from the result."""
        return await self._voice("POST", self._style(voice_id, style_id, "default"))

    async def get_transcript(self, voice_id: str, style_id: str) -> str | None:
        """The transcript of a style's sample, or None."""
        return await self._client._request(
            "GET", self._style(voice_id, style_id, "stt"), _transcript
        )

    async def set_transcript(self, voice_id: str, style_id: str, text: str) -> Voice:
        """Correct a style's transcript."""
        body = {"text": require(text, "text")}
        path = self._style(voice_id, style_id, "stt")
        return await self._voice("POST", path, body, idempotent=True)

    async def update_style_info(
        self,
        voice_id: str,
        style_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> Voice:
        """Rename/describe a style (an omitted description is cleared, as in §14.5)."""
        body = {k: v for k, v in {"name": name, "description": description}.items() if v}
        path = self._style(voice_id, style_id, "info")
        return await self._voice("POST", path, body, idempotent=True)

    async def reset_style(
        self, voice_id: str, style_id: str, *, enhance: bool = False, vocal_filter: bool = False
    ) -> Voice:
        """Discard a style's derived data; it is reprocessed on the next generation."""
        body = {"enhance": enhance, "vocalFilter": vocal_filter}
        path = self._style(voice_id, style_id, "reset")
        return await self._voice("POST", path, body, idempotent=True)

    async def share(self, voice_id: str) -> str:
        """A fresh one-time share id for an own voice (PC-25)."""
        path = self._client.voice_path + conv.SHARE_SUFFIX.format(
            voice_id=seg(voice_id, "voice_id")
        )

        def parse(payload: Any) -> str:
            share_id = payload.get(conv.SHARE_ID_FIELD) if isinstance(payload, dict) else None
            if not isinstance(share_id, str) or not share_id:
                raise TypeError("no share id in the answer")
            return share_id

        return await self._client._request("GET", path, parse)

    async def import_shared(self, share_id: str) -> Voice:
        """Redeem a share id; the copy is owned by this account (PC-26)."""
        body = {conv.SHARE_ID_FIELD: require(share_id, "share_id")}
        path = self._client.voice_path + conv.BY_SHARE_ID_SUFFIX
        voice_id, voice = await self._client._request(
            "POST", path, _shared, envelope=None, json=body
        )
        return voice if voice is not None else await self.get(voice_id)

    async def delete(self, voice_id: str) -> None:
        """Delete an own voice (irreversible)."""
        await self._client._request("DELETE", self._path(voice_id), _none, envelope=None)


def _none(_: Any) -> None:
    return None


def _shared(answer: Any) -> tuple[str, Voice | None]:
    """PC-26: the new voice id, and the voice itself when `data` is the full object."""
    voice_id = conv.shared_voice_id(answer) if isinstance(answer, dict) else None
    if voice_id is None:
        raise TypeError("share redemption returned no voice id")
    data = answer.get("data")
    if isinstance(data, dict) and data.get("id") == voice_id and "status" in data:
        return voice_id, Voice.model_validate(data)
    return voice_id, None
