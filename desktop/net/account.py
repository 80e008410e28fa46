"""Account requests over the REST API that the websocket does not carry: a visitor's export, retention."""

from __future__ import annotations

import httpx
import msgspec

from desktop.net.auth import TIMEOUT, api_url
from protocol.api import ApiError, RetentionSettings


class AccountRequestError(Exception):
    """The server refused or could not answer; ``code`` is the API's error code, ``message`` says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def _get(server_url: str, token: str, path: str) -> bytes:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False, follow_redirects=False) as client:
            response = await client.get(api_url(server_url, path), headers={"Authorization": f"Bearer {token}"})
    except (httpx.HTTPError, httpx.InvalidURL):
        raise AccountRequestError("unreachable", "The server could not be reached; try again.") from None
    if response.status_code != 200:
        try:
            error = msgspec.json.decode(response.content, type=ApiError)
        except msgspec.DecodeError:
            error = ApiError(code="http_error", message=f"The server answered HTTP {response.status_code}.")
        raise AccountRequestError(error.code, error.message)
    return response.content


async def export_visitor(server_url: str, token: str, visitor_id: str) -> bytes:
    """Everything the server holds about a visitor, as the server's JSON document (admins)."""
    return await _get(server_url, token, f"/visitors/{visitor_id}/export")


async def retention(server_url: str, token: str) -> RetentionSettings:
    """How many days the account keeps visitors' data (every agent may read it)."""
    body = await _get(server_url, token, "/account/retention")
    try:
        return msgspec.json.decode(body, type=RetentionSettings)
    except msgspec.DecodeError:
        raise AccountRequestError("http_error", "The server's answer was not understood.") from None
