"""Voice styles (`metadata.prompts`): add, delete, transcript, info, default swap, reset."""

from __future__ import annotations

from aiohttp import web

from .entities import Style, Voice, new_id
from .errors import bad_params, resource_not_found
from .helpers import account_of, as_bool, read_json, reply, state_of
from .routes_voices import editable_voice
from .voice_input import check_sample, read_voice_form, store_style


def _target(request: web.Request) -> tuple[Voice, Style]:
    """The editable voice and the (non-deleted) style named in the path."""
    voice = editable_voice(account_of(request), request.match_info["voice_id"])
    style = voice.style(request.match_info["prompt_id"])
    if style is None:
        raise resource_not_found()
    return voice, style


async def add_style(request: web.Request) -> web.Response:
    """Append a style from a sample (≤ 20 MB, ≥ 3 s); returns the voice."""
    state = state_of(request)
    form = await read_voice_form(request)
    voice = editable_voice(account_of(request), request.match_info["voice_id"])
    name = form.fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_params("name is required.")
    upload = form.files.get("prompt")
    duration = await check_sample(state, upload, state.config.style_prompt_max_bytes)
    assert upload is not None  # check_sample refused a missing sample
    style = store_style(state, voice.id, new_id(), name.strip(), upload, duration, form.fields)
    voice.prompts.append(style)
    voice.touch()
    return reply(voice.to_json())


async def delete_style(request: web.Request) -> web.Response:
    """Mark a style deleted (it stays in the array); the default style cannot be deleted."""
    if request.match_info["prompt_id"] == "default":
        editable_voice(account_of(request), request.match_info["voice_id"])
        raise bad_params("The default prompt audio cannot be deleted.")
    voice, style = _target(request)
    style.deleted = True
    voice.touch()
    return reply(voice.to_json())


async def get_stt(request: web.Request) -> web.Response:
    """The style transcript: a string or null, no message."""
    _, style = _target(request)
    return reply(style.transcript, message=False)


async def set_stt(request: web.Request) -> web.Response:
    """Replace the transcript (recomputes `baseSpeechRate`); returns the full voice."""
    body = await read_json(request)
    voice, style = _target(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_params("text is required.")
    style.transcript = text
    voice.touch()
    return reply(voice.to_json(full=True), message=False)


async def style_info(request: web.Request) -> web.Response:
    """Rename (if truthy) and re-describe (always overwritten) a style."""
    body = await read_json(request)
    voice, style = _target(request)
    if body.get("name"):
        style.name = str(body["name"])
    style.description = str(body["description"]) if body.get("description") else None
    voice.touch()
    return reply(voice.to_json(full=True), message=False)


async def set_default(request: web.Request) -> web.Response:
    """The id swap of §14.11: the old default gets a new uuid, the target becomes `default`."""
    voice, style = _target(request)
    if style.id != "default":
        voice.prompts.remove(style)
        for other in voice.prompts:
            if other.id == "default":
                other.id = new_id()
        style.id = "default"
        voice.prompts.insert(0, style)
        voice.touch()
    return reply(voice.to_json(full=True), message=False)


async def reset_style(request: web.Request) -> web.Response:
    """Overwrite `enhance`/`vocalFilter` (omitted = false); unknown style: 200, unchanged."""
    body = await read_json(request)
    voice = editable_voice(account_of(request), request.match_info["voice_id"])
    style = voice.style(request.match_info["prompt_id"])
    if style is not None:
        style.enhance = as_bool(body.get("enhance"))
        style.vocal_filter = as_bool(body.get("vocalFilter"))
        voice.touch()
    return reply(voice.to_json(full=True), message=False)


def build_routes(prefix: str) -> list[web.RouteDef]:
    """The style routes under one path family."""
    base = f"{prefix}/{{voice_id}}/prompt"
    item = f"{base}/{{prompt_id}}"
    return [
        web.post(base, add_style),
        web.delete(item, delete_style),
        web.get(f"{item}/stt", get_stt),
        web.post(f"{item}/stt", set_stt),
        web.post(f"{item}/info", style_info),
        web.post(f"{item}/default", set_default),
        web.post(f"{item}/reset", reset_style),
    ]
