"""The Vocu error tree; `error_from_response` is the ONE place a status/code becomes a class."""

from __future__ import annotations

from typing import Any


class VocuError(Exception):
    """Base of every error the SDK raises; no aiohttp or pydantic exception escapes."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)


class VocuValidationError(VocuError, ValueError):
    """Arguments rejected locally, before any request was sent."""


class VocuConnectionError(VocuError):
    """The server could not be reached, or the connection dropped."""


class VocuTimeout(VocuConnectionError):
    """The call took longer than its timeout."""


class VocuResponseError(VocuError):
    """The server answered with something that is not the documented envelope."""


class VocuTruncatedStream(VocuConnectionError):
    """An audio stream ended before it was complete (PC-24); never retried."""


class VocuStatusError(VocuError):
    """The server answered with an error status (HTTP or body)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.body = body or {}

    @property
    def trace_id(self) -> str | None:
        """The moderation tracking id (`traceId`) of SAFETY_* rejections, if any."""
        value = self.body.get("traceId")
        return value if isinstance(value, str) else None


class BadRequest(VocuStatusError):
    """400."""


class Unauthorized(VocuStatusError):
    """401."""


class Forbidden(VocuStatusError):
    """403."""


class InsufficientCredit(Forbidden):
    """403 BILLING_INSUFFICIENT_CREDIT."""


class PaidOnly(Forbidden):
    """403 TTS_PAID_ONLY / TTS_SESSION_TOKEN_NOT_ALLOWED: sync generation needs a paid API key."""


class NotFound(VocuStatusError):
    """404."""


class Conflict(VocuStatusError):
    """409."""


class VoiceCreating(Conflict):
    """409 VOICE_CREATING: the voice is still being created."""


class TooLarge(VocuStatusError):
    """413."""


class RateLimited(VocuStatusError):
    """429; `retry_after` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(VocuStatusError):
    """5xx."""


_BY_CODE: dict[str, type[VocuStatusError]] = {
    "BILLING_INSUFFICIENT_CREDIT": InsufficientCredit,
    "TTS_PAID_ONLY": PaidOnly,
    "TTS_SESSION_TOKEN_NOT_ALLOWED": PaidOnly,
    "VOICE_CREATING": VoiceCreating,
}

_BY_STATUS: dict[int, type[VocuStatusError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    429: RateLimited,
}


def error_from_response(
    status: int,
    body: Any,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> VocuStatusError:
    """Build the typed error for an error answer (HTTP status, parsed JSON body or None)."""
    data: dict[str, Any] = body if isinstance(body, dict) else {}
    body_status = data.get("status")
    if isinstance(body_status, int) and body_status >= 400:
        status = body_status
    code = data.get("code") if isinstance(data.get("code"), str) else None
    message = data.get("message") if isinstance(data.get("message"), str) else None
    rid = data.get("requestId") if isinstance(data.get("requestId"), str) else None
    request_id = rid or request_id
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else VocuStatusError
    text = message or f"Vocu API error {status}"
    if cls is RateLimited or issubclass(cls, RateLimited):
        return RateLimited(
            text,
            status=status,
            code=code,
            request_id=request_id,
            body=data,
            retry_after=retry_after,
        )
    return cls(text, status=status, code=code, request_id=request_id, body=data)
