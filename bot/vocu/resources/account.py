"""Account info: `GET /api/account/info` (payload under top-level `user`)."""

from __future__ import annotations

from ..models import Account
from . import Resource


class AccountResource(Resource):
    """The account of the API key."""

    async def info(self) -> Account:
        """Balances, quotas and profile of the current account."""
        return await self._client._request(
            "GET", "/api/account/info", Account.model_validate, envelope="user"
        )
