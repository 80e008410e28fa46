"""A minimal real agent websocket client for the widget's tests: auth, a live visitor map, requests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Callable
from typing import TypeVar

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from protocol.codec import agent_events, encode
from protocol.messages import (
    AgentToServer,
    Auth,
    Error,
    Hello,
    History,
    MessageAdded,
    MessageUpdated,
    PageVisit,
    Result,
    ServerToAgent,
    Snapshot,
    Visitor,
    VisitorChanged,
    VisitorLeft,
    VisitorPatch,
    apply_patch,
)
from protocol.rules import PROTOCOL_VERSION

T = TypeVar("T")


def time_factor() -> float:
    """Multiplier for every time budget in these tests (slow CI machines set FRONTDESK_TEST_TIME_FACTOR)."""
    return float(os.environ.get("FRONTDESK_TEST_TIME_FACTOR", "1") or 1)


class AgentSocket:
    """An agent connected to /ws/agent that keeps what the server told it."""

    def __init__(self, ws: ClientConnection, hello: Hello) -> None:
        self.ws = ws
        self.hello = hello
        self.visitors: dict[str, Visitor] = {}
        self.events: list[ServerToAgent] = []
        self._changed = asyncio.Condition()
        self._refs = itertools.count(1)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, agent_ws_url: str, token: str) -> AgentSocket:
        """Connect and authenticate; the snapshot and deltas are then read in the background."""
        ws = await connect(agent_ws_url, proxy=None)
        await ws.send(encode(Auth(token=token, protocol=PROTOCOL_VERSION, client="widget-tests")).decode())
        first = agent_events.decode(await asyncio.wait_for(ws.recv(), 10 * time_factor()))
        if not isinstance(first, Hello):
            await ws.close()
            raise AssertionError(f"expected hello after auth, got {first!r}")
        return cls(ws, first)

    async def _read(self) -> None:
        async for frame in self.ws:
            event = agent_events.decode(frame)
            if isinstance(event, Snapshot):
                self.visitors = {v.id: v for v in event.visitors}
            elif isinstance(event, VisitorChanged):
                # Arrivals leave the trail out; start it at the arrival page and extend it with each patch's page.
                v = event.visitor
                first = PageVisit(url=v.current_url or "", title=v.current_title or "", at=v.visit_started_at)
                self.visitors[v.id] = msgspec.structs.replace(v, pages=(first,))
            elif isinstance(event, VisitorPatch):
                current = self.visitors.get(event.visitor_id)
                if current is not None:
                    self.visitors[event.visitor_id] = apply_patch(current, event, keep_trail=True)
            elif isinstance(event, VisitorLeft):
                self.visitors.pop(event.visitor_id, None)
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    async def wait_for(self, probe: Callable[[], T | None], within: float, what: str) -> T:
        """Wait (bounded) until ``probe()`` returns something; fail naming ``what`` otherwise."""
        found: list[T] = []

        def check() -> bool:
            value = probe()
            if value is not None and value is not False:
                found.append(value)
                return True
            return False

        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(check)
        except TimeoutError:
            raise AssertionError(f"timed out after {within:.1f} s waiting for {what}") from None
        return found[0]

    async def wait_visitor(self, predicate: Callable[[Visitor], bool], within: float, what: str) -> Visitor:
        """Wait until a visitor matching ``predicate`` is known."""
        return await self.wait_for(
            lambda: next((v for v in self.visitors.values() if predicate(v)), None), within, what
        )

    def messages(self) -> list[MessageAdded]:
        """Every message delta seen so far."""
        return [e for e in self.events if isinstance(e, MessageAdded)]

    def message_updates(self) -> list[MessageUpdated]:
        """Every delivered/read update seen so far."""
        return [e for e in self.events if isinstance(e, MessageUpdated)]

    def next_ref(self) -> str:
        """A fresh request reference."""
        return f"r{next(self._refs)}"

    async def request(self, message: AgentToServer, within: float | None = None) -> Result | History:
        """Send a request carrying a ``ref`` and return its answer; an error frame fails the test."""
        ref = getattr(message, "ref")  # noqa: B009 - every request in the union that is answered has one
        await self.ws.send(encode(message).decode())

        def answer() -> Result | History | Error | None:
            for e in self.events:
                if isinstance(e, Result | History | Error) and e.ref == ref:
                    return e
            return None

        got: Result | History | Error = await self.wait_for(
            answer, within or 5 * time_factor(), f"the answer to {type(message).__name__}"
        )
        if isinstance(got, Error):
            raise AssertionError(f"{type(message).__name__} failed: {got.code}: {got.message}")
        return got

    async def close(self) -> None:
        """Close the socket and stop reading."""
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
