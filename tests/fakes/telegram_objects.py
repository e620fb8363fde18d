"""Data classes and Bot API object builders for :mod:`tests.fakes.telegram_server`.

Everything here is plain data: dicts shaped like Bot API JSON objects, which PTB's
``de_json`` accepts (all fields PTB treats as required are always present).
"""

from __future__ import annotations

import contextlib
import io
import json
import mimetypes
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import av
from PIL import Image

BOT_ID = 4242
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MISSING: Any = object()  # sentinel: "argument not given"


class ApiError(Exception):
    """Raised by a method handler; becomes ``{"ok": false, ...}`` with that HTTP status."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class UploadedFile:
    """One multipart file part of a request."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Call:
    """One recorded Bot API request (recorded once it has been answered)."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    chat_id: int | str | None
    time: float
    result: Any = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class FileSpec:
    """A file known to the server; what ``add_file`` returns."""

    file_id: str
    file_unique_id: str
    size: int
    mime_type: str | None = None
    file_name: str | None = None
    duration: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class StoredFile:
    spec: FileSpec
    data: bytes
    file_path: str
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- request params

# Keys whose values are always strings, even when they look like numbers or JSON.
_STRING_KEYS = frozenset(
    {
        "text",
        "caption",
        "query",
        "data",
        "callback_query_id",
        "inline_query_id",
        "description",
        "short_description",
        "name",
        "language_code",
        "url",
        "secret_token",
        "parse_mode",
        "action",
        "next_offset",
        "title",
        "performer",
        "file_name",
        "file_id",
        "inline_message_id",
        "ip_address",
        "message_effect_id",
        "business_connection_id",
    }
)
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+\.\d+")


def parse_value(key: str, value: Any) -> Any:
    """Decode a form/query string value the way the Bot API would interpret it."""
    if not isinstance(value, str) or key in _STRING_KEYS:
        return value
    stripped = value.strip()
    if stripped[:1] in ("{", "[") or stripped in ("true", "false", "null"):
        with contextlib.suppress(ValueError):
            return json.loads(stripped)
    if _INT_RE.fullmatch(stripped):
        return int(stripped)
    if _FLOAT_RE.fullmatch(stripped):
        return float(stripped)
    return value


def as_int(value: Any) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    s = str(value)
    return int(s) if _INT_RE.fullmatch(s) else s


# ---------------------------------------------------------------- objects


def scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
    """Storage key for bot commands: (canonical scope JSON, language code or "")."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""


def bot_user(username: str) -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "Vocu Test Bot", "username": username}


def get_me(username: str) -> dict[str, Any]:
    return {
        **bot_user(username),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": True,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def make_user(
    user_id: int,
    *,
    username: str | None = None,
    first_name: str | None = None,
    language_code: str | None = "en",
) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name or f"User{user_id}",
    }
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def make_chat(chat_id: int, chat_type: str, user: dict[str, Any] | None = None) -> dict[str, Any]:
    if chat_type == "private":
        chat: dict[str, Any] = {"id": chat_id, "type": "private"}
        chat["first_name"] = (user or {}).get("first_name", f"User{chat_id}")
        if user and user.get("username"):
            chat["username"] = user["username"]
        return chat
    return {"id": chat_id, "type": chat_type, "title": f"Test {chat_type} {chat_id}"}


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,})?")


def command_entities(text: str | None) -> list[dict[str, Any]]:
    """A ``bot_command`` entity for a leading ``/command`` or ``/command@botname``."""
    if not text:
        return []
    match = _COMMAND_RE.match(text)
    if not match:
        return []
    # Entity offsets/lengths are measured in UTF-16 code units; commands are ASCII.
    return [{"type": "bot_command", "offset": 0, "length": match.end()}]


def chat_member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember object with every field PTB requires for ``status``."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            dict.fromkeys(
                (
                    "can_be_edited",
                    "is_anonymous",
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_promote_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                ),
                False,
            )
        )
        member.update(can_manage_chat=True, can_delete_messages=True, can_invite_users=True)
    elif status == "restricted":
        member.update(
            dict.fromkeys(
                (
                    "is_member",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_send_messages",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_manage_topics",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_edit_tag",
                ),
                False,
            )
        )
        member.update(is_member=True, until_date=0)
    elif status == "kicked":
        member["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"unknown chat member status {status!r}")
    return member


# ---------------------------------------------------------------- media

# kind -> (directory in file_path, default mime type)
MEDIA_KINDS: dict[str, tuple[str, str]] = {
    "voice": ("voice", "audio/ogg"),
    "audio": ("music", "audio/mpeg"),
    "document": ("documents", "application/octet-stream"),
    "photo": ("photos", "image/jpeg"),
    "video_note": ("video_notes", "video/mp4"),
    "video": ("videos", "video/mp4"),
    "animation": ("animations", "video/mp4"),
}
_EXTENSIONS = {
    "audio/ogg": "oga",
    "audio/opus": "opus",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "image/jpeg": "jpg",
    "image/png": "png",
    "video/mp4": "mp4",
}


def extension_for(mime_type: str | None) -> str:
    if not mime_type:
        return "bin"
    ext = _EXTENSIONS.get(mime_type) or mimetypes.guess_extension(mime_type, strict=False)
    return (ext or "bin").lstrip(".")


def media_object(kind: str, spec: FileSpec, extra: dict[str, Any] | None = None) -> Any:
    """The Voice/Audio/Document/PhotoSize list/VideoNote object for a message."""
    base: dict[str, Any] = {"file_id": spec.file_id, "file_unique_id": spec.file_unique_id}
    base["file_size"] = spec.size
    if kind == "photo":
        base.update(width=spec.width or 1, height=spec.height or 1)
        return [base]
    if kind == "video_note":
        base.update(length=spec.width or 240, duration=spec.duration or 0)
        return base
    if kind in ("voice", "audio", "video", "animation"):
        base["duration"] = spec.duration or 0
    if kind in ("video", "animation"):
        base.update(width=spec.width or 1, height=spec.height or 1)
    if spec.mime_type:
        base["mime_type"] = spec.mime_type
    if spec.file_name and kind != "voice":
        base["file_name"] = spec.file_name
    base.update(extra or {})
    return base


def probe_duration(data: bytes) -> int | None:
    """Duration in whole seconds via PyAV, or None when the bytes aren't decodable media."""
    if not data:
        return None
    try:
        with av.open(io.BytesIO(data)) as container:
            if container.duration:
                return round(container.duration / av.time_base)
            for stream in container.streams:
                if stream.duration and stream.time_base:
                    return round(float(stream.duration * stream.time_base))
    except Exception:
        return None
    return None


def probe_image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:
        return None


# ---------------------------------------------------------------- text


class _TagStripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(text: str, parse_mode: str | None) -> str:
    """What Telegram stores as message text: HTML markup is stripped, others kept verbatim."""
    if not parse_mode or parse_mode.lower() != "html":
        return text
    stripper = _TagStripper()
    stripper.feed(text)
    stripper.close()
    return "".join(stripper.parts)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
