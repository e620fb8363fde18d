"""VocuClient: one aiohttp session, one `_request`, the retry policy, timeouts and close.

Retry policy (architecture + PC-5), at most `max_retries` (2) re-sends:
- 429 and 503: retried, also for billable generation (the server refused the work);
  `Retry-After` is honoured when it is at most `retry_after_cap`, otherwise the error is raised.
- other 5xx: retried only for calls that are idempotent and not billable.
- failures to connect (nothing was sent): always retried.
- a dropped connection after sending: retried only for idempotent, non-billable calls.
- never: other 4xx, timeouts while waiting for an answer, cancellation, a stream whose
  bytes have started (truncation raises `VocuTruncatedStream`).
Back-off: `backoff_base * 2**n` capped at `backoff_max`, jittered to 50–100 % of that.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from pydantic import ValidationError

from . import _conventions as conv
from ._http import (
    Secret,
    connection_error,
    error_of,
    may_resend,
    path_only,
    read_json,
    retry_after,
)
from .errors import (
    RateLimited,
    VocuError,
    VocuResponseError,
    VocuStatusError,
    VocuValidationError,
    error_from_response,
)
from .resources.account import AccountResource
from .resources.files import FilesResource
from .resources.realtime import RealtimeResource
from .resources.splitters import SplittersResource
from .resources.tasks import TasksResource
from .resources.templates import TemplatesResource
from .resources.tts import TtsResource
from .resources.voices import VoicesResource
from .streams import DEFAULT_READ_CHUNK, iter_body

T = TypeVar("T")
log = logging.getLogger("bot.vocu")

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
FormFactory = Callable[[], aiohttp.FormData]


class VocuClient:
    """Async client of the Vocu API; use `async with VocuClient(key) as vocu:`."""

    def __init__(
        self,
        api_key: str,
        base_url: str = conv.DEFAULT_BASE_URL,
        *,
        voice_path: str = conv.VOICE_PATH,
        timeout: float = 30.0,
        generate_timeout: float = 600.0,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        retry_after_cap: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        user_agent: str | None = None,
        ws_ping_interval: float = conv.WS_PING_INTERVAL,
        ws_retry_delay: float = conv.WS_RETRY_DELAY,
        max_connections: int = 256,
    ) -> None:
        if not api_key or not api_key.strip():
            raise VocuValidationError("an API key is required")
        self.__api_key = Secret(api_key.strip())
        self.base_url = base_url.rstrip("/")
        self.max_connections = max_connections  # bursts of generations need many at once
        self.voice_path = "/" + voice_path.strip("/")
        self.timeout = timeout
        self.generate_timeout = generate_timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max(0, max_retries)
        self.retry_after_cap = retry_after_cap
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.user_agent = user_agent or f"vocu-bot-sdk/0.1 aiohttp/{aiohttp.__version__}"
        self.ws_ping_interval = ws_ping_interval
        self.ws_retry_delay = ws_retry_delay
        self._session: aiohttp.ClientSession | None = None
        self.account = AccountResource(self)
        self.voices = VoicesResource(self)
        self.tts = TtsResource(self)
        self.tasks = TasksResource(self)
        self.templates = TemplatesResource(self)
        self.splitters = SplittersResource(self)
        self.files = FilesResource(self)
        self.realtime = RealtimeResource(self)

    def __repr__(self) -> str:
        return f"VocuClient(base_url={self.base_url!r})"

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> VocuClient:
        self.session  # noqa: B018 - create the session inside the running loop
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The one shared session, created on first use."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": self.user_agent},
                connector=aiohttp.TCPConnector(limit=self.max_connections),
            )
        return self._session

    async def close(self) -> None:
        """Close the session; the client may be reopened by using it again."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # ------------------------------------------------------------------ helpers

    def call_timeout(self, seconds: float | None = None) -> aiohttp.ClientTimeout:
        """A per-call timeout: `seconds` (default `timeout`) for the whole call."""
        total = self.timeout if seconds is None else seconds
        return aiohttp.ClientTimeout(total=total, sock_connect=min(self.connect_timeout, total))

    def stream_timeout(self, seconds: float | None = None) -> aiohttp.ClientTimeout:
        """A streaming timeout: no total limit, `seconds` of silence at most."""
        idle = self.timeout if seconds is None else seconds
        return aiohttp.ClientTimeout(
            total=None, sock_connect=min(self.connect_timeout, idle), sock_read=idle
        )

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://", "ws://", "wss://")):
            return path
        return self.base_url + path

    def _headers(self, auth: bool) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.__api_key.value}"} if auth else {}

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before re-sending, or None when the server asks for too long."""
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_cap else None
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    @staticmethod
    def _should_retry(err: VocuStatusError, safe: bool) -> bool:
        if isinstance(err, RateLimited) or err.status == 503:
            return True
        return safe and (err.status or 0) >= 500

    # -------------------------------------------------------------- transport

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        form: FormFactory | None = None,
        timeout: aiohttp.ClientTimeout | None = None,  # noqa: ASYNC109 - per-call HTTP timeout
        billable: bool = False,
        idempotent: bool | None = None,
        auth: bool = True,
    ) -> aiohttp.ClientResponse:
        """Send with retries; return a response with status < 400 (the caller releases it)."""
        url = self._url(path)
        auth = auth and not path.startswith(("http://", "https://"))
        safe = (method in _IDEMPOTENT if idempotent is None else idempotent) and not billable
        for attempt in range(self.max_retries + 1):
            last = attempt >= self.max_retries
            try:
                resp = await self.session.request(
                    method,
                    url,
                    json=json,
                    params=params,
                    data=form() if form is not None else None,
                    headers=self._headers(auth),
                    timeout=timeout or self.call_timeout(),
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                if last or not may_resend(exc, safe):
                    raise connection_error(exc, method, path) from exc
                await self._pause(attempt, None, method, path, type(exc).__name__)
                continue
            rid = resp.headers.get(conv.REQUEST_ID_HEADER)
            log.debug(
                "vocu %s %s status=%s request_id=%s attempt=%d",
                method,
                path_only(path),
                resp.status,
                rid,
                attempt,
            )
            if resp.status < 400:
                return resp
            err = await error_of(resp)
            delay = None
            if not last and self._should_retry(err, safe):
                delay = self._retry_delay(attempt, retry_after(resp))
            if delay is None:
                raise err
            await self._pause(attempt, delay, method, path, f"status {err.status}")
        raise AssertionError("unreachable")  # pragma: no cover

    async def _pause(
        self, attempt: int, delay: float | None, method: str, path: str, why: str
    ) -> None:
        wait = delay if delay is not None else self._retry_delay(attempt, None) or 0.0
        log.info("vocu retry %s %s in %.2fs (%s)", method, path_only(path), wait, why)
        await asyncio.sleep(wait)

    async def _request(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        envelope: str | None = "data",
        json: Any = None,
        params: Mapping[str, str] | None = None,
        form: FormFactory | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call HTTP timeout
        billable: bool = False,
        idempotent: bool | None = None,
    ) -> T:
        """The one JSON call: send, check HTTP and body status, unwrap `envelope`, parse."""
        resp = await self._send(
            method,
            path,
            json=json,
            params=params,
            form=form,
            timeout=self.call_timeout(timeout),
            billable=billable,
            idempotent=idempotent,
        )
        rid = resp.headers.get(conv.REQUEST_ID_HEADER)
        async with resp:
            body = await read_json(resp, rid)
        status = body.get("status", 200)
        if status != 200:
            raise error_from_response(
                status if isinstance(status, int) else resp.status, body, request_id=rid
            )
        if envelope is None:
            payload: Any = body
        elif envelope in body:
            payload = body[envelope]
        else:
            raise VocuResponseError(
                f"answer has no {envelope!r} field", status=resp.status, request_id=rid
            )
        try:
            return parse(payload)
        except (ValidationError, ValueError, TypeError) as exc:
            raise VocuResponseError(
                f"unexpected answer shape: {exc.__class__.__name__}",
                status=resp.status,
                request_id=rid,
            ) from exc

    async def _open_audio(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call HTTP timeout
        billable: bool = False,
    ) -> aiohttp.ClientResponse:
        """Open an audio stream; a JSON answer is checked and raised as an error."""
        resp = await self._send(
            method,
            path,
            json=json,
            params=params,
            timeout=self.stream_timeout(timeout),
            billable=billable,
        )
        if resp.content_type == "application/json":
            rid = resp.headers.get(conv.REQUEST_ID_HEADER)
            async with resp:
                body = await read_json(resp, rid)
            if body.get("status", 200) != 200:
                raise error_from_response(resp.status, body, request_id=rid)
            raise VocuResponseError("expected audio, got JSON", status=resp.status, request_id=rid)
        return resp

    # ----------------------------------------------------------------- download

    async def _open_download(
        self,
        url: str,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call HTTP timeout
    ) -> aiohttp.ClientResponse:
        if not url.startswith(("http://", "https://")):
            raise VocuValidationError("download needs an absolute http(s) URL")
        return await self._send(
            "GET", url, timeout=self.stream_timeout(timeout), idempotent=True, auth=False
        )

    async def download(
        self,
        url: str,
        *,
        chunk_size: int = DEFAULT_READ_CHUNK,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call HTTP timeout
    ) -> AsyncIterator[bytes]:
        """Stream a storage URL without credentials (PC-4); truncation raises."""
        resp = await self._open_download(url, timeout)
        try:
            async for chunk in iter_body(resp, chunk_size):
                yield chunk
        finally:
            resp.release()


__all__ = ["VocuClient", "VocuError"]
