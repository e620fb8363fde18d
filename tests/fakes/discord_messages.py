"""Message storage/building for the fake Discord server (mixed into FakeDiscordServer):
turns JSON / multipart (payload_json + files[n]) / upload-URL bodies into complete message
objects, validates voice messages (flags 8192) like Discord does, and serves attachment
bytes at CDN-like URLs on the same server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.discord_payloads import (
    MESSAGE_FLAG_VOICE,
    make_dm_channel,
    make_message,
    snowflake,
)

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeDiscordServer, Rec


class ApiError(Exception):
    """Raised by handlers; answered as ``{"code", "message"}`` with ``status``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message}


NO_CONTENT = object()

UNKNOWN_MESSAGE = (404, 10008, "Unknown Message")
UNKNOWN_WEBHOOK = (404, 10015, "Unknown Webhook")


class MessageMixin:
    def _attachments_from(
        self: FakeDiscordServer, channel_id: str, data: dict[str, Any], rec: Rec
    ) -> list[dict[str, Any]]:
        files = {f.field: f for f in rec.files}
        metas = data.get("attachments")
        if metas is None:
            metas = [{"id": i, "filename": f.filename} for i, f in enumerate(rec.files)]
        out = []
        for meta in metas:
            meta_id = str(meta.get("id"))
            upload = meta.get("uploaded_filename")
            if upload is not None:
                if upload not in self.uploads:
                    raise ApiError(400, 50035, f"Invalid Form Body: unknown upload {upload}")
                blob, ctype = self.uploads[upload], meta.get("content_type")
            elif f"files[{meta_id}]" in files:
                f = files[f"files[{meta_id}]"]
                blob, ctype = f.data, f.content_type
            else:
                continue  # reference to an existing attachment (edits) - handled by caller
            if len(blob) > self.max_upload_bytes:
                raise ApiError(413, 40005, "Request entity too large")
            filename = meta.get("filename") or upload or "file"
            att = self.store_cdn(channel_id, blob, filename.rsplit("/", 1)[-1], ctype)
            for key in ("description", "duration_secs", "waveform", "title"):
                if key in meta:
                    att[key] = meta[key]
            if meta.get("is_spoiler"):
                att["filename"] = "SPOILER_" + att["filename"]
            out.append(att)
        return out

    def create_message(
        self: FakeDiscordServer,
        channel_id: str,
        data: dict[str, Any],
        rec: Rec | None,
        *,
        guild_id: str | None = None,
        webhook_id: str | None = None,
        interaction: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        attachments = self._attachments_from(channel_id, data, rec) if rec else []
        flags = int(data.get("flags") or 0)
        if flags & MESSAGE_FLAG_VOICE:
            if channel_id in self.voice_blocked_channels:
                raise ApiError(400, 50173, "Cannot send voice messages in this channel")
            if data.get("content") or data.get("embeds"):
                raise ApiError(400, 50159, "Voice messages do not support additional content.")
            if len(attachments) != 1:
                raise ApiError(400, 50160, "Voice messages must have a single audio attachment.")
            if "duration_secs" not in attachments[0] or "waveform" not in attachments[0]:
                raise ApiError(400, 50161, "Voice messages must have supporting metadata.")
        extra: dict[str, Any] = {}
        if webhook_id is not None:
            extra.update(webhook_id=webhook_id, application_id=self.bot_id)
        if interaction is not None:
            user = interaction.get("member", {}).get("user") or interaction.get("user")
            extra["interaction_metadata"] = {
                "id": interaction["id"],
                "type": interaction["type"],
                "user": user,
                "authorizing_integration_owners": {},
            }
            extra["type"] = 20 if interaction["type"] == 2 else 0
        if data.get("message_reference"):
            extra["message_reference"] = data["message_reference"]
        msg = make_message(
            channel_id,
            self.bot_user,
            data.get("content") or "",
            guild_id=guild_id,
            attachments=attachments,
            embeds=data.get("embeds") or [],
            components=data.get("components") or [],
            flags=flags,
            tts=bool(data.get("tts", False)),
            nonce=data.get("nonce"),
            **extra,
        )
        self.messages[msg["id"]] = msg
        return msg

    def edit_message(
        self: FakeDiscordServer, message_id: str, data: dict[str, Any], rec: Rec | None
    ) -> dict[str, Any]:
        msg = self.messages.get(message_id)
        if msg is None:
            raise ApiError(*UNKNOWN_MESSAGE)
        if msg["flags"] & MESSAGE_FLAG_VOICE and "content" in data and data["content"]:
            raise ApiError(400, 50162, "Voice messages cannot be edited.")
        for key in ("content", "embeds", "components", "flags"):
            if key in data and data[key] is not None:
                msg[key] = data[key]
        if "attachments" in data or (rec and rec.files):
            keep = {str(a.get("id")) for a in data.get("attachments") or []}
            old = [a for a in msg["attachments"] if a["id"] in keep]
            msg["attachments"] = old + (
                self._attachments_from(msg["channel_id"], data, rec) if rec else []
            )
        msg["edited_timestamp"] = msg["timestamp"]
        return msg

    def dm_channel(self: FakeDiscordServer, user_id: str) -> dict[str, Any]:
        if user_id not in self.dm_channels:
            user = self.users.get(user_id) or {
                "id": user_id,
                "username": "user",
                "discriminator": "0",
                "avatar": None,
            }
            self.dm_channels[user_id] = make_dm_channel(snowflake(), user)
        return self.dm_channels[user_id]

    def store_cdn(
        self: FakeDiscordServer,
        channel_id: str,
        blob: bytes,
        filename: str,
        content_type: str | None,
    ) -> dict[str, Any]:
        att_id = snowflake()
        key = f"{channel_id}/{att_id}/{filename}"
        ctype = content_type or "application/octet-stream"
        self.cdn[key] = (blob, ctype)
        url = f"{self.base_url}/cdn/attachments/{key}"
        return {
            "id": att_id,
            "filename": filename,
            "size": len(blob),
            "url": url,
            "proxy_url": url,
            "content_type": ctype,
            "flags": 0,
        }
