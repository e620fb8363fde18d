"""Content templates with the metaVoiceId mapping (§15) and splitter configs (§19)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .entities import new_id, now_iso
from .errors import ApiError, missing_field, resource_not_found
from .helpers import account_of, as_int, read_json, reply
from .task_input import validate_splitter_config

routes = web.RouteTableDef()
_TEMPLATE_KEYS = ("type", "input_audio", "vc_mode", "high_quality")


def map_contents(contents: Any) -> tuple[list[dict[str, Any]], int]:
    """voiceIds → 1-based `metaVoiceId` (equal ids share a number, "0" → null)."""
    if not isinstance(contents, list) or not contents:
        raise missing_field("contents")
    numbers: dict[str, int] = {}
    mapped: list[dict[str, Any]] = []
    for index, item in enumerate(contents):
        if not isinstance(item, dict) or "text" not in item:
            raise missing_field(f"contents[{index}].text")
        voice_id = item.get("voiceId")
        if voice_id is None:
            raise missing_field(f"contents[{index}].voiceId")
        meta = None
        if str(voice_id) != "0":
            meta = numbers.setdefault(str(voice_id), len(numbers) + 1)
        entry: dict[str, Any] = {"metaVoiceId": meta, "text": item["text"]}
        entry.update({key: item[key] for key in _TEMPLATE_KEYS if key in item})
        if entry.get("input_audio"):
            entry["type"] = "audio"
        mapped.append(entry)
    return mapped, len(numbers)


def _metadata(meta_voice_id: int, description: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"metaVoiceId": meta_voice_id}
    if description:
        metadata["description"] = str(description)
    return metadata


@routes.get("/api/template")
async def list_templates(request: web.Request) -> web.Response:
    """Own templates, newest first; `from=library` lists none (no library in the simulator)."""
    account, query = account_of(request), request.query
    limit = min(max(as_int(query.get("limit"), 20), 1), 100)
    offset = max(as_int(query.get("offset"), 0), 0)
    templates = list(reversed(account.templates.values()))
    if query.get("from") == "library":
        templates = [t for t in templates if t["from"] == "library"]
    return reply(templates[offset : offset + limit])


@routes.post("/api/template")
async def create_template(request: web.Request) -> web.Response:
    """Save a script structure; real voice ids are discarded."""
    account = account_of(request)
    body = await read_json(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise missing_field("name")
    contents, last = map_contents(body.get("contents"))
    stamp = now_iso()
    template_id = new_id()
    template: dict[str, Any] = {
        "id": template_id,
        "name": name,
        "userId": account.id,
        "from": "self",
        "originId": None,
        "contents": contents,
        "metadata": _metadata(last, body.get("description")),
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    account.templates[template_id] = template
    return reply(template)


@routes.get("/api/template/{template_id}")
async def get_template(request: web.Request) -> web.Response:
    """One own template."""
    template = account_of(request).templates.get(request.match_info["template_id"])
    if template is None:
        raise resource_not_found()
    return reply(template)


@routes.post("/api/template/{template_id}")
async def update_template(request: web.Request) -> web.Response:
    """Full replacement of contents and metadata (name kept if omitted); no data."""
    body = await read_json(request)
    contents, last = map_contents(body.get("contents"))
    template = account_of(request).templates.get(request.match_info["template_id"])
    if template is None:
        raise resource_not_found()
    if isinstance(body.get("name"), str) and body["name"].strip():
        template["name"] = body["name"]
    template["contents"] = contents
    template["metadata"] = _metadata(last, body.get("description"))
    template["updatedAt"] = now_iso()
    return reply()


@routes.delete("/api/template/{template_id}")
async def delete_template(request: web.Request) -> web.Response:
    """Delete an own template (a repeat is 404)."""
    if account_of(request).templates.pop(request.match_info["template_id"], None) is None:
        raise resource_not_found()
    return reply()


# --- splitter (§19) ----------------------------------------------------------------------


def _splitter_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise missing_field("name")
    if len(value.strip()) > 100:
        raise ApiError(400, "VALIDATION_TOO_LONG", "name is longer than 100 characters.")
    return value.strip()


@routes.get("/api/splitter")
async def list_splitters(request: web.Request) -> web.Response:
    """Own splitters, newest first, with `total` (limit ≤ 50)."""
    account, query = account_of(request), request.query
    limit = min(max(as_int(query.get("limit"), 20), 1), 50)
    offset = max(as_int(query.get("offset"), 0), 0)
    items = list(reversed(account.splitters.values()))
    return reply(items[offset : offset + limit], message=False, extra={"total": len(items)})


@routes.post("/api/splitter")
async def create_splitter(request: web.Request) -> web.Response:
    """Validate and save a splitter config."""
    body = await read_json(request)
    name = _splitter_name(body.get("name"))
    if "config" not in body:
        raise missing_field("config")
    config = validate_splitter_config(body["config"])
    stamp = now_iso()
    splitter_id = new_id()
    splitter: dict[str, Any] = {
        "id": splitter_id,
        "name": name,
        "config": config,
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    account_of(request).splitters[splitter_id] = splitter
    return reply(splitter, message=False)


def _splitter(request: web.Request) -> dict[str, Any]:
    splitter = account_of(request).splitters.get(request.match_info["splitter_id"])
    if splitter is None:
        raise resource_not_found()
    return splitter


@routes.get("/api/splitter/{splitter_id}")
async def get_splitter(request: web.Request) -> web.Response:
    """One own splitter."""
    return reply(_splitter(request), message=False)


@routes.post("/api/splitter/{splitter_id}")
async def update_splitter(request: web.Request) -> web.Response:
    """Diff update: at least one of name/config."""
    body = await read_json(request)
    if "name" not in body and "config" not in body:
        raise missing_field("name")
    splitter = _splitter(request)
    if "name" in body:
        splitter["name"] = _splitter_name(body["name"])
    if "config" in body:
        splitter["config"] = validate_splitter_config(body["config"])
    splitter["updatedAt"] = now_iso()
    return reply(splitter, message=False)


@routes.delete("/api/splitter/{splitter_id}")
async def delete_splitter(request: web.Request) -> web.Response:
    """Delete; the answer is just `{"status":200}`."""
    splitter = _splitter(request)
    del account_of(request).splitters[splitter["id"]]
    return reply(message=False)
