"""Widget sockets without a task per tab: uvicorn's websocket protocol hands ``/ws/visitor`` to callbacks.

An idle browser tab is most of what a server holds, so its socket keeps only what it must: the
transport, the websockets sans-I/O parser, the visitor's session and outbox, and a keepalive timer.
Frames parsed by the sans-I/O protocol go to :class:`VisitorProtocol`, which calls the hub through
the same :class:`server.visitor.VisitorSession` as the Litestar handler, in a short task that exists
only while a hub call awaits (like the outbox's writer). There is no ASGI scope, receive queue,
Litestar ``WebSocket`` or handler coroutine per socket.

The take-over happens only when the server runs the class from :func:`protocol_class` (``serve`` and
the embedded server do); any other ASGI server, or uvicorn with its own websocket protocol, runs the
Litestar handler in ``server.sockets`` with the same rules.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections import deque
from collections.abc import Coroutine, Sequence
from typing import Any, ClassVar
from urllib.parse import unquote

from litestar import Litestar
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.utils import ClientDisconnected
from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from server.outbox import Outbox
from server.services import Services
from server.visitor import VISITOR_OUTBOX, VISITOR_PATH, VisitorSession, account_key
from server.wsprotocol import SEND_TEXTS, LeanWebSocketProtocol, forget_request, text_frame, write_texts

log = logging.getLogger(__name__)

# A socket's phases: the account check runs, then the hello is awaited, checked, and the socket is open.
_OPENING, _AWAIT_HELLO, _HELLO, _OPEN, _REFUSED = range(5)
_CHECK = 0
"""Work item: check the account and origin."""
_LOST = 1
"""Work item: the connection is gone."""
CLOSE_TIMEOUT = 10.0
"""Seconds to wait for the peer's answer to our close frame (uvicorn's value)."""


class _Shared:
    """What every widget socket of one server shares (one object per server, not per socket)."""

    __slots__ = ("connections", "loop", "ping_interval", "ping_timeout", "tasks", "trusted")

    def __init__(self, owner: LeanWebSocketProtocol) -> None:
        config = owner.config
        self.loop = owner.loop
        self.connections: set[Any] = owner.connections
        self.tasks: set[asyncio.Task[None]] = owner.tasks
        self.ping_interval: float | None = config.ws_ping_interval
        self.ping_timeout: float | None = config.ws_ping_timeout
        # uvicorn's own trust rules for X-Forwarded-For (its middleware wraps only the ASGI app).
        self.trusted = (
            ProxyHeadersMiddleware(owner.app, config.forwarded_allow_ips).trusted_hosts
            if config.proxy_headers
            else None
        )


def _first(headers: Headers, name: str) -> str | None:
    """The first value of a header, as the ASGI handler reads it (``get`` raises when a header repeats)."""
    values = headers.get_all(name)
    return values[0] if values else None


class VisitorProtocol(asyncio.Protocol):
    """One widget socket after the handshake: frames in, hub calls in a short task, frames out."""

    __slots__ = (
        "_backlog",
        "_close_sent",
        "_conn",
        "_deadline",
        "_fragments",
        "_lost",
        "_opening",
        "_phase",
        "_ping",
        "_read_paused",
        "_session",
        "_shared",
        "_task",
        "_timer",
        "_transport",
        "_writable",
    )

    def __init__(self, shared: _Shared, transport: asyncio.Transport, conn: ServerProtocol, services: Services):
        self._shared = shared
        self._transport = transport
        self._conn = conn
        self._session = VisitorSession(services, Outbox(self, VISITOR_OUTBOX))
        self._phase = _OPENING
        self._opening: tuple[str, str | None, str | None, str | None, str] | None = None
        """Key, origin, host, client address and user agent until the hello was handled."""
        self._task: asyncio.Task[None] | None = None
        self._backlog: deque[str | bytes | int] | None = None
        """Work that arrived while the task ran (frames, _LOST)."""
        self._fragments: tuple[bool, list[bytes]] | None = None
        """A message arriving in fragments: whether it is text, and its parts so far."""
        self._deadline: asyncio.TimerHandle | None = None
        """The hello deadline, then the close handshake's."""
        self._timer: asyncio.TimerHandle | None = None
        """Keepalive: the next ping, or the deadline of the ping in flight."""
        self._ping: tuple[bytes, float] | None = None
        self._writable: asyncio.Future[None] | None = None
        """Set while the transport's buffer is full."""
        self._read_paused = False
        self._close_sent = False
        self._lost = False

    # ------------------------------------------------------------------ the handshake

    def start(
        self, request: Request, rest: list[Any], client: tuple[str, int] | None, default_headers: list[Any]
    ) -> None:
        """Accept the handshake and check the account in a short task."""
        conn = self._conn
        response = conn.accept(request)
        if response.status_code != 101:
            conn.send_response(response)
            self._close_sent = True
            self._transport.write(b"".join(conn.data_to_send()))
            self._transport.close()
            return
        headers = request.headers
        path, _, query = request.path.partition("?")
        self._opening = (
            account_key(query.encode("latin-1")),
            _first(headers, "Origin"),
            _first(headers, "Host"),
            self._client_ip(client, headers.get_all("X-Forwarded-For")),
            _first(headers, "User-Agent") or "",
        )
        forget_request(request)
        del response.headers["Date"]
        response.headers.update([(name.decode("latin-1"), value.decode("latin-1")) for name, value in default_headers])
        conn.send_response(response)
        self._transport.write(b"".join(conn.data_to_send()))
        self._shared.connections.add(self)
        if client is not None:
            logging.getLogger("uvicorn.error").info('%s:%d - "WebSocket %s" [accepted]', *client, path)
        self._start_keepalive()
        self._submit(_CHECK)
        self._events(rest)

    def _client_ip(self, client: tuple[str, int] | None, forwarded: list[str]) -> str | None:
        host = client[0] if client else None
        trusted = self._shared.trusted
        if trusted is not None and forwarded and host in trusted:
            address, _ = trusted.get_trusted_client_address(", ".join(forwarded))
            if address:  # an empty X-Forwarded-For leaves the peer's address
                host = address
        return host

    # ------------------------------------------------------------------ asyncio callbacks

    def data_received(self, data: bytes) -> None:
        """Parse frames and act on them."""
        conn = self._conn
        conn.receive_data(data)
        if conn.parser_exc is not None:  # bad framing: websockets has queued the close frame
            self._fail()
            return
        self._events(conn.events_received())

    def eof_received(self) -> None:
        """The peer shut its side: let the transport close."""

    def pause_writing(self) -> None:
        """The transport's buffer is full: writers wait."""
        if self._writable is None:
            self._writable = self._shared.loop.create_future()

    def resume_writing(self) -> None:
        """The transport's buffer drained."""
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: stop the timers, drop queued frames, detach the visitor."""
        self._lost = True
        self._stop_timers()
        self.resume_writing()
        self._shared.connections.discard(self)
        self._session.outbox.abandon()
        if self._task is not None:
            self._later(_LOST)  # after the frames that arrived before it, as the ASGI path sees them
        elif self._session.conn is not None:
            self._spawn(self._work(_LOST))
        if exc is None:
            self._transport.close()

    def shutdown(self) -> None:
        """The server stops (uvicorn calls this on every connection): close with 1012."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._close_sent and self._conn.state is State.OPEN:
            self._conn.send_close(1012)
            self._transport.write(b"".join(self._conn.data_to_send()))
        self._transport.close()

    # ------------------------------------------------------------------ frames

    def _events(self, events: list[Any]) -> None:
        for event in events:
            if not isinstance(event, Frame):
                continue
            opcode = event.opcode
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                if event.fin:
                    self._message(opcode is Opcode.TEXT, event.data)
                else:
                    self._fragments = (opcode is Opcode.TEXT, [bytes(event.data)])
            elif opcode is Opcode.CONT:
                fragments = self._fragments
                if fragments is not None:
                    fragments[1].append(bytes(event.data))
                    if event.fin:
                        self._fragments = None
                        self._message(fragments[0], b"".join(fragments[1]))
            elif opcode is Opcode.PING:
                self._transport.write(b"".join(self._conn.data_to_send()))  # websockets queued the pong
            elif opcode is Opcode.PONG:
                self._pong(bytes(event.data))
            elif opcode is Opcode.CLOSE:
                self._closed_by_peer()

    def _message(self, text: bool, data: bytes | bytearray | memoryview) -> None:
        if self._close_sent or self._phase == _REFUSED:
            return  # past our close: read on until the peer answers it, but act on nothing
        if text:
            try:
                frame: str | bytes = bytes(data).decode()
            except UnicodeDecodeError:
                self._conn.fail(1007, "invalid UTF-8")
                self._fail()
                return
        else:
            frame = bytes(data)
        if self._phase == _AWAIT_HELLO and self._deadline is not None:
            self._deadline.cancel()  # the hello came in time
            self._deadline = None
        self._submit(frame)

    def _closed_by_peer(self) -> None:
        if self._close_sent:
            # The peer answered our close frame: the closing handshake is complete.
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
                self._transport.close()
            return
        if not self._transport.is_closing():
            self._transport.write(b"".join(self._conn.data_to_send()))  # websockets queued the answer
            self._transport.close()

    def _fail(self) -> None:
        self._transport.write(b"".join(self._conn.data_to_send()))
        self._close_sent = True
        self._transport.close()

    # ------------------------------------------------------------------ work in a short task

    def _submit(self, item: str | bytes | int) -> None:
        if self._task is None:
            self._spawn(self._work(item))
        else:
            self._later(item)

    def _later(self, item: str | bytes | int) -> None:
        backlog = self._backlog
        if backlog is None:
            backlog = self._backlog = deque()
        backlog.append(item)
        if not self._read_paused and not self._lost:
            # One frame at a time, as the ASGI path reads them: a fast sender waits in the kernel's buffers.
            self._read_paused = True
            self._transport.pause_reading()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = self._task = self._shared.loop.create_task(work)
        tasks = self._shared.tasks
        tasks.add(task)  # uvicorn waits for these at shutdown, like for its ASGI tasks
        task.add_done_callback(tasks.discard)

    async def _work(self, item: str | bytes | int) -> None:
        try:
            while True:
                try:
                    await self._step(item)
                except Exception:
                    log.exception("widget socket failed")
                    self._phase = _REFUSED
                    self._transport.close()
                backlog = self._backlog
                if not backlog:
                    return
                item = backlog.popleft()
        finally:
            self._task = None
            self._backlog = None
            if self._read_paused and not self._lost:
                self._read_paused = False
                self._transport.resume_reading()

    async def _step(self, item: str | bytes | int) -> None:
        session = self._session
        if item == _LOST:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._opening = None
            await session.disconnected()
            return
        opening = self._opening
        if item == _CHECK:
            assert opening is not None
            if await session.open(*opening[:3]):
                self._phase = _AWAIT_HELLO
                if not self._lost:
                    self._deadline = self._shared.loop.call_later(session.hello_timeout, self._hello_late)
            else:
                self._phase = _REFUSED
            return
        assert not isinstance(item, int)
        if self._phase == _AWAIT_HELLO:
            assert opening is not None
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._phase = _HELLO
            self._opening = None
            welcomed = await session.hello(item, ip=opening[3], user_agent=opening[4])
            self._phase = _OPEN if welcomed else _REFUSED
        elif self._phase == _OPEN:
            message = session.admit(item)
            if message is not None:
                await session.event(message)

    def _hello_late(self) -> None:
        self._deadline = None
        if self._phase == _AWAIT_HELLO and self._task is None:
            self._phase = _REFUSED
            self._opening = None
            self._session.hello_timed_out()

    # ------------------------------------------------------------------ the outbox's sink

    @property
    def scope(self) -> dict[str, Any]:
        """The one scope entry the outbox reads: the batch writer."""
        return {"extensions": {SEND_TEXTS: self.send_texts}}

    async def send(self, message: Any) -> None:
        """Send one ASGI ``websocket.send`` text event."""
        await self.send_texts([message["text"]])

    async def send_texts(self, frames: Sequence[str]) -> None:
        """Send text frames with one write; raises ClientDisconnected when the socket is past its close."""
        while self._writable is not None:
            await self._writable  # flow control: wait while the peer's buffer is full
        if self._lost or self._close_sent or self._conn.state is not State.OPEN:
            raise ClientDisconnected
        # A widget's frames go to it alone: the shared frame cache (for deltas to many agents) would only hold them.
        write_texts(self._conn, self._transport, frames, text_frame)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Send a close frame; the transport closes on the peer's answer or after CLOSE_TIMEOUT."""
        if self._lost or self._close_sent or self._transport.is_closing():
            return
        self._conn.send_close(code, reason or "")
        self._transport.write(b"".join(self._conn.data_to_send()))
        self._close_sent = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._deadline is not None:
            self._deadline.cancel()
        if self._read_paused:
            self._read_paused = False
            self._transport.resume_reading()
        self._deadline = self._shared.loop.call_later(CLOSE_TIMEOUT, self._transport.close)

    # ------------------------------------------------------------------ keepalive (uvicorn's pings)

    def _start_keepalive(self) -> None:
        interval = self._shared.ping_interval
        if interval is not None and interval > 0:
            self._timer = self._shared.loop.call_later(interval, self._send_ping)

    def _send_ping(self) -> None:
        self._timer = None
        if self._close_sent or self._transport.is_closing():
            return
        payload = struct.pack("!I", random.getrandbits(32))
        loop = self._shared.loop
        self._ping = (payload, loop.time())
        self._conn.send_ping(payload)
        self._transport.write(b"".join(self._conn.data_to_send()))
        timeout = self._shared.ping_timeout
        if timeout is not None:
            self._timer = loop.call_later(timeout, self._ping_late)
        else:
            self._start_keepalive()

    def _pong(self, payload: bytes) -> None:
        ping = self._ping
        if ping is None or payload != ping[0]:
            return  # unsolicited or stale
        self._ping = None
        if self._timer is not None and self._shared.ping_timeout is not None:
            self._timer.cancel()
            loop = self._shared.loop
            rtt = loop.time() - ping[1]
            self._timer = loop.call_later(max(0.0, (self._shared.ping_interval or 0.0) - rtt), self._send_ping)

    def _ping_late(self) -> None:
        self._timer = None
        self._ping = None
        if self._close_sent or self._transport.is_closing():
            return
        self._conn.fail(1011, "keepalive ping timeout")
        self._fail()

    def _stop_timers(self) -> None:
        for timer in (self._timer, self._deadline):
            if timer is not None:
                timer.cancel()
        self._timer = self._deadline = None
        self._ping = None


