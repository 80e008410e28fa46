"""uvicorn's websocket protocol with changes for many idle sockets and fast fan-out."""

from __future__ import annotations

import struct
from asyncio import Transport
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

SEND_TEXTS = "frontdesk.send_texts"
"""ASGI scope extension: ``await send_texts([frame, ...])`` writes several text frames at once."""


_WIRE: OrderedDict[int, tuple[str, bytes]] = OrderedDict()
_WIRE_SIZE = 4096


def wire_frame(text: str) -> bytes:
    """The bytes of an unmasked, unfragmented, uncompressed server text frame carrying ``text``.

    A delta goes to every agent of an account as the same string object, so its frame is built
    once and reused (the cache keeps the string alive, so its id cannot be reused meanwhile).
    """
    key = id(text)
    cached = _WIRE.get(key)
    if cached is not None and cached[0] is text:
        return cached[1]
    frame = text_frame(text)
    _WIRE[key] = (text, frame)
    if len(_WIRE) > _WIRE_SIZE:
        _WIRE.popitem(last=False)
    return frame


def text_frame(text: str) -> bytes:
    """The bytes of one server text frame, built every time (for frames that go to a single socket)."""
    data = text.encode()
    size = len(data)
    if size < 126:
        head = struct.pack("!BB", 0x81, size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x81, 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 127, size)
    return head + data


def write_texts(
    conn: ServerProtocol, transport: Transport, frames: Sequence[str], framing: Callable[[str], bytes] = wire_frame
) -> None:
    """Write text frames in order with one system call, after whatever the protocol has queued (a pong)."""
    pending = conn.data_to_send()
    transport.write(b"".join([*pending, *map(framing, frames)]))


def forget_request(request: Request) -> None:
    """Drop a handshake request's headers once they were read.

    The websockets parser's generator keeps the request as a local variable for the socket's whole
    life (~2 KiB of header strings per idle socket); only the object itself can be emptied.
    """
    request.headers.clear()


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, plus:

    - the parsed handshake request and response are dropped once the socket is accepted
      (uvicorn never reads them again; ~2 KiB per idle socket);
    - a ``send_texts`` extension writes a batch of frames with one transport write (one system
      call) instead of one per frame, which is most of the cost of fanning deltas out to agents;
    - :meth:`take_over` lets a subclass serve some paths without the ASGI app (``server.wsvisitor``).
    """

    def handle_events(self) -> None:
        """Offer a handshake to :meth:`take_over` first; everything else goes to uvicorn."""
        events = self.conn.events_received()
        if events and isinstance(events[0], Request) and self.take_over(events[0], events[1:]):
            return
        self.conn.events = events  # put back for uvicorn's dispatch
        super().handle_events()

    def take_over(self, request: Request, rest: list[Any]) -> bool:
        """Serve this connection some other way (``rest``: events parsed after the handshake); False: the app."""
        return False

    def handle_connect(self, event: Request) -> None:
        """Build the scope as uvicorn does and offer the batch sender in its extensions."""
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)
        if scope is not None:
            scope.setdefault("extensions", {})[SEND_TEXTS] = self.send_texts

    async def send(self, message: Any) -> None:
        """Send as uvicorn does, then forget the handshake."""
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            forget_request(self.request)
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]

    async def send_texts(self, frames: Sequence[str]) -> None:
        """Send text frames in order with a single write; raises ClientDisconnected like ``send``."""
        await self.writable.wait()  # flow control: wait while the peer's buffer is full
        if self.disconnected or self.close_sent or not self.handshake_complete or self.conn.state is not State.OPEN:
            raise ClientDisconnected
        write_texts(self.conn, self.transport, frames)
