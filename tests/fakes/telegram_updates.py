"""Update injection (``push_*`` / ``make_update_*``) and the webhook poster, mixed into
:class:`tests.fakes.telegram_server.FakeTelegramServer`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp

from tests.fakes.telegram_objects import MISSING, FileSpec, command_entities, media_object

if TYPE_CHECKING:
    from tests.fakes.telegram_server import FakeTelegramServer


class UpdateInjection:
    # ------------------------------------------------------------ update injection

    def _new_update(self: FakeTelegramServer, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), kind: payload}

    def _queue(self: FakeTelegramServer, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._notify_updates()

    def _notify_updates(self) -> None:
        event, self._updates_changed = self._updates_changed, asyncio.Event()
        event.set()

    def queue_update(self: FakeTelegramServer, update: dict[str, Any]) -> None:
        """Queue an arbitrary (e.g. ``make_update_*``-built) update for getUpdates."""
        self._queue(update)

    def make_update_message(
        self: FakeTelegramServer,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        *,
        caption: str | None = None,
        chat_type: str = "private",
        voice: FileSpec | None = None,
        audio: FileSpec | None = None,
        document: FileSpec | None = None,
        photo: FileSpec | None = None,
        video_note: FileSpec | None = None,
        reply_to_message_id: int | None = None,
        language_code: str | None = "en",
        username: Any = MISSING,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """Store a user message and return ``{"update_id", "message"}`` without queuing it."""
        user = self._user(
            user_id, username=username, first_name=first_name, language_code=language_code
        )
        chat = self._chat(chat_id, chat_type, user)
        if chat_type == "private":
            self._started.add(chat_id)  # from now on the bot may write to this user
        fields: dict[str, Any] = {}
        if text is not None:
            fields["text"] = text
            if entities := command_entities(text):
                fields["entities"] = entities
        media = {
            "voice": voice,
            "audio": audio,
            "document": document,
            "photo": photo,
            "video_note": video_note,
        }
        for kind, spec in media.items():
            if spec is not None:
                fields[kind] = media_object(kind, spec)
        if caption is not None:
            fields["caption"] = caption
            if entities := command_entities(caption):
                fields["caption_entities"] = entities
        message = self._store_message(chat, user, fields, reply_to_message_id)
        return self._new_update("message", message)

    def push_message(
        self: FakeTelegramServer, chat_id: int, user_id: int, text: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Queue a user message (same arguments as make_update_message); returns the Message."""
        update = self.make_update_message(chat_id, user_id, text, **kwargs)
        self._queue(update)
        return update["message"]

    def make_update_callback_query(
        self: FakeTelegramServer,
        chat_id: int | None,
        user_id: int,
        message_id: int | None,
        data: str,
        *,
        inline_message_id: str | None = None,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        user = self._user(user_id, language_code=language_code)
        query_id = str(next(self._query_ids) * 1000 + user_id)
        query: dict[str, Any] = {
            "id": query_id,
            "from": user,
            "chat_instance": str(abs(hash((chat_id, self.token))) % 10**18),
            "data": data,
        }
        if inline_message_id is not None:
            query["inline_message_id"] = inline_message_id
        if chat_id is not None and message_id is not None:
            message = self._messages.get((chat_id, message_id))
            # Unknown/deleted messages arrive as InaccessibleMessage (date 0).
            query["message"] = message or {
                "chat": self._chat(chat_id),
                "message_id": message_id,
                "date": 0,
            }
        self._open_queries.add(query_id)
        return self._new_update("callback_query", query)

    def push_callback_query(
        self, chat_id: int | None, user_id: int, message_id: int | None, data: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Queue a button press; returns the CallbackQuery (its ``id`` is answerable)."""
        update = self.make_update_callback_query(chat_id, user_id, message_id, data, **kwargs)
        self._queue(update)
        return update["callback_query"]

    def make_update_inline_query(
        self: FakeTelegramServer,
        user_id: int,
        query: str,
        offset: str = "",
        *,
        chat_type: str | None = "sender",
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        user = self._user(user_id, language_code=language_code)
        query_id = str(next(self._query_ids) * 1000 + user_id)
        inline: dict[str, Any] = {"id": query_id, "from": user, "query": query, "offset": offset}
        if chat_type:
            inline["chat_type"] = chat_type
        self._open_queries.add(query_id)
        return self._new_update("inline_query", inline)

    def push_inline_query(
        self, user_id: int, query: str, offset: str = "", **kwargs: Any
    ) -> dict[str, Any]:
        update = self.make_update_inline_query(user_id, query, offset, **kwargs)
        self._queue(update)
        return update["inline_query"]

    def make_update_chosen_inline_result(
        self: FakeTelegramServer,
        user_id: int,
        result_id: str,
        query: str,
        inline_message_id: str | None = None,
        *,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        user = self._user(user_id, language_code=language_code)
        chosen: dict[str, Any] = {"result_id": result_id, "from": user, "query": query}
        if inline_message_id is not None:
            chosen["inline_message_id"] = inline_message_id
            self.inline_messages.setdefault(
                inline_message_id, {"result_id": result_id, "query": query, "edits": []}
            )
        return self._new_update("chosen_inline_result", chosen)

    def push_chosen_inline_result(
        self: FakeTelegramServer,
        user_id: int,
        result_id: str,
        query: str,
        inline_message_id: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        update = self.make_update_chosen_inline_result(
            user_id, result_id, query, inline_message_id, **kwargs
        )
        self._queue(update)
        return update["chosen_inline_result"]

    async def post_update_to(
        self, url: str, update: dict[str, Any], secret_token: str | None = None
    ) -> int:
        """POST an update to a webhook like Telegram does; returns the HTTP status."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=update, headers=headers) as resp,
        ):
            await resp.read()
            return resp.status