class _TakingOver(LeanWebSocketProtocol):
    """uvicorn's protocol that gives widget sockets to :class:`VisitorProtocol` (see :func:`protocol_class`)."""

    frontdesk_app: ClassVar[Litestar]
    shared: ClassVar[_Shared | None] = None
    visitor: VisitorProtocol | None = None
    """Set when this connection was handed over; callbacks go there until the transport points there."""

    def take_over(self, request: Request, rest: list[Any]) -> bool:
        """Serve the widget endpoint callback-style once the app has started; everything else as ASGI."""
        path = unquote(request.path.partition("?")[0])
        services: Services | None = self.frontdesk_app.state.get("services")
        if self.root_path or path != VISITOR_PATH or services is None or services.hub is None:
            return False
        shared = type(self).shared
        if shared is None:
            shared = type(self).shared = _Shared(self)
        visitor = self.visitor = VisitorProtocol(shared, self.transport, self.conn, services)
        self.connections.discard(self)
        visitor.start(request, rest, self.client, self.default_headers)
        # The HTTP protocol that upgraded to us points the transport at us after this callback returns.
        self.loop.call_soon(self.transport.set_protocol, visitor)
        return True

    def data_received(self, data: bytes) -> None:
        """Forward once handed over."""
        if self.visitor is not None:
            self.visitor.data_received(data)
        else:
            super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forward once handed over."""
        if self.visitor is not None:
            self.visitor.connection_lost(exc)
        else:
            super().connection_lost(exc)

    def pause_writing(self) -> None:
        """Forward once handed over."""
        if self.visitor is not None:
            self.visitor.pause_writing()
        else:
            super().pause_writing()

    def resume_writing(self) -> None:
        """Forward once handed over."""
        if self.visitor is not None:
            self.visitor.resume_writing()
        else:
            super().resume_writing()


def protocol_class(app: Litestar) -> type[LeanWebSocketProtocol]:
    """uvicorn's ``ws`` protocol class for ``app``: widget sockets without a task, the rest through the app."""
    return type("FrontdeskWebSocketProtocol", (_TakingOver,), {"frontdesk_app": app, "shared": None})
