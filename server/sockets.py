"""The two websocket endpoints as Litestar handlers: /ws/agent and /ws/visitor."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from protocol.codec import FrameError, agent_requests, encode
from protocol.messages import Auth, CloseCode, Error, ErrorCode
from protocol.rules import PROTOCOL_VERSION
from server.live.hub import AgentConn, Hub
from server.outbox import Outbox, text_event
from server.ratelimit import TokenBucket
from server.security import digest
from server.services import Services
from server.visitor import VISITOR_OUTBOX, VISITOR_PATH, VisitorSession, account_key

log = logging.getLogger(__name__)

_UNAVAILABLE = "the server could not reach its database; the app connects again by itself"

Socket = WebSocket[Any, Any, Any]


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
    return account_key(bytes(socket.scope.get("query_string", b"")))


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
    try:
        agent = await services.store.agent_by_token(token_hash)
        account = await hub.account(agent.account_id) if agent is not None else None
    except Exception:
        log.exception("agent socket: the token or account could not be read")
        await _refuse(socket, ErrorCode.UNAVAILABLE, _UNAVAILABLE, CloseCode.TRY_AGAIN_LATER)
        return
    if agent is None or account is None:
        await _refuse(socket, ErrorCode.UNAUTHORIZED, "the token is unknown or was revoked; sign in again", 4401)
        return
    conn = AgentConn(Outbox(socket, settings.outbox_limit), agent, token_hash)
    bucket = TokenBucket(settings.agent_rate)
    try:
        try:
            await hub.agent_connected(conn, account, auth)
        except Exception:
            log.exception("agent socket: the snapshot or replay failed")
            conn.send(Error(code=ErrorCode.UNAVAILABLE, message=_UNAVAILABLE))
            conn.outbox.close(CloseCode.TRY_AGAIN_LATER, ErrorCode.UNAVAILABLE.value)
            return
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


@websocket(VISITOR_PATH)
async def visitor_socket(socket: Socket) -> None:
    """Widget endpoint under any ASGI server (uvicorn with our protocol class uses ``server.wsvisitor``)."""
    await socket.accept()
    outbox = Outbox(socket, VISITOR_OUTBOX)
    session = VisitorSession(services_of(socket), outbox)
    try:
        if await session.open(_account_key(socket), _header(socket, b"origin"), _header(socket, b"host")):
            await _visitor_loop(socket, session)
    finally:
        await session.disconnected()
        await outbox.finish()  # a close we asked for reaches the peer before the handler ends


async def _visitor_loop(socket: Socket, session: VisitorSession) -> None:
    try:
        first = await asyncio.wait_for(_receive(socket), session.hello_timeout)
    except TimeoutError:
        session.hello_timed_out()
        return
    if first is None:
        return
    client = socket.scope.get("client")
    ip = client[0] if client else None
    if not await session.hello(first, ip=ip, user_agent=_header(socket, b"user-agent") or ""):
        return
    while True:
        frame = await _receive(socket)
        if frame is None or session.outbox.closing:
            return
        message = session.admit(frame)
        if message is not None:
            await session.event(message)
