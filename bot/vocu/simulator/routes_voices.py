"""Voices: list, create, details, delete, info, avatar, share and byShareId (§14)."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from .entities import HIDDEN_STATUSES, Voice, mono, new_id
from .errors import ApiError, bad_params, missing_field, resource_not_found, voice_not_found
from .helpers import account_of, as_bool, decode_data_url, read_json, reply, state_of
from .state import Account, SimState
from .voice_input import VoiceForm, check_image, check_sample, read_voice_form, store_style

_VERSIONS = frozenset({"v1.0", "v2.0", "v3.0", "v4.0"})


def editable_voice(account: Account, voice_id: str) -> Voice:
    """Shared rules of §14.5: own upload voice, not creating, not failed."""
    voice = account.find_voice(voice_id)
    if voice is None:
        raise voice_not_found()
    if voice.source != "upload":
        raise ApiError(403, "AUTH_FORBIDDEN")
    status = voice.status()
    if status == "creating":
        raise ApiError(409, "VOICE_CREATING")
    if status in ("failed", "lora-failed"):
        raise ApiError(400, "VOICE_CREATE_FAILED")
    return voice


def _listed(voice: Voice, query: Any, show_market: bool) -> bool:
    if voice.source == "market":
        return show_market and query.get("from") not in ("upload", "library")
    source = query.get("from")
    if source in ("upload", "library") and voice.source != source:
        return False
    version = query.get("version")
    if version in _VERSIONS and voice.version != version:
        return False
    return query.get("show") == "full" or voice.status() not in HIDDEN_STATUSES


async def list_voices(request: web.Request) -> web.Response:
    """Own voices (market voices first with `showMarket=true`); not paginated."""
    account = account_of(request)
    show_market = as_bool(request.query.get("showMarket"))
    voices = [v for v in account.voices.values() if _listed(v, request.query, show_market)]
    voices.sort(key=lambda v: v.source != "market")
    return reply([v.to_json() for v in voices])


def _timeline(state: SimState, lora: bool) -> list[tuple[float, str]]:
    """Status schedule of a new voice (PC-41), honouring the stuck/fail knobs."""
    start, span = mono(), state.config.voice_creating_seconds
    faults = state.faults
    if lora:
        if faults.stuck_creating:
            return [(0.0, "lora-awaiting")]
        end = "lora-failed" if faults.fail_voices else "lora-success"
        return [(0.0, "lora-awaiting"), (start + span / 2, "lora-pending"), (start + span, end)]
    if faults.stuck_creating:
        return [(0.0, "creating")]
    return [(0.0, "creating"), (start + span, "failed" if faults.fail_voices else "pending")]


def _check_lora(account: Account, form: VoiceForm, version: str) -> str | None:
    """Validate a professional clone request; returns the lora file id (or None)."""
    lora = form.fields.get("lora")
    if not lora:
        return None
    if version == "v4.0":
        raise bad_params("Professional cloning is not supported on this model version.")
    if form.fields.get("language") in (None, "", "auto"):
        raise bad_params("Professional cloning needs a concrete language.")
    upload = account.files.get(str(lora))
    if upload is None or not upload.finished:
        raise ApiError(400, "VOICE_LORA_ARTIFACT_MISSING", "LoRA artifact missing.")
    if account.lora_quota <= 0:
        raise ApiError(403, "BILLING_QUOTA_EXCEEDED", "No professional clone quota left.")
    return str(lora)


async def create_voice(request: web.Request) -> web.Response:
    """Clone a voice from a sample (JSON data URL or multipart); starts `creating`."""
    state, account = state_of(request), account_of(request)
    form = await read_voice_form(request)
    name = form.fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_params("name is required.")
    version = form.fields.get("modelVersion") or "v3.0"
    if version not in ("v3.0", "v4.0"):
        raise ApiError(400, "VOICE_MODEL_VERSION_INVALID", "Invalid model version.")
    lora = _check_lora(account, form, version)
    duration = await check_sample(
        state, form.files.get("prompt"), state.config.voice_prompt_max_bytes
    )
    voice_id = new_id()
    style = store_style(
        state, voice_id, "default", "Default Style", form.files["prompt"], duration, form.fields
    )
    voice = Voice(
        id=voice_id,
        name=name.strip(),
        user_id=account.id,
        prompts=[style],
        timeline=_timeline(state, lora is not None),
        version=version,
        description=str(form.fields.get("description") or "") or None,
        with_lora=lora is not None,
    )
    if lora is not None:
        account.lora_quota -= 1
    avatar = form.files.get("avatar")
    if avatar is not None and avatar.data:
        check_image(avatar.data)
        voice.avatar = state.storage.put(
            f"avatar/voice/{account.id}/{voice_id}.png", avatar.data, avatar.mime or "image/png"
        )
    account.voices[voice_id] = voice
    return reply(voice.to_json())


async def get_voice(request: web.Request) -> web.Response:
    """Voice details, whatever its status; bare uuids find purchased market voices."""
    voice = account_of(request).find_voice(request.match_info["voice_id"])
    if voice is None:
        raise voice_not_found()
    return reply(voice.to_json())


async def delete_voice(request: web.Request) -> web.Response:
    """Delete an own voice (market ids → 404); no data in the envelope."""
    account = account_of(request)
    voice = account.find_voice(request.match_info["voice_id"])
    if voice is None or voice.source == "market":
        raise voice_not_found()
    del account.voices[voice.id]
    return reply()


async def update_info(request: web.Request) -> web.Response:
    """Rename (if truthy) and re-describe (always overwritten); full voice, no message."""
    account = account_of(request)
    body = await read_json(request)
    voice = editable_voice(account, request.match_info["voice_id"])
    if body.get("name"):
        voice.name = str(body["name"])
    voice.description = str(body["description"]) if body.get("description") else None
    voice.touch()
    return reply(voice.to_json(full=True), message=False)


async def upload_avatar(request: web.Request) -> web.Response:
    """Set `metadata.avatar` from a data URL (≈14 MB cap)."""
    state, account = state_of(request), account_of(request)
    body = await read_json(request)
    voice = account.find_voice(request.match_info["voice_id"])
    if voice is None:
        raise voice_not_found()
    if voice.source != "upload":
        raise ApiError(403, "AUTH_FORBIDDEN")
    value = body.get("avatar")
    if not value:
        raise missing_field("avatar")
    if isinstance(value, str) and len(value) > state.config.avatar_max_chars:
        raise ApiError(413, "UPLOAD_TOO_LARGE")
    mime, data = decode_data_url(value)
    check_image(data)
    path = f"avatar/voice/{account.id}/{voice.id}.png"
    voice.avatar = state.storage.put(path, data, mime or "image/png")
    voice.touch()
    return reply(voice.to_json())


async def share_voice(request: web.Request) -> web.Response:
    """Issue a fresh one-time share id for an own voice (PC-25)."""
    state, account = state_of(request), account_of(request)
    voice = account.find_voice(request.match_info["voice_id"])
    if voice is None or voice.source != "upload":
        raise voice_not_found()
    share_id = new_id()
    state.shares[share_id] = (account.key, voice.id)
    return reply({"shareId": share_id})


async def redeem_share(request: web.Request) -> web.Response:
    """Copy a shared voice into the caller's account; the share id is consumed (PC-26)."""
    state, account = state_of(request), account_of(request)
    body = await read_json(request)
    entry = state.shares.pop(str(body.get("shareId", "")), None)
    owner = state.accounts.get(entry[0]) if entry else None
    source = owner.voices.get(entry[1]) if owner and entry else None
    if source is None:
        raise resource_not_found()
    copy = Voice(
        id=new_id(),
        name=source.name,
        user_id=account.id,
        prompts=[dataclasses.replace(style, flags=list(style.flags)) for style in source.prompts],
        timeline=[(0.0, "pending")],
        version=source.version,
        description=source.description,
        avatar=source.avatar,
        origin_id=source.id,
    )
    account.voices[copy.id] = copy
    return reply(copy.to_json(), extra={"voiceId": copy.id})


def build_routes(prefix: str) -> list[web.RouteDef]:
    """The voice routes under one path family (`/api/voice` or `/api/tts/voice`)."""
    item = f"{prefix}/{{voice_id}}"
    return [
        web.get(prefix, list_voices),
        web.post(prefix, create_voice),
        web.post(f"{prefix}/byShareId", redeem_share),
        web.get(item, get_voice),
        web.delete(item, delete_voice),
        web.post(f"{item}/info", update_info),
        web.post(f"{item}/avatar", upload_avatar),
        web.get(f"{item}/share", share_voice),
    ]
