"""The one exception the simulator's handlers raise; the middleware turns it into JSON."""

from __future__ import annotations

from typing import Any

from .faults import message_for


class ApiError(Exception):
    """An API error answer: HTTP status = body `status` (PC-3)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or message_for(code)
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(f"{status} {code}: {self.message}")

    def body(self, request_id: str) -> dict[str, Any]:
        """The error envelope of §5.2."""
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "requestId": request_id,
            **self.extra,
        }


def bad_params(message: str | None = None) -> ApiError:
    """400 VALIDATION_BAD_PARAMS."""
    return ApiError(400, "VALIDATION_BAD_PARAMS", message)


def missing_field(name: str) -> ApiError:
    """400 VALIDATION_MISSING_FIELD with `detail.field`."""
    return ApiError(
        400,
        "VALIDATION_MISSING_FIELD",
        f"Missing required field: {name}.",
        extra={"detail": {"field": name}},
    )


def voice_not_found() -> ApiError:
    """404 VOICE_NOT_FOUND."""
    return ApiError(404, "VOICE_NOT_FOUND")


def resource_not_found() -> ApiError:
    """404 RESOURCE_NOT_FOUND."""
    return ApiError(404, "RESOURCE_NOT_FOUND")


def contents_invalid(message: str) -> ApiError:
    """400 TTS_CONTENTS_INVALID (async strict validation)."""
    return ApiError(400, "TTS_CONTENTS_INVALID", message)
