"""The two websocket endpoints: /ws/agent and /ws/visitor."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from protocol.codec import FrameError, agent_requests, encode, visitor_requests
from protocol.messages import Auth, Banned, CloseCode, Error, ErrorCode, VisitorHello
from protocol.rules import PROTOCOL_VERSION
from server.live.core import BANNED_TEXT
from server.live.hub import AccountState, AgentConn, Hub, VisitorConn
from server.outbox import Outbox, text_event
from server.ratelimit import TokenBucket
from server.security import digest
from server.services import Services

log = logging.getLogger(__name__)

Socket = WebSocket[Any, Any, Any]
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class _RefOnly(msgspec.Struct):
    ref: str | None = None


def _ref_of(frame: str | bytes) -> str | None:
    """The ``ref`` of a frame that failed validation, so the error can carry it."""
    try:
        ref = msgspec.json.decode(frame, type=_RefOnly).ref
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    return ref if ref is not None and len(ref) <= 64 else None


def _header(socket: Socket, name: bytes) -> str | None:
    """One request header read straight from the scope.

    Litestar's ``socket.headers`` would cache a parsed copy of all headers on every idle
    visitor socket (~2 KiB each); three lookups at connect time do not need it.
    """
    for key, value in socket.scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _account_key(socket: Socket) -> str:
    for part in bytes(socket.scope.get("query_string", b"")).decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        if name == "account":
            return unquote_plus(value)
    return ""


def services_of(socket: Socket) -> Services:
    """The process's services (installed on the app state at start-up)."""
    services: Services = socket.app.state["services"]
    return services


async def _receive(socket: Socket) -> str | bytes | None:
    """The next frame, or None when the peer went away."""
    try:
        message = await socket.receive()
    except WebSocketDisconnect:
        return None
    if message["type"] != "websocket.receive":
        return None
    text: str | None = message.get("text")
    if text is not None:
        return text
    data: bytes | None = message.get("bytes")
    return data or b""


async def _refuse(socket: Socket, code: ErrorCode, message: str, close_code: int) -> None:
    try:
        await socket.send(text_event(encode(Error(code=code, message=message)).decode()))
        await socket.close(close_code, code.value)
    except Exception:  # noqa: S110 - the peer is already gone
        pass


def origin_allowed(origin: str | None, host: str | None, account: list[str], server_wide: tuple[str, ...]) -> bool:
    """Whether a page at ``origin`` may use the account's widget."""
    if origin is None:
        return True  # not a browser: an Origin check cannot stop it anyway
    parts = urlsplit(origin.strip().lower())
    if parts.hostname in _LOCAL_HOSTS:
        return True
    if not parts.scheme or not parts.netloc:
        return False  # "null" (file://, sandboxed frames)
    if host is not None and parts.netloc == host.lower():
        return True  # a page this server serves itself
    wanted = f"{parts.scheme}://{parts.netloc}"
    allowed = {entry.strip().lower().rstrip("/") for entry in (*account, *server_wide)}
    return "*" in allowed or wanted in allowed


@websocket("/ws/agent")
async def agent_socket(socket: Socket) -> None:
    """Agent endpoint: auth, hello, snapshot or replay, then deltas and requests."""
    services = services_of(socket)
    hub = services.hub
    assert hub is not None
    settings = services.settings
    await socket.accept()
    try:
        first = await asyncio.wait_for(_receive(socket), settings.auth_timeout_seconds)
    except TimeoutError:
        await _refuse(
            socket,
            ErrorCode.AUTH_TIMEOUT,
            f"no auth frame within {settings.auth_timeout_seconds:g} s; send auth first",
            CloseCode.UNAUTHORIZED,
        )
        return
    if first is None:
        return
    try:
        auth = agent_requests.decode(first)
    except FrameError as exc:
        await _refuse(socket, exc.code, str(exc), CloseCode.UNAUTHORIZED)
        return
    if not isinstance(auth, Auth):
        await _refuse(socket, ErrorCode.UNAUTHORIZED, "the first frame must be auth with your token", 4401)
        return
    if auth.protocol != PROTOCOL_VERSION:
        await _refuse(
            socket,
            ErrorCode.INCOMPATIBLE_PROTOCOL,
            f"this Frontdesk app speaks protocol {auth.protocol} and the server {PROTOCOL_VERSION}; "
            "update the app to the server's version",
            CloseCode.INCOMPATIBLE,
        )
        return
    token_hash = digest(auth.token)
    agent = await services.store.agent_by_token(token_hash)
    account = await hub.account(agent.account_id) if agent is not None else None
    if agent is None or account is None:
        await _refuse(socket, ErrorCode.UNAUTHORIZED, "the token is unknown or was revoked; sign in again", 4401)
        return
    conn = AgentConn(Outbox(socket, settings.outbox_limit), agent, token_hash)
    bucket = TokenBucket(settings.agent_rate)
    try:
        await hub.agent_connected(conn, account, auth)
        await _agent_loop(socket, hub, conn, bucket)
    finally:
        await hub.agent_disconnected(conn)
        await conn.outbox.finish()  # a close we asked for reaches the peer before the handler ends


