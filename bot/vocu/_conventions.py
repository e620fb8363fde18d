"""PROJECT CONVENTIONS — every path, field and behaviour the public Vocu docs do not confirm.

Each constant names its convention id from `/work/shared/vocu-api.md` §21 (PC-n). The real
service may differ: if it does, this module is the one place to change. Nothing here is a
secret; nothing here is documented by Vocu.
"""

from __future__ import annotations

from typing import Any, Final

# PC-1: default host and path family (switchable to the deprecated `/api/tts/voice` alias).
DEFAULT_BASE_URL: Final = "https://v1.vocu.ai"
VOICE_PATH: Final = "/api/voice"
VOICE_PATH_LEGACY: Final = "/api/tts/voice"

# PC-3: the request-id header (documented) and the body field that may repeat it.
REQUEST_ID_HEADER: Final = "X-Vocu-App-Request-Id"

# PC-20: regenerate an async task (legacy, experimental).
REGENERATE_PATH: Final = "/api/tts/generate/{task_id}/regenerate"

# PC-22: replay generated audio by its audio id.
REPLAY_PATH: Final = "/api/tts/stream/{audio_id}"

# PC-25 / PC-26: one-time share ids, relative to the voice path family.
SHARE_SUFFIX: Final = "/{voice_id}/share"
BY_SHARE_ID_SUFFIX: Final = "/byShareId"
SHARE_ID_FIELD: Final = "shareId"


def shared_voice_id(body: dict[str, Any]) -> str | None:
    """PC-26: a byShareId answer's voice id: `voiceId`, then `data.voiceId`, then `data.id`."""
    top = body.get("voiceId")
    if isinstance(top, str) and top:
        return top
    data = body.get("data")
    if isinstance(data, dict):
        for key in ("voiceId", "id"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    return None


# PC-27: chunked (pro-clone ZIP) and simple uploads.
NEW_FILE_PATH: Final = "/api/editor/multipartUpload/newFile"
UPLOAD_PART_PATH: Final = "/api/editor/multipartUpload/uploadPart"
FINISH_PATH: Final = "/api/editor/multipartUpload/finish"
SIMPLE_UPLOAD_PATH: Final = "/api/editor/upload"
DEFAULT_CHUNK_SIZE: Final = 5 * 1024 * 1024

# PC-28 .. PC-32: the low-latency ("turbo") WebSocket channel.
TURBO_CHANNEL_PATH: Final = "/api/tts/turbo/channel"
WS_PING_INTERVAL: Final = 25.0  # PC-32: 20–30 s
WS_RETRY_DELAY: Final = 1.0  # PC-30: retry after ~1 s on 503 "not ready"
WS_NOT_READY_STATUS: Final = 503  # PC-30: retry the same wsUrl
WS_GONE_STATUS: Final = 404  # PC-30: reopen the channel
WS_PING_FRAME: Final[dict[str, Any]] = {"type": "ping"}
WS_CLOSE_FRAME: Final[dict[str, Any]] = {"type": "close"}
WS_DEFAULT_PCM: Final[dict[str, int]] = {"sampleRate": 24000, "channels": 1, "bitsPerSample": 16}

# PC-23: fields of the `X-Reecho-Response-Data` stream header (`billing` is opaque).
STREAM_DATA_HEADER: Final = "X-Reecho-Response-Data"
STREAM_AUDIO_ID_HEADER: Final = "X-Reecho-Audio-Id"

# PC-42: the GET stream variant never sends these generation parameters.
GET_STREAM_OMITTED: Final = frozenset({"language", "vivid", "emo_switch"})

# PC-16: preset names accepted besides the documented short names.
PRESET_SHORT: Final = frozenset({"creative", "balance", "stable"})
PRESET_KEY_PATTERN: Final = r"^v[23]_(creative|balance|stable)(_pro)?$"


# PC-10: `speechRate` is a duration multiplier; a friendlier `speed` converts as 1/speed.
def speech_rate_from_speed(speed: float) -> float:
    """PC-10: convert "speed" (2.0 = twice as fast) into the wire's duration multiplier."""
    return 1.0 / speed


# PC-19: page size used when the client pages through lists.
PAGE_SIZE: Final = 20
