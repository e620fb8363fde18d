"""Keeping secrets out of logs: Bot API URLs contain the bot token, and at DEBUG PTB logs every
request and answer in full: message texts too, such as a `/key set <key>` typed by a user."""

from __future__ import annotations

import logging

# PTB's loggers that may see URLs (the Bot logs its API URL at DEBUG when it is created).
# At DEBUG these log full requests, answers and updates (so message texts, so secrets).
_PAYLOAD_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "telegram.ext.Application")
_PTB_LOGGERS = (
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)
MASK = "<bot-token>"


class RedactTokens(logging.Filter):
    """Replace known secrets in a record's message and traceback, freezing the message."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        # Formatted now: PTB logs result dicts it mutates afterwards (getFile's path → URL).
        record.msg, record.args = self._clean(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
        return True


REDACT = RedactTokens()


def protect_logs(token: str) -> None:
    """Silence per-request URL and payload lines; redact the token in whatever else is logged."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in _PAYLOAD_LOGGERS:  # even when the app itself runs at DEBUG
        logging.getLogger(name).setLevel(logging.INFO)
    REDACT.secrets.add(token)
    loggers = [logging.getLogger(name) for name in _PTB_LOGGERS]
    handlers = logging.getLogger().handlers  # whatever reaches the root (the CLI's stderr)
    for target in [*loggers, *handlers]:
        if REDACT not in target.filters:
            target.addFilter(REDACT)
