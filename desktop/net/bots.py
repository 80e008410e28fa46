"""The bot API (/api/v1/bots) for the editor: one short-lived HTTP request per action."""

from __future__ import annotations

from typing import Final, TypeVar

import httpx
import msgspec

from desktop.core.bots import BotBackendError
from protocol.api import ApiError
from protocol.bots.flow import Flow, FlowRefused, FlowSpec, Validation

TIMEOUT: Final = 15.0
T = TypeVar("T")


class BotClient:
    """Implements the editor's ``BotBackend`` with the signed-in agent's token."""

    def __init__(self, server_url: str, token: str) -> None:
        self._base = server_url.rstrip("/") + "/api/v1/bots"
        self._headers = {"Authorization": f"Bearer {token}"}

    async def _call(self, method: str, path: str, *, body: bytes | None = None) -> httpx.Response:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            # No proxies from the environment: agents talk to their own server, often on a LAN or localhost.
            async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False, follow_redirects=False) as client:
                response = await client.request(method, self._base + path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise BotBackendError(f"Cannot reach the server ({type(exc).__name__}); check your network.") from None
        if response.status_code >= 300:
            raise _refusal(response)
        return response

    async def list_flows(self) -> list[Flow]:
        """Every bot of the account."""
        return _decode(await self._call("GET", "/"), list[Flow])

    async def save_flow(self, flow_id: int | None, spec: FlowSpec) -> Flow:
        """Add a bot (``flow_id`` None) or replace one."""
        body = msgspec.json.encode(spec)
        if flow_id is None:
            return _decode(await self._call("POST", "/", body=body), Flow)
        return _decode(await self._call("PUT", f"/{flow_id}", body=body), Flow)

    async def delete_flow(self, flow_id: int) -> None:
        """Delete a bot."""
        await self._call("DELETE", f"/{flow_id}")

    async def validate(self, body: bytes) -> Validation:
        """The server's verdict on a flow given as JSON."""
        return _decode(await self._call("POST", "/validate", body=body), Validation)

    async def import_flow(self, body: bytes) -> Flow:
        """Add a bot from an export file."""
        return _decode(await self._call("POST", "/import", body=body), Flow)

    async def export_flow(self, flow_id: int) -> bytes:
        """A bot as an export file."""
        return (await self._call("GET", f"/{flow_id}/export")).content


def _decode(response: httpx.Response, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(response.content, type=kind)
    except msgspec.DecodeError:
        raise BotBackendError("The server answered in a form this app does not understand; update Frontdesk.") from None


def _refusal(response: httpx.Response) -> BotBackendError:
    try:
        refused = msgspec.json.decode(response.content, type=FlowRefused)
        return BotBackendError("The flow has problems; fix them and save again.", refused.problems)
    except msgspec.DecodeError:
        pass
    try:
        return BotBackendError(msgspec.json.decode(response.content, type=ApiError).message)
    except msgspec.DecodeError:
        return BotBackendError(f"The server refused the request (HTTP {response.status_code}).")
