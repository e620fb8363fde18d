"""Account info, storage downloads, file uploads (PC-27) and the `/_sim` control endpoints."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import BodyPartReader, web

from .entities import new_id
from .errors import bad_params, resource_not_found
from .generation import send_body
from .helpers import account_of, as_int, dumps, read_json, reply, state_of
from .state import FileUpload

routes = web.RouteTableDef()


@routes.get("/api/account/info")
async def account_info(request: web.Request) -> web.Response:
    """Account, balances and quotas, under top-level `user` (§13)."""
    return reply(extra={"user": account_of(request).info_json()})


@routes.get("/sim-storage/{path:.+}")
async def storage_file(request: web.Request) -> web.StreamResponse:
    """Serve a stored file without auth (the fake CDN)."""
    state = state_of(request)
    stored = await state.storage.get(request.match_info["path"])
    if stored is None or stored.data is None:
        raise resource_not_found()
    if not stored.content_type.startswith("audio/"):
        return web.Response(body=stored.data, content_type=stored.content_type)
    response = web.StreamResponse(headers={"Content-Type": stored.content_type})
    response.content_length = len(stored.data)
    return await send_body(request, state, response, stored.data)


# --- file management (§18, PC-27) -------------------------------------------------------


@routes.post("/api/editor/multipartUpload/newFile")
async def new_file(request: web.Request) -> web.Response:
    """Start a pro-clone ZIP upload; only `type: "zip"` is accepted."""
    body = await read_json(request)
    if body.get("type") != "zip":
        raise bad_params("Only zip uploads are supported.")
    upload = FileUpload(id=new_id())
    account_of(request).files[upload.id] = upload
    return reply({"id": upload.id})


async def _multipart_fields(request: web.Request) -> tuple[dict[str, str], bytes | None]:
    """Text fields and the `file` part of a multipart body."""
    if not request.content_type.startswith("multipart/"):
        raise bad_params("Expected multipart/form-data.")
    fields: dict[str, str] = {}
    file_data: bytes | None = None
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            file_data = await part.read(decode=False)
        elif part.name:
            fields[part.name] = await part.text()
    return fields, file_data


@routes.post("/api/editor/multipartUpload/uploadPart")
async def upload_part(request: web.Request) -> web.Response:
    """Store one chunk (`id`, 0-based `index`, `file`)."""
    fields, data = await _multipart_fields(request)
    upload = account_of(request).files.get(fields.get("id", ""))
    if upload is None or upload.finished:
        raise bad_params("Unknown upload id.")
    index = as_int(fields.get("index"), -1)
    if index < 0 or data is None:
        raise bad_params("index and file are required.")
    upload.parts[index] = len(data)
    return reply({"id": upload.id, "index": index})


@routes.post("/api/editor/multipartUpload/finish")
async def finish_upload(request: web.Request) -> web.Response:
    """Close an upload; parts must be 0..n-1 without gaps."""
    body = await read_json(request)
    upload = account_of(request).files.get(str(body.get("id", "")))
    if upload is None:
        raise bad_params("Unknown upload id.")
    if not upload.parts or sorted(upload.parts) != list(range(len(upload.parts))):
        raise bad_params("Upload parts are missing.")
    upload.finished = True
    return reply({"id": upload.id})


@routes.post("/api/editor/upload")
async def simple_upload(request: web.Request) -> web.Response:
    """Single-request upload of a `file`; returns `{id, url}`."""
    state = state_of(request)
    _, data = await _multipart_fields(request)
    if not data:
        raise bad_params("file is required.")
    upload = FileUpload(id=new_id(), parts={0: len(data)}, finished=True)
    account_of(request).files[upload.id] = upload
    url = state.storage.put(f"upload/{upload.id}", data, "application/octet-stream")
    return reply({"id": upload.id, "url": url})


# --- control endpoints ---------------------------------------------------------------------


@routes.post("/_sim/faults")
async def set_faults(request: web.Request) -> web.Response:
    """Set fault knobs, credits or clear the log from another process."""
    state = state_of(request)
    body = await read_json(request)
    try:
        state.faults.apply(body)
        credits = body.get("credits")
        if isinstance(credits, dict):
            account = state.account(str(credits["key"]))
            account.credit = float(credits.get("credit", 0))
            account.bonus_credit = float(credits.get("bonus", 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_params(f"Bad fault specification: {exc}") from exc
    if body.get("clear"):
        state.faults.clear()
    if body.get("reset_log"):
        state.request_log.clear()
    return web.json_response(state.faults.snapshot(), dumps=dumps)


@routes.get("/_sim/faults")
async def get_faults(request: web.Request) -> web.Response:
    """The current knobs."""
    return web.json_response(state_of(request).faults.snapshot(), dumps=dumps)


@routes.get("/_sim/log")
async def get_log(request: web.Request) -> web.Response:
    """The request log (optionally `?api_key=`), with the generation count."""
    state = state_of(request)
    key = request.query.get("api_key")
    records: list[dict[str, Any]] = [
        asdict(r) for r in state.request_log if key is None or r.api_key == key
    ]
    body = {"records": records, "generation_calls": state.generation_calls(key)}
    return web.json_response(body, dumps=dumps)


@routes.delete("/_sim/log")
async def clear_log(request: web.Request) -> web.Response:
    """Forget the request log."""
    state_of(request).request_log.clear()
    return web.json_response({"status": 200})
