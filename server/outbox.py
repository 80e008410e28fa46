"""Per-socket outgoing queue: callers push without awaiting; one short-lived task writes."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from litestar.connection import WebSocket
from litestar.types import WebSocketSendEvent

log = logging.getLogger(__name__)


def text_event(frame: str) -> WebSocketSendEvent:
    """The ASGI event that sends one text frame."""
    return {"type": "websocket.send", "text": frame, "bytes": None}


TOO_SLOW = 1013  # "try again later": the peer reads too slowly; an agent resumes where it was


class Outbox:
    """Frames waiting for one websocket, written in order by a task that exists only while needed."""

    __slots__ = ("_closing", "_limit", "_queue", "_socket", "_task", "closed")

    def __init__(self, socket: WebSocket[Any, Any, Any], limit: int) -> None:
        self._socket = socket
        self._limit = limit
        self._queue: deque[str] = deque()
        self._task: asyncio.Task[None] | None = None
        self._closing: tuple[int, str] | None = None
        self.closed = False

    @property
    def closing(self) -> bool:
        """Whether a close was requested or happened."""
        return self.closed or self._closing is not None

    def push(self, frame: str) -> None:
        """Queue one text frame."""
        if self._closing is not None or self.closed:
            return
        if len(self._queue) >= self._limit:
            self._queue.clear()
            self.close(TOO_SLOW, "too many frames waiting; reconnect")
            return
        self._queue.append(frame)
        self._wake()

    def close(self, code: int, reason: str = "") -> None:
        """Close the socket after the frames already queued."""
        if self._closing is None and not self.closed:
            self._closing = (code, reason[:120])
            self._wake()

    def _wake(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        socket, queue = self._socket, self._queue
        try:
            while queue:
                await socket.send(text_event(queue.popleft()))
            if self._closing is not None:
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

    async def flush(self, within: float = 2.0) -> None:
        """Wait (bounded) until everything queued is written."""
        task = self._task
        if task is not None:
            await asyncio.wait({task}, timeout=within)
