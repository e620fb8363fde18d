"""Small request/response helpers shared by the route modules."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from aiohttp import web

from .errors import ApiError
from .state import Account, SimState

STATE_KEY: web.AppKey[SimState] = web.AppKey("vocu_sim_state", SimState)
REQUEST_ID_HEADER = "X-Vocu-App-Request-Id"
REQUEST_ID_KEY: web.RequestKey[str] = web.RequestKey("vocu_sim_request_id", str)
ACCOUNT_KEY: web.RequestKey[Account] = web.RequestKey("vocu_sim_account", Account)
#: Set once a handler has started a body: errors can then only cut the connection.
STREAMING_KEY: web.RequestKey[bool] = web.RequestKey("vocu_sim_streaming", bool)
_MISSING: Any = object()
_DATA_URL = re.compile(
    r"^data:(?P<mime>[^;,]*)(?P<params>(;[^;,]*)*?)(?P<b64>;base64)?,(?P<data>.*)$", re.S
)


def state_of(request: web.Request) -> SimState:
    """The simulator state behind this app."""
    return request.app[STATE_KEY]


def account_of(request: web.Request) -> Account:
    """The caller's account (resolved by the middleware)."""
    return request[ACCOUNT_KEY]


def dumps(payload: Any) -> str:
    """Compact JSON that keeps non-ASCII text readable."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def reply(
    data: Any = _MISSING, *, message: bool = True, extra: dict[str, Any] | None = None
) -> web.Response:
    """A success envelope (§5.1): status, optional message, optional data, extra keys."""
    body: dict[str, Any] = {"status": 200}
    if message:
        body["message"] = "OK"
    body.update(extra or {})
    if data is not _MISSING:
        body["data"] = data
    return web.json_response(body, dumps=dumps)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object body ({} when empty); 400 VALIDATION_BAD_PARAMS when malformed."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "VALIDATION_BAD_PARAMS", "Request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_BAD_PARAMS", "Request body must be a JSON object.")
    return body


def as_bool(value: Any, default: bool = False) -> bool:
    """A boolean from JSON or a query/form string (`true`/`false`/`1`/`0`)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    return default


def as_int(value: Any, default: int) -> int:
    """An int from a query string, `default` when absent or malformed."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def decode_data_url(value: Any) -> tuple[str, bytes]:
    """Decode a `data:<mime>;base64,…` URL; 400 VALIDATION_INVALID_FORMAT when malformed."""
    if not isinstance(value, str):
        raise ApiError(400, "VALIDATION_INVALID_FORMAT", "Expected a data URL.")
    match = _DATA_URL.match(value.strip())
    if match is None:
        raise ApiError(400, "VALIDATION_INVALID_FORMAT", "Expected a data URL.")
    payload = match.group("data")
    if not match.group("b64"):
        return match.group("mime"), payload.encode()
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "VALIDATION_INVALID_FORMAT", "The data URL does not decode.") from exc
    return match.group("mime"), data


def bearer_token(request: web.Request) -> str | None:
    """The token of `Authorization: Bearer …`, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
