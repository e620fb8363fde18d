"""Update handlers: every command and every button press goes to `bot.router.dispatch`."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from dataclasses import dataclass, field

from telegram import Bot, CallbackQuery, Chat, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from adapters.telegram_app import keyboards
from adapters.telegram_app.attachments import attachments_of
from adapters.telegram_app.context import TelegramContext
from adapters.telegram_app.delivery import Target
from adapters.telegram_app.keyboards import Interactions
from bot.app import App
from bot.registry import REGISTRY, ArgKind
from bot.router import Invocation, dispatch

log = logging.getLogger(__name__)

RUNTIME = "vocu"  # key of the Runtime in application.bot_data
ADMIN_TTL = 60.0  # seconds a getChatMember answer is trusted
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+|$)(.*)", re.DOTALL)
_ADMIN = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


def parse_command(text: str, username: str | None) -> tuple[str, str, bool] | None:
    """(command, raw argument text, addressed with @username) or None if not for this bot."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    name, suffix, rest = match.groups()
    if suffix and (not username or suffix.lower() != username.lower()):
        return None  # "/say@other_bot": someone else's command
    return name.lower(), rest.strip(), suffix is not None


def has_secret(command: str) -> bool:
    """Whether the command takes an argument that must never be typed in a group."""
    cmd = REGISTRY.get(command)
    return cmd is not None and any(a.kind is ArgKind.SECRET for a in cmd.args)


@dataclass
class Runtime:
    """What the handlers share: the core App and the keyboards of this bot."""

    app: App
    ui: Interactions = field(default_factory=Interactions)
    _admins: dict[tuple[int, int], tuple[float, bool]] = field(default_factory=dict)

    async def is_admin(self, bot: Bot, chat: Chat, user: User, message: Message | None) -> bool:
        """True in private chats; in groups, an administrator or the owner (cached briefly)."""
        if chat.type == ChatType.PRIVATE:
            return True
        if message is not None and message.sender_chat and message.sender_chat.id == chat.id:
            return True  # an anonymous admin posting as the group
        key, now = (chat.id, user.id), time.monotonic()
        cached = self._admins.get(key)
        if cached and now - cached[0] < ADMIN_TTL:
            return cached[1]
        try:
            member = await bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:
            log.info("getChatMember failed: %s", type(exc).__name__)
            return False
        if len(self._admins) > 10_000:
            self._admins.clear()
        self._admins[key] = (now, member.status in _ADMIN)
        return member.status in _ADMIN

    async def context(
        self, bot: Bot, chat: Chat, user: User, *, message: Message | None, reply_to: int | None
    ) -> TelegramContext:
        """A ChatContext for `user` in `chat`, replying to `reply_to`."""
        return TelegramContext(
            self.app,
            self.ui,
            Target(bot, chat.id, reply_to),
            user_id=user.id,
            language_code=user.language_code,
            is_private=chat.type == ChatType.PRIVATE,
            is_admin=await self.is_admin(bot, chat, user, message),
            bot_username=bot.username,
        )


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The Runtime stored in bot_data at build time."""
    rt: Runtime = context.bot_data[RUNTIME]
    return rt


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command, typed or as the caption of a file, with @botname in groups."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    parsed = parse_command(message.text or message.caption or "", context.bot.username)
    if parsed is None:
        return
    name, rest, addressed = parsed
    private = chat.type == ChatType.PRIVATE
    if name not in REGISTRY and not private and not addressed:
        return  # in a group an unknown bare command may belong to another bot
    if not private and has_secret(name):
        with contextlib.suppress(TelegramError):  # needs "delete messages" rights
            await message.delete()
    rt = runtime(context)
    ctx = await rt.context(context.bot, chat, user, message=message, reply_to=message.message_id)
    files = attachments_of(context.bot, message)
    await dispatch(rt.app, ctx, Invocation(command=name, text=rest, attachments=files))


async def _answer(query: CallbackQuery) -> None:
    with contextlib.suppress(TelegramError):  # too old or already answered: nothing to do
        await query.answer()


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button: answer a confirmation, or run a picker's command as the user who tapped."""
    query = update.callback_query
    if query is None:
        return
    rt = runtime(context)
    kind, token, value = keyboards.parse(query.data)
    user_id = str(query.from_user.id)
    await _answer(query)  # at once: the client shows a spinner until then
    if kind == keyboards.CONFIRM:
        rt.ui.answer(token, user_id, value)
        return
    picked = rt.ui.picked(token, value) if kind == keyboards.PICK else None
    if picked is None or picked[0] != user_id or query.message is None:
        return  # expired, someone else's picker, or an inline message
    name, _, rest = picked[1].partition(" ")
    chat = query.message.chat
    ctx = await rt.context(context.bot, chat, query.from_user, message=None, reply_to=None)
    await dispatch(rt.app, ctx, Invocation(command=name, text=rest))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Errors outside dispatch (network while polling…): log them; never the token."""
    log.error("telegram handler error: %s", type(context.error).__name__, exc_info=context.error)
