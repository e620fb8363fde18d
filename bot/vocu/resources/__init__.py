"""Resource groups of the Vocu client: one module per endpoint group, all through `_request`."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from ..errors import VocuValidationError

if TYPE_CHECKING:
    from ..client import VocuClient

M = TypeVar("M", bound=BaseModel)


class Resource:
    """Base of a resource group: holds the client, builds paths, checks arguments."""

    def __init__(self, client: VocuClient) -> None:
        self._client = client


def seg(value: str, what: str = "id") -> str:
    """One URL path segment, checked non-empty and percent-quoted (`market:` kept readable)."""
    return quote(require(value, what), safe=":")


def require(value: str, what: str) -> str:
    """`value` stripped; VocuValidationError when it is empty or not a string."""
    if not isinstance(value, str) or not value.strip():
        raise VocuValidationError(f"{what} must be a non-empty string")
    return value.strip()


def model_list(model: type[M]) -> Callable[[Any], list[M]]:
    """A parser for a JSON array of `model` items."""

    def parse(payload: Any) -> list[M]:
        if not isinstance(payload, list):
            raise TypeError("expected a JSON array")
        return [model.model_validate(item) for item in payload]

    return parse


def data_uri(data: bytes, mime: str, what: str) -> str:
    """A base64 data URL; empty payloads are refused locally."""
    if not data:
        raise VocuValidationError(f"{what} must not be empty")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def bool_str(value: bool) -> str:
    """Booleans as the strings the query/multipart forms expect."""
    return "true" if value else "false"
