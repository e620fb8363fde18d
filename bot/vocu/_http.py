"""Response helpers of the transport: errors from answers, Retry-After, JSON, the key holder."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import aiohttp

from . import _conventions as conv
from .errors import (
    VocuConnectionError,
    VocuResponseError,
    VocuStatusError,
    VocuTimeout,
    error_from_response,
)


class Secret:
    """Holds the API key; its repr never shows it (safe in logs, tracebacks and vars())."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Secret('***')"


def path_only(path: str) -> str:
    """The path for logs, without the query string (it may carry text or URL tokens)."""
    return path.split("?", 1)[0]


def may_resend(exc: BaseException, safe: bool) -> bool:
    """Whether a transport failure may be re-sent: always when nothing reached the server
    (connect failed or timed out), only for `safe` calls when the connection dropped after
    sending, never after a timeout while waiting for the answer."""
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return True
    if isinstance(exc, TimeoutError):
        return False
    return safe


def connection_error(exc: BaseException, method: str, path: str) -> VocuConnectionError:
    """The SDK error of a transport failure (timeouts become VocuTimeout)."""
    where = f"{method} {path_only(path)}"
    if isinstance(exc, TimeoutError):
        return VocuTimeout(f"{where} timed out")
    return VocuConnectionError(f"{where} failed: {type(exc).__name__}")


def retry_after(resp: aiohttp.ClientResponse) -> float | None:
    """`Retry-After` as seconds (number or HTTP date), or None."""
    raw = resp.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def read_json(resp: aiohttp.ClientResponse, rid: str | None) -> dict[str, Any]:
    try:
        body = await resp.json(content_type=None)
    except TimeoutError as exc:
        raise VocuTimeout("reading the answer timed out", request_id=rid) from exc
    except aiohttp.ClientError as exc:
        raise VocuConnectionError("connection dropped while reading", request_id=rid) from exc
    except ValueError as exc:
        raise VocuResponseError("answer is not JSON", status=resp.status, request_id=rid) from exc
    if not isinstance(body, dict):
        raise VocuResponseError("answer is not a JSON object", status=resp.status, request_id=rid)
    return body


async def error_of(resp: aiohttp.ClientResponse) -> VocuStatusError:
    """The typed error of a status >= 400 answer; the body is read and released."""
    rid = resp.headers.get(conv.REQUEST_ID_HEADER)
    body: Any = None
    async with resp:
        try:
            body = await resp.json(content_type=None)
        except (ValueError, aiohttp.ClientError, TimeoutError):
            body = None
    return error_from_response(resp.status, body, request_id=rid, retry_after=retry_after(resp))
