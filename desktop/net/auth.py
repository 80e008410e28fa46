"""Signing in over the REST API: server check, login, logout, with errors a user can act on."""

from __future__ import annotations

from typing import Final, Literal, TypeVar

import httpx
import msgspec

from protocol.api import ApiError, Health, LoginRequest, LoginResponse
from protocol.rules import PROTOCOL_VERSION

AuthErrorKind = Literal["wrong_password", "unreachable", "incompatible", "server_error", "revoked"]

TIMEOUT: Final = 10.0
_API: Final = "/api/v1"

T = TypeVar("T")


class AuthError(Exception):
    """Signing in or out failed; ``kind`` says why and ``message`` is a sentence for the user."""

    def __init__(self, kind: AuthErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: AuthErrorKind = kind
        self.message = message


def api_url(server_url: str, path: str) -> str:
    """An /api/v1 endpoint under the server's base URL (which may carry a path prefix)."""
    return server_url.rstrip("/") + _API + path


def _client(timeout: float) -> httpx.AsyncClient:
    # No proxies from the environment: agents talk to their own server, often on a LAN or localhost.
    return httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False)


def _unreachable(server_url: str, exc: Exception) -> AuthError:
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return AuthError(
            "unreachable", f"{server_url!r} is not a server address; enter one like https://chat.example.com"
        )
    reason = "it did not answer in time" if isinstance(exc, httpx.TimeoutException) else "the connection failed"
    return AuthError(
        "unreachable", f"Cannot reach the server at {server_url} ({reason}). Check the address and your network."
    )


def _decode(server_url: str, response: httpx.Response, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(response.content, type=kind)
    except msgspec.DecodeError:
        raise AuthError(
            "incompatible",
            f"{server_url} answered, but not like a Frontdesk server of this version; check the address.",
        ) from None


def _api_error(response: httpx.Response) -> str:
    try:
        return msgspec.json.decode(response.content, type=ApiError).message
    except msgspec.DecodeError:
        return f"HTTP {response.status_code}"


async def check_server(server_url: str) -> Health:
    """The server's health, or AuthError when it is unreachable, not Frontdesk, or speaks another protocol."""
    try:
        async with _client(TIMEOUT) as client:
            response = await client.get(api_url(server_url, "/health"))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _unreachable(server_url, exc) from None
    if response.status_code != 200:
        raise AuthError(
            "incompatible" if response.status_code == 404 else "server_error",
            f"{server_url} is not a Frontdesk server or is not working (health check: HTTP {response.status_code}).",
        )
    health = _decode(server_url, response, Health)
    if health.protocol != PROTOCOL_VERSION:
        newer = "newer" if health.protocol > PROTOCOL_VERSION else "older"
        raise AuthError(
            "incompatible",
            f"The server (version {health.version}) speaks protocol {health.protocol} and this app {PROTOCOL_VERSION}: "
            f"the server is {newer}; install a matching version of Frontdesk.",
        )
    return health


async def login(server_url: str, email: str, password: str) -> LoginResponse:
    """Check the server, sign in and return the token, agent, account and capabilities."""
    await check_server(server_url)
    body = msgspec.json.encode(LoginRequest(email=email, password=password))
    try:
        async with _client(TIMEOUT) as client:
            response = await client.post(
                api_url(server_url, "/auth/login"), content=body, headers={"Content-Type": "application/json"}
            )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _unreachable(server_url, exc) from None
    if response.status_code == 401:
        raise AuthError("wrong_password", "Wrong e-mail or password. Check both and try again.")
    if response.status_code in (400, 422):
        raise AuthError("wrong_password", f"The server refused the sign-in: {_api_error(response)}")
    if response.status_code != 200:
        raise AuthError("server_error", f"The server could not sign you in: {_api_error(response)}. Try again later.")
    return _decode(server_url, response, LoginResponse)


async def logout(server_url: str, token: str) -> None:
    """Revoke the token on the server (its sockets close); AuthError "revoked" when it was already invalid."""
    try:
        async with _client(TIMEOUT) as client:
            response = await client.post(
                api_url(server_url, "/auth/logout"), headers={"Authorization": f"Bearer {token}"}
            )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _unreachable(server_url, exc) from None
    if response.status_code == 401:
        raise AuthError("revoked", "This login was already signed out or expired.")
    if response.status_code >= 300:
        raise AuthError("server_error", f"The server could not sign you out: {_api_error(response)}.")
