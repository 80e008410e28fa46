"""Per-socket outgoing queue: callers push without awaiting; one short-lived task writes."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from litestar.types import WebSocketSendEvent

from server.wsprotocol import SEND_TEXTS

log = logging.getLogger(__name__)


def text_event(frame: str) -> WebSocketSendEvent:
    """The ASGI event that sends one text frame."""
    return {"type": "websocket.send", "text": frame, "bytes": None}


YIELD_EVERY = 16
BATCH = 256
"""Frames written to one socket at once when the server offers batch writes."""
TOO_SLOW = 1013  # "try again later": the peer reads too slowly; an agent resumes where it was


class Sink(Protocol):
    """What an outbox writes to: a Litestar ``WebSocket``, or ``server.wsvisitor``'s protocol."""

    @property
    def scope(self) -> Any:
        """The connection's ASGI scope (only its ``extensions`` are read)."""

    @property
    def send(self) -> Callable[[Any], Awaitable[None]]:
        """Sends one ASGI ``websocket.send`` event."""

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Send a close frame."""


class Outbox:
    """Frames waiting for one websocket, written in order by a task that exists only while needed."""

    __slots__ = ("_closing", "_limit", "_queue", "_send_texts", "_socket", "_task", "closed", "on_overflow")

    def __init__(self, socket: Sink, limit: int) -> None:
        self._socket = socket
        self._limit = limit
        # The server's batch writer when it offers one (server.wsprotocol); plain ASGI sends otherwise.
        extensions: Any = socket.scope.get("extensions") or {}
        self._send_texts: Callable[[list[str]], Awaitable[None]] | None = extensions.get(SEND_TEXTS)
        # Created on demand and dropped when drained: an idle socket keeps no deque (~600 bytes).
        self._queue: deque[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing: tuple[int, str] | None = None
        self.closed = False
        self.on_overflow: Callable[[str], bool] | None = None
        """Called with the frame that found ``limit`` frames waiting; True when the owner made room and
        took care of that frame (an agent is resynchronised). Without it, or on False, the socket is
        closed as too slow (1013)."""

    @property
    def closing(self) -> bool:
        """Whether a close was requested or happened."""
        return self.closed or self._closing is not None

    def push(self, frame: str) -> None:
        """Queue one text frame."""
        if self._closing is not None or self.closed:
            return
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        elif len(queue) >= self._limit:
            if self.on_overflow is not None and self.on_overflow(frame):
                return
            queue.clear()
            self.close(TOO_SLOW, "too many frames waiting; reconnect")
            return
        queue.append(frame)
        self._wake()

    @property
    def waiting(self) -> int:
        """Frames queued and not yet written."""
        return len(self._queue) if self._queue is not None else 0

    def discard(self, drop: Callable[[str], bool]) -> int:
        """Remove the queued frames ``drop`` picks (order of the rest kept); returns how many."""
        queue = self._queue
        if not queue:
            return 0
        kept = [frame for frame in queue if not drop(frame)]
        dropped = len(queue) - len(kept)
        queue.clear()
        queue.extend(kept)
        return dropped

    async def drained(self) -> None:
        """Wait until every queued frame was written (the socket took them), or the socket closed.

        Writes wait while the peer's buffer is full (flow control), so this is backpressure: a
        sender that waits for it between large frames queues no more than the peer reads.
        """
        while self._queue and not self.closed:
            task = self._task
            if task is None:
                return
            await asyncio.wait({task})

    def close(self, code: int, reason: str = "") -> None:
        """Close the socket after the frames already queued."""
        if self._closing is None and not self.closed:
            self._closing = (code, reason[:120])
            self._wake()

    def _wake(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        socket = self._socket
        queue = self._queue if self._queue is not None else deque()
        try:
            send_texts = self._send_texts
            sent = 0
            while queue and not self.closed:
                if send_texts is not None:
                    batch = [queue.popleft() for _ in range(min(len(queue), BATCH))]
                    await send_texts(batch)
                    sent += YIELD_EVERY
                else:
                    await socket.send(text_event(queue.popleft()))
                    sent += 1
                if sent % YIELD_EVERY == 0:
                    # A send that does not block never yields: let other sockets and a lost
                    # connection's callback run, or a long queue starves the loop.
                    await asyncio.sleep(0)
            if self._closing is not None and not self.closed:
                self.closed = True
                code, reason = self._closing
                await socket.close(code, reason)
        except Exception:  # the peer is gone; the reader sees the disconnect and cleans up
            self.closed = True
            queue.clear()
        finally:
            self._task = None
            if queue and not self.closed:
                self._wake()
            elif self._queue is queue and not queue:
                self._queue = None

    def abandon(self) -> None:
        """The peer is gone: drop what is queued and write nothing more."""
        self.closed = True
        self._queue = None

    async def finish(self) -> None:
        """At the end of a handler: deliver a close we asked for, or drop everything if the peer left."""
        if self._closing is not None and not self.closed:
            await self.flush()
        else:
            self.abandon()

    async def flush(self, within: float = 2.0) -> None:
        """Wait (bounded) until everything queued is written."""
        task = self._task
        if task is not None:
            await asyncio.wait({task}, timeout=within)
