"""A fake Telegram Bot API server (aiohttp on 127.0.0.1) for driving a real PTB Application.

Usage::

    server = FakeTelegramServer()
    await server.start()
    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.file_base_url)
        .build()
    )
    ...
    server.push_message(chat_id=1, user_id=1, text="/start")
    [call] = await server.wait_for("sendMessage")
    await server.stop()

Bot API methods live in :mod:`tests.fakes.telegram_methods`, update injection
(``push_*``/``make_update_*``) in :mod:`tests.fakes.telegram_updates`; object builders and the
``Call``/``UploadedFile``/``FileSpec`` data classes in :mod:`tests.fakes.telegram_objects`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import time
from collections import deque
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.telegram_methods import BotApiMethods
from tests.fakes.telegram_objects import (
    MAX_DOWNLOAD_SIZE,
    MEDIA_KINDS,
    MISSING,
    ApiError,
    Call,
    FileSpec,
    StoredFile,
    UploadedFile,
    as_int,
    bot_user,
    extension_for,
    make_chat,
    make_user,
    parse_value,
    probe_duration,
    probe_image_size,
    scope_key,
)
from tests.fakes.telegram_updates import UpdateInjection

__all__ = ["ApiError", "Call", "FakeTelegramServer", "FileSpec", "UploadedFile"]

DEFAULT_TOKEN = "4242:FAKE-test-token_abcdefghijklmnopqrstuv"


class FakeTelegramServer(UpdateInjection, BotApiMethods):
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "vocu_test_bot",
        max_download_size: int = MAX_DOWNLOAD_SIZE,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot = bot_user(bot_username)
        self.max_download_size = max_download_size
        self.port = 0

        self.calls: list[Call] = []
        # Bot-side state, inspectable by tests.
        self.webhook: dict[str, Any] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.inline_messages: dict[str, dict[str, Any]] = {}

        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._last_message_id: dict[int | str, int] = {}
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._failures: dict[str, deque[ApiError]] = {}
        self._voice_forbidden: set[int | str] = set()
        self._blocked: set[int | str] = set()
        self._started: set[int | str] = set()  # users who wrote to the bot in a private chat
        self._members: dict[tuple[int | str, int], str] = {}
        self._open_queries: set[str] = set()
        self._poll_generation = 0
        self._closing = False
        self._updates_changed = asyncio.Event()
        self._calls_changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def polls_started(self) -> int:
        """getUpdates calls begun so far (a long poll is recorded in `calls` only once answered)."""
        return self._poll_generation

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a long poll whose client went away (PTB cancels its
        # polling task on stop) is cancelled instead of lingering until its timeout.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._notify_updates()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ recording

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls of ``method`` (case-insensitive); ``ok`` filters on success/failure."""
        name = method.lower()
        return [c for c in self.calls if c.method.lower() == name and (ok is None or c.ok is ok)]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the helper's agreed API
        *,
        ok: bool | None = None,
    ) -> list[Call]:
        """Wait until at least ``count`` calls of ``method`` were answered; returns them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._calls_changed
            calls = self.calls_to(method, ok=ok)
            if len(calls) >= count:
                return calls
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [c.method for c in self.calls if c.method.lower() != "getupdates"]
                raise TimeoutError(
                    f"expected {count} call(s) to {method}, got {len(calls)}; calls: {seen}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        event, self._calls_changed = self._calls_changed, asyncio.Event()
        event.set()

    # ------------------------------------------------------------ fault knobs

    def fail_next(
        self,
        method: str,
        n: int = 1,
        error_code: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = 1,
    ) -> None:
        """The next ``n`` calls of ``method`` answer this error (``retry_after`` only on 429)."""
        queue = self._failures.setdefault(method.lower(), deque())
        for _ in range(n):
            queue.append(
                ApiError(error_code, description, retry_after if error_code == 429 else None)
            )

    def forbid_voice(self, chat_id: int | str) -> None:
        """sendVoice to this chat answers 400 VOICE_MESSAGES_FORBIDDEN."""
        self._voice_forbidden.add(chat_id)

    def open_private_chat(self, user_id: int) -> None:
        """The user has pressed Start in a private chat with the bot before: it may write there.
        (A private chat the user never opened answers 403, as Telegram does.)"""
        self._started.add(user_id)

    def block_chat(self, chat_id: int | str) -> None:
        """Every send/edit to this chat answers 403 "bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def set_member_status(self, chat_id: int | str, user_id: int, status: str) -> None:
        """creator|administrator|member|restricted|left|kicked (default: member)."""
        self._members[(chat_id, user_id)] = status

    # ------------------------------------------------------------ inspection

    def get_message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        return self._messages.get((chat_id, message_id))

    def bot_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Messages (currently existing) sent by the bot, optionally in one chat."""
        return [
            m
            for (cid, _), m in self._messages.items()
            if m["from"]["id"] == self.bot["id"] and (chat_id is None or cid == chat_id)
        ]

    def get_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]] | None:
        return self.commands.get(scope_key(scope, language_code))

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Queued updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    # ------------------------------------------------------------ files

    def add_file(
        self,
        data: bytes,
        *,
        mime_type: str,
        file_name: str | None = None,
        duration: int | None = None,
        width: int | None = None,
        height: int | None = None,
        file_size: int | None = None,
    ) -> FileSpec:
        """A file the user "sent"; ``file_size`` overrides the reported size (e.g. > 20 MB)."""
        if mime_type == "audio/ogg":
            kind = "voice"
        elif mime_type.startswith("audio/"):
            kind = "audio"
        elif mime_type.startswith("image/"):
            kind = "photo"
        elif mime_type.startswith("video/"):
            kind = "video"
        else:
            kind = "document"
        return self._register_file(
            kind,
            data,
            mime_type=mime_type,
            file_name=file_name,
            duration=duration,
            width=width,
            height=height,
            size=file_size,
        ).spec

    def _register_file(
        self,
        kind: str,
        data: bytes,
        *,
        mime_type: str | None,
        file_name: str | None = None,
        duration: int | None = None,
        width: int | None = None,
        height: int | None = None,
        size: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> StoredFile:
        n = next(self._file_ids)
        digest = hashlib.sha1(data + str(n).encode()).hexdigest()
        if duration is None and mime_type and mime_type.split("/")[0] in ("audio", "video"):
            duration = probe_duration(data)
        if (width is None or height is None) and kind == "photo":
            width, height = probe_image_size(data) or (width, height)
        spec = FileSpec(
            file_id=f"FAKE{kind.upper()}-{n:05d}-{digest[:16]}",
            file_unique_id=f"U{n:05d}{digest[16:24]}",
            size=len(data) if size is None else size,
            mime_type=mime_type,
            file_name=file_name,
            duration=duration,
            width=width,
            height=height,
        )
        directory = MEDIA_KINDS.get(kind, ("documents", ""))[0]
        stored = StoredFile(
            spec, data, f"{directory}/file_{n}.{extension_for(mime_type)}", dict(extra or {})
        )
        self._files[spec.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    # ------------------------------------------------------------ chats / messages

    def _user(
        self,
        user_id: int,
        *,
        username: Any = MISSING,
        first_name: str | None = None,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        known = self._users.get(user_id, {})
        if username is MISSING:
            username = known.get("username", f"user{user_id}")
        user = make_user(
            user_id,
            username=username,
            first_name=first_name or known.get("first_name"),
            language_code=language_code,
        )
        self._users[user_id] = user
        return user

    def _chat(
        self,
        chat_id: int | str,
        chat_type: str | None = None,
        user: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None or (chat_type and chat["type"] != chat_type):
            if chat_type is None:
                is_user = isinstance(chat_id, int) and chat_id > 0
                chat_type = "private" if is_user else "supergroup"
                user = user or (self._users.get(chat_id) if isinstance(chat_id, int) else None)
            chat = make_chat(chat_id, chat_type, user)  # type: ignore[arg-type]
            self._chats[chat_id] = chat
        return chat

    def _store_message(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        fields: dict[str, Any],
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        chat_id = chat["id"]
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
        }
        if reply_to is not None:
            replied = self._messages.get((chat_id, reply_to))
            if replied is None:
                raise ValueError(f"message {reply_to} not found in chat {chat_id}")
            # Telegram never nests reply_to_message further.
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        message.update(fields)
        self._messages[(chat_id, message_id)] = message
        return message

    # ------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"]
        if path.startswith("file/bot"):
            return self._serve_file(path.removeprefix("file/bot"))
        if not path.startswith("bot") or "/" not in path:
            return _error(ApiError(404, "Not Found"))
        token, _, method = path.removeprefix("bot").partition("/")
        if token != self.token:
            return _error(ApiError(401, "Unauthorized"))
        params, files = await _read_params(request)
        call = Call(method, params, files, as_int(params.get("chat_id")), time.time())
        try:
            failures = self._failures.get(method.lower())
            if failures:
                raise failures.popleft()
            handler = getattr(self, "api_" + method.lower(), None)
            if handler is None:
                raise ApiError(404, "Not Found")
            call.result = await handler(params, files)
            return web.json_response({"ok": True, "result": call.result})
        except ApiError as exc:
            call.error = exc.payload()
            return _error(exc)
        except asyncio.CancelledError:
            call.error = {"ok": False, "error_code": 499, "description": "client went away"}
            raise
        finally:
            self._record(call)

    def _serve_file(self, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _error(ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(file_path)
        if stored is None:
            return _error(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.spec.mime_type or "application/octet-stream"
        )


def _error(exc: ApiError) -> web.Response:
    return web.json_response(exc.payload(), status=exc.error_code)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
        elif request.content_type == "multipart/form-data":
            # parts read into memory (request.post() spools every file part to a temp file)
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, BodyPartReader)
                if part.filename is not None:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    files[part.name or ""] = UploadedFile(
                        part.filename, content_type, bytes(await part.read())
                    )
                else:
                    raw[part.name or ""] = await part.text()
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value
    return {key: parse_value(key, value) for key, value in raw.items()}, files