async def _agent_loop(socket: Socket, hub: Hub, conn: AgentConn, bucket: TokenBucket) -> None:
    while True:
        frame = await _receive(socket)
        if frame is None or conn.outbox.closing:
            return
        if not bucket.allow():
            ref = _ref_of(frame)
            if bucket.abusive:
                conn.send(Error(code=ErrorCode.RATE_LIMITED, message="too many frames; reconnect later", ref=ref))
                conn.outbox.close(CloseCode.RATE_LIMITED, "rate limited")
                return
            conn.send(Error(code=ErrorCode.RATE_LIMITED, message="too many frames; slow down", ref=ref))
            continue
        try:
            request = agent_requests.decode(frame)
        except FrameError as exc:
            conn.send(Error(code=exc.code, message=str(exc), ref=_ref_of(frame)))
            continue
        await hub.agent_request(conn, request)


@websocket("/ws/visitor")
async def visitor_socket(socket: Socket) -> None:
    """Widget endpoint: hello, welcome, then page views, activity and chat."""
    services = services_of(socket)
    hub = services.hub
    assert hub is not None
    settings = services.settings
    await socket.accept()
    key = _account_key(socket)
    account = await hub.account_by_key(key) if key and len(key) <= 64 else None
    if account is None:
        await _refuse(
            socket,
            ErrorCode.UNKNOWN_ACCOUNT,
            "unknown account key; copy data-account from the Frontdesk account settings",
            CloseCode.FORBIDDEN,
        )
        return
    origin = _header(socket, b"origin")
    if not origin_allowed(origin, _header(socket, b"host"), account.row.allowed_origins, settings.allowed_origins):
        await _refuse(
            socket,
            ErrorCode.ORIGIN_NOT_ALLOWED,
            f"pages from {origin} may not use this account; add the origin to the account's allowed origins",
            CloseCode.FORBIDDEN,
        )
        return
    try:
        first = await asyncio.wait_for(_receive(socket), settings.auth_timeout_seconds)
    except TimeoutError:
        await _refuse(socket, ErrorCode.BAD_FRAME, "no hello frame in time; send hello first", 1008)
        return
    if first is None:
        return
    try:
        hello = visitor_requests.decode(first)
    except FrameError as exc:
        await _refuse(socket, exc.code, str(exc), 1008)
        return
    if not isinstance(hello, VisitorHello):
        await _refuse(socket, ErrorCode.BAD_FRAME, "the first frame must be hello", 1008)
        return
    conn = VisitorConn(Outbox(socket, 1000), hello.tab_id)
    client = socket.scope.get("client")
    welcomed = await hub.visitor_hello(
        account, conn, hello, ip=client[0] if client else None, user_agent=_header(socket, b"user-agent") or ""
    )
    if not welcomed:
        try:
            await socket.send(text_event(encode(Banned(message=BANNED_TEXT)).decode()))
            await socket.close(CloseCode.FORBIDDEN, "banned")
        except Exception:  # noqa: S110 - the peer is already gone
            pass
        return
    try:
        await _visitor_loop(socket, hub, account, conn, TokenBucket(settings.visitor_rate))
    finally:
        await hub.visitor_disconnected(account, conn)
        await conn.outbox.finish()  # a close we asked for reaches the peer before the handler ends


async def _visitor_loop(
    socket: Socket, hub: Hub, account: AccountState, conn: VisitorConn, bucket: TokenBucket
) -> None:
    while True:
        frame = await _receive(socket)
        if frame is None or conn.outbox.closing:
            return
        if not bucket.allow():
            if bucket.abusive:
                conn.send(Error(code=ErrorCode.RATE_LIMITED, message="too many frames; reconnect later"))
                conn.outbox.close(CloseCode.RATE_LIMITED, "rate limited")
                return
            conn.send(Error(code=ErrorCode.RATE_LIMITED, message="too many frames; slow down"))
            continue
        try:
            message = visitor_requests.decode(frame)
        except FrameError as exc:
            conn.send(Error(code=exc.code, message=str(exc)))
            continue
        try:
            await hub.visitor_event(account, conn, message)
        except Exception:
            log.exception("visitor event %s failed", type(message).__name__)
            conn.send(Error(code=ErrorCode.INTERNAL, message="the server failed; try again"))
