"""Strict validation of async `contents` blocks and the simple splitter (§12.3, PC-13, PC-39)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .audio import Segment, pitch_for, speech_seconds
from .errors import ApiError, contents_invalid
from .generation import LANGUAGES, PRESET_KEYS, count_chars, usable_voice, vc_input_duration
from .state import Account, SimState

_INTERVALS = ("interval", "interval_head", "interval_tail", "interval_range")
TYPE_KEYS: dict[str, frozenset[str]] = {
    name: frozenset([*keys.split(), "type", *_INTERVALS])
    for name, keys in {
        "text": "voiceId text promptId language emo_switch vivid break_clone preset seed "
        "speechRate infinite_mode post_processing gamble instruct_mode reference_mode",
        "audio": "voiceId promptId input_audio speechRate vc_mode high_quality keep_prosody "
        "cover_mode",
        "sfx": "text sfx_length sfx_image sfx_mode",
        "music": "text music_duration music_instrumental music_lyrics music_reference_audio "
        "music_reference_voice music_task_type music_src_audio music_cover_strength",
        "scene": "text language mentions enable_music seed reference_mode",
        "custom_audio": "input_audio",
        "stem_separation": "input_audio",
    }.items()
}
_VC_MODES = frozenset({"standard", "similarity", "prosody", "cover"})
_PLACEHOLDER_HZ = 440.0


@dataclass
class Block:
    """One validated content block: its echo, audio plan, cost and voice."""

    content: dict[str, Any]
    segments: tuple[Segment, ...]
    cost: int
    voice: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _number(item: dict[str, Any], key: str, low: float, high: float) -> float | None:
    """A numeric field within [low, high] (None when absent); TTS_CONTENTS_INVALID otherwise."""
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise contents_invalid(f"Invalid {key}.")
    return float(value)


def _check_text_params(item: dict[str, Any]) -> None:
    """language, emo_switch, preset and seed of a text block."""
    if "language" in item and item["language"] not in LANGUAGES:
        raise contents_invalid("Invalid language.")
    emo = item.get("emo_switch")
    if emo is not None and (
        not isinstance(emo, list)
        or len(emo) != 5
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10 for v in emo)
    ):
        raise contents_invalid("emo_switch must be 5 integers between 0 and 10.")
    if "preset" in item and item["preset"] not in PRESET_KEYS:
        raise contents_invalid("Invalid preset.")
    _number(item, "seed", -1, 2147483647)


def _voice_segment(
    state: SimState, account: Account, item: dict[str, Any], seconds: float
) -> tuple[Segment, dict[str, Any], str]:
    """Resolve the voice and style of a speech block."""
    voice = usable_voice(account, item.get("voiceId"))
    prompt_id = item.get("promptId") or "default"
    if voice.style(str(prompt_id)) is None:
        raise contents_invalid("Unknown promptId.")
    return Segment(pitch_for(voice.id, str(prompt_id)), seconds), voice.to_json(), voice.version


def _text_block(state: SimState, account: Account, item: dict[str, Any]) -> Block:
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "TTS_TEXT_EMPTY")
    cfg = state.config
    if cfg.strict_text and len(text) > cfg.max_text_chars:
        raise ApiError(400, "VALIDATION_TOO_LONG")
    _check_text_params(item)
    rate = _number(item, "speechRate", 0.5, 2.0) or 1.0
    chars = count_chars(text)
    seconds = speech_seconds(chars, cfg.seconds_per_char, rate, cfg.min_audio_seconds)
    segment, voice, version = _voice_segment(state, account, item, seconds)
    if version == "v4.0" and not item.get("instruct_mode"):
        raise ApiError(400, "VOICE_INSTRUCT_PATH_ONLY")
    return Block(item, (segment,), chars, voice)


def _audio_block(state: SimState, account: Account, item: dict[str, Any]) -> Block:
    duration = vc_input_duration(state, account, item.get("input_audio"))
    if duration is None:
        raise contents_invalid("Invalid input_audio.")
    if "vc_mode" in item and item["vc_mode"] not in _VC_MODES:
        raise contents_invalid("Invalid vc_mode.")
    rate = _number(item, "speechRate", 0.5, 2.0) or 1.0
    seconds = round(max(duration * rate, state.config.min_audio_seconds), 2)
    segment, voice, _ = _voice_segment(state, account, item, seconds)
    cost = math.ceil(duration) * state.config.vc_credits_per_second
    return Block(item, (segment,), cost, voice)


def _other_block(state: SimState, account: Account, item: dict[str, Any], kind: str) -> Block:
    """sfx / music / scene / custom_audio / stem_separation: placeholder audio (PC-35)."""
    if kind in ("custom_audio", "stem_separation"):
        duration = vc_input_duration(state, account, item.get("input_audio"))
        if duration is None:
            raise contents_invalid("Invalid input_audio.")
        return Block(item, (Segment(_PLACEHOLDER_HZ, duration),), 0)
    length = _number(item, "sfx_length", 0.5, 30) or _number(item, "music_duration", 1, 600)
    text = item.get("text")
    chars = count_chars(text) if isinstance(text, str) else 0
    return Block(item, (Segment(_PLACEHOLDER_HZ, round(length or 3.0, 2)),), chars)


def parse_block(state: SimState, account: Account, raw: Any) -> Block:
    """Validate one `contents` item and drop the keys its type does not accept."""
    if not isinstance(raw, dict):
        raise contents_invalid("Each contents item must be an object.")
    kind = raw.get("type") or ("audio" if raw.get("input_audio") else "text")
    if kind not in TYPE_KEYS:
        raise contents_invalid("Invalid content type.")
    _number(raw, "mos_score", 0, 5)
    _number(raw, "sfx_length", 0.5, 30)
    item = {k: v for k, v in raw.items() if k in TYPE_KEYS[kind]}
    item["type"] = kind
    if kind == "text":
        return _text_block(state, account, item)
    if kind == "audio":
        return _audio_block(state, account, item)
    return _other_block(state, account, item, kind)


def split_text(text: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    """PC-39: each `<open>name<close>` marker starts an utterance with `config[name]`."""
    fallback = dict(config.get("fallbackConfig") or {})
    marks = config.get("splitterMarks") or ["[]"]
    pattern = "|".join(f"{re.escape(m[0])}([^{re.escape(m[1])}]+){re.escape(m[1])}" for m in marks)
    items: list[dict[str, Any]] = []
    params, position = fallback, 0
    for match in re.finditer(pattern, text):
        chunk = text[position : match.start()].strip()
        if chunk:
            items.append({"type": "text", **params, "text": chunk})
        name = next(group for group in match.groups() if group is not None)
        extra = config.get(name)
        params = {**fallback, **extra} if isinstance(extra, dict) else fallback
        position = match.end()
    chunk = text[position:].strip()
    if chunk:
        items.append({"type": "text", **params, "text": chunk})
    return items


def validate_splitter_config(config: Any) -> dict[str, Any]:
    """§19 config rules; 400 TTS_SPLITTER_INVALID when broken."""
    error = ApiError(400, "TTS_SPLITTER_INVALID", "Invalid splitter configuration.")
    if not isinstance(config, dict):
        raise error
    marks = config.get("splitterMarks", ["[]"])
    if not isinstance(marks, list) or not all(isinstance(m, str) and len(m) == 2 for m in marks):
        raise error
    table = config.get("lookupTable", [])
    if not isinstance(table, list) or not all(
        isinstance(entry, dict) and entry.get("tags") for entry in table
    ):
        raise error
    fallback = config.get("fallbackConfig")
    if not isinstance(fallback, dict) or not fallback.get("voiceId"):
        raise error
    return config
