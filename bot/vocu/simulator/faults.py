"""Fault-injection knobs: latency, forced errors, dropped connections, hangs, truncation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Documented English messages (§5.3) reused by forced errors and real ones.
MESSAGES: dict[str, str] = {
    "AUTH_UNAUTHORIZED": "Unauthorized.",
    "AUTH_FORBIDDEN": "Access forbidden.",
    "VOICE_NOT_FOUND": "Voice not found.",
    "RESOURCE_NOT_FOUND": "Resource not found.",
    "GENERATE_NOT_FOUND": "Generate task not found.",
    "VOICE_CREATING": "This voice is still being created. Please try again later.",
    "VOICE_CREATE_FAILED": "Voice creation failed. Please create the voice again.",
    "VOICE_PROMPT_TOO_LARGE": "Instant clone sample file too large, maximum supported 100MB.",
    "UPLOAD_TOO_LARGE": "Uploaded file too large, maximum supported 100MB.",
    "MINIMUM_DURATION_NOT_MET": "Prompt audio is shorter than the minimum duration of 3 seconds.",
    "TTS_INPUT_AUDIO_INVALID": "Invalid input audio URL.",
    "VOICE_INSTRUCT_PATH_ONLY": "This voice only supports controllable (instruct) generation.",
    "VOICE_NOT_TTS_READY": "Voice is not configured for TTS synthesis.",
    "VALIDATION_INVALID_VALUE": "Invalid parameter value.",
    "VALIDATION_BAD_PARAMS": "Bad request parameters.",
    "VALIDATION_INVALID_FORMAT": "Invalid format.",
    "VALIDATION_MISSING_FIELD": "Missing required field.",
    "VALIDATION_TOO_LONG": "Value too long.",
    "TTS_CONTENTS_INVALID": "Invalid contents.",
    "TTS_TEXT_EMPTY": "Text is empty.",
    "STREAM_TIMEOUT": "Stream timed out.",
    "STREAM_FETCH_FAILED": "Failed to fetch stream audio.",
    "RATE_LIMIT_EXCEEDED": "Too many requests, please try again later.",
    "RATE_LIMIT_CONCURRENT": "Too many concurrent requests, please try again later.",
    "SYSTEM_INTERNAL_ERROR": "Internal server error, please try again later.",
    "NO_WORKER_AVAILABLE": "No worker is available right now. Please try again later.",
    "VOICE_UNAVAILABLE": "Voice is temporarily unavailable. Please try again later.",
    "STORAGE_UNAVAILABLE": "Storage is temporarily unavailable. Please try again later.",
    "BILLING_INSUFFICIENT_CREDIT": "Insufficient credit, please top up.",
    "TTS_PAID_ONLY": "This API is only available to paid users.",
    "TTS_SESSION_TOKEN_NOT_ALLOWED": "Please use an API key to call this API.",
    "GENERATE_DELETE_IN_PROGRESS": "The task is still being generated.",
}


def message_for(code: str) -> str:
    """The documented message of `code`, or a generic one."""
    return MESSAGES.get(code, "Simulated failure.")


@dataclass
class FailRule:
    """`remaining` forced error answers for requests whose path contains `path_contains`."""

    remaining: int
    status: int
    code: str
    retry_after: int | None = None
    path_contains: str | None = None


@dataclass
class CountRule:
    """`remaining` requests matching `path_contains` get a drop or a hang of `seconds`."""

    remaining: int
    path_contains: str | None = None
    seconds: float = 0.0


def _matches(rule_path: str | None, path: str) -> bool:
    """A rule without a path filter hits API and WebSocket paths only, never storage."""
    if rule_path is None:
        return path.startswith(("/api/", "/ws/"))
    return rule_path in path


def _take(rules: list[Any], path: str) -> Any | None:
    """Consume one use of the first rule matching `path`; drop exhausted rules."""
    for rule in rules:
        if rule.remaining > 0 and _matches(rule.path_contains, path):
            rule.remaining -= 1
            if rule.remaining <= 0:
                rules.remove(rule)
            return rule
    return None


class Faults:
    """Knobs read on every request; changes take effect immediately."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Turn every knob off."""
        self.latency: float = 0.0
        self.generation_latency: float = 0.0
        self.truncate_streams_after: int | None = None
        self.stuck_creating: bool = False
        self.fail_voices: bool = False
        self.fail_tasks: bool = False
        self.ws_not_ready_next: int = 0
        self._fail: list[FailRule] = []
        self._drop: list[CountRule] = []
        self._hang: list[CountRule] = []

    def fail_next(
        self,
        n: int,
        status: int = 429,
        code: str = "RATE_LIMIT_EXCEEDED",
        retry_after: int | None = 1,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next `n` matching API requests with this error (Retry-After on 429)."""
        if n > 0:
            self._fail.append(FailRule(n, status, code, retry_after, path_contains))

    def drop_next(self, n: int, path_contains: str | None = None) -> None:
        """Close the connection of the next `n` matching requests without answering."""
        if n > 0:
            self._drop.append(CountRule(n, path_contains))

    def hang_next(self, n: int, seconds: float, path_contains: str | None = None) -> None:
        """Delay the next `n` matching requests by `seconds` before handling them."""
        if n > 0:
            self._hang.append(CountRule(n, path_contains, seconds))

    def take_failure(self, path: str) -> FailRule | None:
        """The forced error for this request, if one is queued."""
        rule: FailRule | None = _take(self._fail, path)
        return rule

    def take_drop(self, path: str) -> bool:
        """Whether this request must be dropped."""
        return _take(self._drop, path) is not None

    def take_hang(self, path: str) -> float:
        """Seconds this request must hang (0 when none is queued)."""
        rule: CountRule | None = _take(self._hang, path)
        return rule.seconds if rule else 0.0

    def take_ws_not_ready(self) -> bool:
        """Whether the next WebSocket connection must be refused as not ready."""
        if self.ws_not_ready_next > 0:
            self.ws_not_ready_next -= 1
            return True
        return False

    def apply(self, body: dict[str, Any]) -> None:
        """Set knobs from a `/_sim/faults` JSON body."""
        for name in ("latency", "generation_latency"):
            if name in body:
                setattr(self, name, float(body[name] or 0))
        if "truncate_streams_after" in body:
            value = body["truncate_streams_after"]
            self.truncate_streams_after = None if value is None else int(value)
        for name in ("stuck_creating", "fail_voices", "fail_tasks"):
            if name in body:
                setattr(self, name, bool(body[name]))
        if "ws_not_ready_next" in body:
            self.ws_not_ready_next = int(body["ws_not_ready_next"])
        if isinstance(spec := body.get("fail_next"), dict):
            self.fail_next(**spec)
        if isinstance(spec := body.get("drop_next"), dict):
            self.drop_next(**spec)
        if isinstance(spec := body.get("hang_next"), dict):
            self.hang_next(**spec)

    def snapshot(self) -> dict[str, Any]:
        """The knobs as JSON (for `GET /_sim/faults`)."""
        return {
            "latency": self.latency,
            "generation_latency": self.generation_latency,
            "truncate_streams_after": self.truncate_streams_after,
            "stuck_creating": self.stuck_creating,
            "fail_voices": self.fail_voices,
            "fail_tasks": self.fail_tasks,
            "ws_not_ready_next": self.ws_not_ready_next,
            "fail_next": [vars(rule) for rule in self._fail],
            "drop_next": [vars(rule) for rule in self._drop],
            "hang_next": [vars(rule) for rule in self._hang],
        }
