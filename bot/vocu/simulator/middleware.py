"""The request pipeline: request id, log, faults, auth, and the one error → JSON mapping."""

from __future__ import annotations

import asyncio
import logging
import re

from aiohttp import web
from aiohttp.typedefs import Handler

from .entities import new_id
from .errors import ApiError
from .helpers import (
    ACCOUNT_KEY,
    REQUEST_ID_HEADER,
    REQUEST_ID_KEY,
    STATE_KEY,
    STREAMING_KEY,
    bearer_token,
    dumps,
)
from .state import RequestRecord, SimState
from .storage import STORAGE_PREFIX

log = logging.getLogger(__name__)

_GENERATION_PATHS = frozenset({"/api/tts/simple-generate", "/api/tts/simple-generate.mp3"})
_REGENERATE = re.compile(r"^/api/tts/generate/[^/]+/regenerate/?$")


class DroppedConnection(Exception):
    """Raised to close the connection without any answer."""


def is_billable(method: str, path: str) -> bool:
    """Whether a request is a (billable) generation call."""
    if path in _GENERATION_PATHS:
        return method in ("GET", "POST")
    if method != "POST":
        return False
    return path.rstrip("/") == "/api/tts/generate" or bool(_REGENERATE.match(path))


def error_response(err: ApiError, request_id: str) -> web.Response:
    """The JSON error answer of `err` (HTTP status = body status)."""
    response = web.json_response(err.body(request_id), status=err.status, dumps=dumps)
    response.headers.update(err.headers)
    return response


def _from_http_exception(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return ApiError(404, "RESOURCE_NOT_FOUND")
    if exc.status == 405:
        return ApiError(405, "METHOD_NOT_ALLOWED", "Method not allowed.")
    if exc.status == 413:
        return ApiError(413, "UPLOAD_TOO_LARGE")
    return ApiError(exc.status, "VALIDATION_BAD_PARAMS", exc.reason)


async def _apply_faults(state: SimState, request: web.Request) -> None:
    """Latency, hangs, drops and forced errors, in that order."""
    faults = state.faults
    if faults.latency > 0 and not request.path.startswith(STORAGE_PREFIX):
        await asyncio.sleep(faults.latency)
    if (hang := faults.take_hang(request.path)) > 0:
        await asyncio.sleep(hang)
    if faults.take_drop(request.path):
        raise DroppedConnection
    if (rule := faults.take_failure(request.path)) is not None:
        headers = {}
        if rule.status == 429 and rule.retry_after is not None:
            headers["Retry-After"] = str(rule.retry_after)
        raise ApiError(rule.status, rule.code, headers=headers)


def _authenticate(state: SimState, request: web.Request) -> None:
    """Resolve the caller's account; 401 AUTH_UNAUTHORIZED without a valid Bearer token."""
    token = bearer_token(request)
    if token is None or not state.key_allowed(token):
        raise ApiError(401, "AUTH_UNAUTHORIZED")
    account = state.account(token)
    account.advance()
    request[ACCOUNT_KEY] = account


async def _run(state: SimState, request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        await _apply_faults(state, request)
        if request.path.startswith("/api/"):
            _authenticate(state, request)
        return await handler(request)
    except ApiError as err:
        if request.get(STREAMING_KEY):
            raise
        return error_response(err, request[REQUEST_ID_KEY])
    except web.HTTPException as exc:
        return error_response(_from_http_exception(exc), request[REQUEST_ID_KEY])


@web.middleware
async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request: an id; API and WebSocket requests also get faults, auth and a log line."""
    state = request.app[STATE_KEY]
    request[REQUEST_ID_KEY] = new_id()
    path = request.path
    if not path.startswith(("/api/", "/ws/", STORAGE_PREFIX)):
        try:
            return await handler(request)
        except ApiError as err:
            return error_response(err, request[REQUEST_ID_KEY])
        except web.HTTPException as exc:
            return error_response(_from_http_exception(exc), request[REQUEST_ID_KEY])
    record = RequestRecord(
        request.method, path, bearer_token(request), 0, is_billable(request.method, path)
    )
    state.request_log.append(record)
    try:
        response = await _run(state, request, handler)
    except DroppedConnection:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=499)
    except Exception:
        if request.get(STREAMING_KEY):
            raise
        log.exception("simulator handler failed: %s %s", request.method, path)
        response = error_response(ApiError(500, "SYSTEM_INTERNAL_ERROR"), request[REQUEST_ID_KEY])
    record.status = response.status
    return response


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: put `X-Vocu-App-Request-Id` on every response."""
    request_id = request.get(REQUEST_ID_KEY) or new_id()
    response.headers.setdefault(REQUEST_ID_HEADER, request_id)
