"""Bot API method implementations, mixed into :class:`FakeTelegramServer`.

Each ``api_<lowercased method name>(params, files)`` returns the ``result`` or raises
:class:`ApiError`. Attribute state lives on the server (see ``FakeTelegramServer.__init__``).
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from tests.fakes.telegram_objects import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    MEDIA_KINDS,
    ApiError,
    FileSpec,
    UploadedFile,
    as_int,
    bad_request,
    chat_member,
    get_me,
    make_user,
    media_object,
    plain_text,
    scope_key,
    utf16_len,
)

if TYPE_CHECKING:
    from tests.fakes.telegram_server import FakeTelegramServer

Params = dict[str, Any]
Files = dict[str, UploadedFile]

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_MEDIA_KEYS = ("text", "voice", "audio", "document", "photo", "video_note", "video", "animation")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_INVALID_QUERY = "query is too old and response timeout expired or query ID is invalid"


class BotApiMethods:
    # ------------------------------------------------------------ helpers

    def _target_chat(self: FakeTelegramServer, params: Params) -> int | str:
        chat_id = as_int(params.get("chat_id"))
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            raise bad_request("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id > 0 and chat_id not in self._started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _find_message(
        self: FakeTelegramServer, params: Params, what: str = "edit"
    ) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        message = self._messages.get((chat_id, as_int(params.get("message_id"))))  # type: ignore[arg-type]
        if message is None:
            raise bad_request(f"message to {what} not found")
        return message

    def _known_user(self: FakeTelegramServer, user_id: int) -> dict[str, Any]:
        if user_id == self.bot["id"]:
            return self.bot
        return self._users.get(user_id) or make_user(user_id)

    def _inline_message(self: FakeTelegramServer, params: Params) -> dict[str, Any] | None:
        inline_id = params.get("inline_message_id")
        if not inline_id:
            return None
        if inline_id not in self.inline_messages:
            raise bad_request("MESSAGE_ID_INVALID")
        return self.inline_messages[inline_id]

    def _bot_message(
        self: FakeTelegramServer, chat_id: int | str, params: Params, fields: dict[str, Any]
    ) -> dict[str, Any]:
        reply_to = as_int(params.get("reply_to_message_id"))
        reply_params = params.get("reply_parameters")
        allow_without = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply_params, dict):
            reply_to = as_int(reply_params.get("message_id"))
            allow_without = bool(reply_params.get("allow_sending_without_reply", allow_without))
        if reply_to is not None and (chat_id, reply_to) not in self._messages:
            if not allow_without:
                raise bad_request("message to be replied not found")
            reply_to = None
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            fields["reply_markup"] = markup
        return self._store_message(self._chat(chat_id), self.bot, fields, reply_to)  # type: ignore[arg-type]

    def _caption(self, params: Params) -> str | None:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None
        caption = plain_text(str(caption), params.get("parse_mode"))
        if utf16_len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        return caption

    def _resolve_file(
        self: FakeTelegramServer, kind: str, value: Any, files: Files, params: Params
    ) -> FileSpec:
        """An uploaded part, ``attach://name``, a known file_id or an http(s) URL."""
        default_mime = MEDIA_KINDS[kind][1]
        upload: UploadedFile | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request("can't parse InputMedia: media not found")
        elif value is None:
            upload = files.get(kind)
            if upload is None:
                raise bad_request(f"there is no {kind} in the request")
        if upload is not None:
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = default_mime
            elif kind in ("voice", "audio") and not mime.startswith("audio/"):
                mime = default_mime
            return self._register_file(
                kind,
                upload.data,
                mime_type=mime,
                file_name=upload.filename if kind in ("audio", "document") else None,
                duration=as_int(params.get("duration")),  # type: ignore[arg-type]
            ).spec
        if isinstance(value, str) and value in self._files:
            return self._files[value].spec
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or None
            return self._register_file(kind, b"", mime_type=default_mime, file_name=name).spec
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def _send_media(
        self: FakeTelegramServer, kind: str, params: Params, files: Files
    ) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        if kind == "voice" and chat_id in self._voice_forbidden:
            raise bad_request("VOICE_MESSAGES_FORBIDDEN")
        spec = self._resolve_file(kind, params.get(kind), files, params)
        extra = {k: params[k] for k in ("title", "performer") if kind == "audio" and k in params}
        fields: dict[str, Any] = {kind: media_object(kind, spec, extra)}
        if (caption := self._caption(params)) is not None:
            fields["caption"] = caption
        return self._bot_message(chat_id, params, fields)

    # ------------------------------------------------------------ bot / updates

    async def api_getme(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return get_me(self.bot_username)

    async def api_getupdates(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        self._check_no_webhook()
        offset = as_int(params.get("offset")) or 0
        if isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        limit = max(1, min(100, as_int(params.get("limit")) or 100))  # type: ignore[type-var]
        allowed = params.get("allowed_updates") or None
        timeout = float(params.get("timeout") or 0)

        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._updates_changed
            ready = [u for u in self._updates if not allowed or any(k in u for k in allowed)]
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._closing:
                return ready[:limit]
            self._check_no_webhook()
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    def _check_no_webhook(self: FakeTelegramServer) -> None:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )

    async def api_setwebhook(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {k: v for k, v in params.items() if k != "drop_pending_updates"}
        self._notify_updates()  # a pending long poll answers 409
        return True

    async def api_deletewebhook(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {}
        return True

    async def api_getwebhookinfo(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": "certificate" in files,
            "pending_update_count": len(self._updates),
        }
        for key in ("max_connections", "allowed_updates", "ip_address"):
            if key in self.webhook:
                info[key] = self.webhook[key]
        return info

    async def api_close(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return True

    async def api_logout(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return True

    # ------------------------------------------------------------ commands / descriptions

    async def api_setmycommands(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        key = scope_key(params.get("scope"), params.get("language_code"))
        self.commands[key] = commands
        return True

    async def api_getmycommands(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return self.commands.get(scope_key(params.get("scope"), params.get("language_code")), [])

    async def api_deletemycommands(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        self.commands.pop(scope_key(params.get("scope"), params.get("language_code")), None)
        return True

    async def api_setmydescription(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        self.descriptions[params.get("language_code") or ""] = params.get("description") or ""
        return True

    async def api_getmydescription(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return {"description": self.descriptions.get(params.get("language_code") or "", "")}

    async def api_setmyshortdescription(
        self: FakeTelegramServer, params: Params, files: Files
    ) -> Any:
        lang = params.get("language_code") or ""
        self.short_descriptions[lang] = params.get("short_description") or ""
        return True

    async def api_getmyshortdescription(
        self: FakeTelegramServer, params: Params, files: Files
    ) -> Any:
        lang = params.get("language_code") or ""
        return {"short_description": self.short_descriptions.get(lang, "")}

    async def api_setmyname(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        self.names[params.get("language_code") or ""] = params.get("name") or ""
        return True

    async def api_getmyname(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        default = self.bot["first_name"]
        return {"name": self.names.get(params.get("language_code") or "", default)}

    # ------------------------------------------------------------ messages

    async def api_sendmessage(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        chat_id = self._target_chat(params)
        text = plain_text(str(params.get("text") or ""), params.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        return self._bot_message(chat_id, params, {"text": text})

    async def api_editmessagetext(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        text = plain_text(str(params.get("text") or ""), params.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        if (inline := self._inline_message(params)) is not None:
            inline["edits"].append({"method": "editMessageText", **params})
            inline["text"] = text
            return True
        message = self._find_message(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(message, {"text": text}, params)

    async def api_editmessagecaption(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        caption = self._caption(params)
        if (inline := self._inline_message(params)) is not None:
            inline["edits"].append({"method": "editMessageCaption", **params})
            return True
        message = self._find_message(params)
        return self._apply_edit(message, {"caption": caption}, params)

    async def api_editmessagereplymarkup(
        self: FakeTelegramServer, params: Params, files: Files
    ) -> Any:
        if (inline := self._inline_message(params)) is not None:
            inline["edits"].append({"method": "editMessageReplyMarkup", **params})
            inline["reply_markup"] = params.get("reply_markup")
            return True
        message = self._find_message(params)
        return self._apply_edit(message, {}, params)

    def _apply_edit(
        self: FakeTelegramServer, message: dict[str, Any], fields: dict[str, Any], params: Params
    ) -> dict[str, Any]:
        markup = params.get("reply_markup")
        new_markup = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        changed = any(message.get(k) != v for k, v in fields.items())
        if not changed and message.get("reply_markup") != new_markup:
            changed = True
        if not changed:
            raise bad_request(_NOT_MODIFIED)
        for key, value in fields.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new_markup
        message["edit_date"] = message["date"] + 1
        return message

    async def api_editmessagemedia(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") not in MEDIA_KINDS:
            raise bad_request("can't parse InputMedia: unsupported media type")
        kind = media["type"]
        inline = self._inline_message(params)
        value = media.get("media")
        if inline is not None and isinstance(value, str) and value.startswith("attach://"):
            # Bot API: "When an inline message is edited, a new file can't be uploaded".
            raise bad_request("can't upload a new file when editing an inline message")
        spec = self._resolve_file(kind, value, files, media)
        extra = {k: media[k] for k in ("title", "performer") if kind == "audio" and k in media}
        fields: dict[str, Any] = {kind: media_object(kind, spec, extra)}
        caption = self._caption(media)
        if inline is not None:
            inline["edits"].append({"method": "editMessageMedia", **params})
            inline["media"] = {**media, "media": spec.file_id}
            inline["file_id"] = spec.file_id
            return True
        message = self._find_message(params)
        for key in (*_MEDIA_KEYS, "caption"):
            message.pop(key, None)
        fields["caption"] = caption
        return self._apply_edit(message, fields, params)

    async def api_deletemessage(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        message = self._find_message(params, "delete")
        del self._messages[(message["chat"]["id"], message["message_id"])]
        return True

    async def api_sendchataction(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        self._target_chat(params)
        if not params.get("action"):
            raise bad_request("wrong parameter action in request")
        return True

    async def api_sendvoice(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return await self._send_media("voice", params, files)

    async def api_sendaudio(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return await self._send_media("audio", params, files)

    async def api_senddocument(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return await self._send_media("document", params, files)

    async def api_sendphoto(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return await self._send_media("photo", params, files)

    async def api_sendvideonote(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        return await self._send_media("video_note", params, files)

    # ------------------------------------------------------------ queries

    async def api_answercallbackquery(
        self: FakeTelegramServer, params: Params, files: Files
    ) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_queries or query_id in self.callback_answers:
            raise bad_request(_INVALID_QUERY)
        self.callback_answers[query_id] = params
        return True

    async def api_answerinlinequery(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._open_queries or query_id in self.inline_answers:
            raise bad_request(_INVALID_QUERY)
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if any(not 1 <= len(i.encode()) <= 64 for i in ids) or len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_INVALID")
        self.inline_answers[query_id] = params
        return True

    # ------------------------------------------------------------ files / members

    async def api_getfile(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.spec.size > self.max_download_size:
            raise bad_request("file is too big")
        return {
            "file_id": stored.spec.file_id,
            "file_unique_id": stored.spec.file_unique_id,
            "file_size": stored.spec.size,
            "file_path": stored.file_path,
        }

    async def api_getchatmember(self: FakeTelegramServer, params: Params, files: Files) -> Any:
        chat_id = as_int(params.get("chat_id"))
        user_id = as_int(params.get("user_id"))
        if not isinstance(user_id, int):
            raise bad_request("invalid user_id specified")
        status = self._members.get((chat_id, user_id), "member")  # type: ignore[arg-type]
        return chat_member(status, self._known_user(user_id))

    async def api_getchatadministrators(
        self: FakeTelegramServer, params: Params, files: Files
    ) -> Any:
        chat_id = as_int(params.get("chat_id"))
        return [
            chat_member(status, self._known_user(uid))
            for (cid, uid), status in self._members.items()
            if cid == chat_id and status in ("creator", "administrator")
        ]
