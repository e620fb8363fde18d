"""Content templates: `/api/template…`, and binding `metaVoiceId`s back to voices (§15)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from .. import _conventions as conv
from ..errors import VocuValidationError
from ..models import TaskContent, Template
from . import Resource, model_list, require, seg

TEMPLATE = "/api/template"
TEMPLATE_KEYS = ("type", "voiceId", "text", "input_audio", "vc_mode", "high_quality")
NO_VOICE = "0"  # §15: the voiceId that becomes a null metaVoiceId
VOICED = frozenset({"text", "audio"})


def _template_contents(contents: Sequence[TaskContent]) -> list[dict[str, Any]]:
    """Template blocks: only the keys a template keeps; voice-less blocks get voiceId "0"."""
    if not contents:
        raise VocuValidationError("a template needs at least one content block")
    out = []
    for index, block in enumerate(contents):
        if not isinstance(block, TaskContent):
            raise VocuValidationError(f"contents[{index}] must be a TaskContent")
        wire = block.to_wire()
        item = {k: wire[k] for k in TEMPLATE_KEYS if k in wire}
        item.setdefault("voiceId", NO_VOICE)
        item.setdefault("text", "")
        out.append(item)
    return out


class TemplatesResource(Resource):
    """List, read, create, replace, delete and bind templates."""

    async def list(
        self, *, limit: int = conv.PAGE_SIZE, offset: int = 0, from_: str | None = None
    ) -> list[Template]:
        """One page of the account's templates, newest first."""
        if not 1 <= limit <= 100 or offset < 0:
            raise VocuValidationError("limit must be 1..100 and offset >= 0")
        params = {"limit": str(limit), "offset": str(offset)}
        if from_:
            params["from"] = from_
        return await self._client._request("GET", TEMPLATE, model_list(Template), params=params)

    async def get(self, template_id: str) -> Template:
        """One template."""
        path = f"{TEMPLATE}/{seg(template_id, 'template_id')}"
        return await self._client._request("GET", path, Template.model_validate)

    async def create(
        self, name: str, contents: Sequence[TaskContent], description: str | None = None
    ) -> Template:
        """Save a script's structure; voice ids become 1-based `metaVoiceId`s."""
        body: dict[str, Any] = {
            "name": require(name, "name"),
            "contents": _template_contents(contents),
        }
        if description is not None:
            body["description"] = description
        return await self._client._request("POST", TEMPLATE, Template.model_validate, json=body)

    async def update(
        self,
        template_id: str,
        *,
        contents: Sequence[TaskContent],
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        """Replace contents and metadata (an omitted description is removed; name kept)."""
        body: dict[str, Any] = {"contents": _template_contents(contents)}
        if name:
            body["name"] = name
        if description is not None:
            body["description"] = description
        path = f"{TEMPLATE}/{seg(template_id, 'template_id')}"
        await self._client._request(
            "POST", path, lambda _: None, envelope=None, json=body, idempotent=True
        )

    async def delete(self, template_id: str) -> None:
        """Delete a template (a second delete is a 404)."""
        path = f"{TEMPLATE}/{seg(template_id, 'template_id')}"
        await self._client._request("DELETE", path, lambda _: None, envelope=None)

    @staticmethod
    def bind(
        template: Template, voices: Mapping[int, str], *, skip_unbound: bool = False
    ) -> builtins.list[TaskContent]:
        """Task blocks from a template, `metaVoiceId` n → `voices[n]`.

        A voiced block (text/audio) with a null or unmapped `metaVoiceId` raises
        VocuValidationError, or is left out with `skip_unbound=True`. Voice-less blocks
        (sfx, music, …) are kept without a voice id.
        """
        out: builtins.list[TaskContent] = []
        for index, block in enumerate(template.contents):
            kind = block.type or "text"
            fields = block.model_dump(by_alias=True, exclude_none=True, exclude={"meta_voice_id"})
            fields["type"] = kind
            if kind not in VOICED:
                out.append(TaskContent.model_validate(fields))
                continue
            voice_id = voices.get(block.meta_voice_id) if block.meta_voice_id else None
            if not voice_id:
                if skip_unbound:
                    continue
                raise VocuValidationError(
                    f"template block {index} (metaVoiceId={block.meta_voice_id}) has no voice"
                )
            out.append(TaskContent.model_validate({**fields, "voiceId": voice_id}))
        return out
