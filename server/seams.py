"""The seams that let several processes share an account later: presence, sequence, history, bus.

Each comes with its one-process, in-memory implementation; Redis or PostgreSQL versions can
implement the same protocols without touching the hub.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Generic, Protocol, TypeVar

V = TypeVar("V")

Sink = Callable[[str], None]
"""Receives an encoded frame; must not block (it queues)."""


class Presence(Protocol[V]):
    """Who is on each account's site right now (hot state, never written per event to SQL)."""

    def get(self, account_id: int, visitor_id: str) -> V | None:
        """A present visitor of the account, or None."""
        ...

    def put(self, account_id: int, visitor_id: str, visitor: V) -> None:
        """Add or replace a visitor."""
        ...

    def remove(self, account_id: int, visitor_id: str) -> None:
        """Forget a visitor."""
        ...

    def visitors(self, account_id: int) -> Iterable[V]:
        """Every present visitor of the account."""
        ...

    def count(self) -> int:
        """How many visitors are present over all accounts."""
        ...


class MemoryPresence(Generic[V]):
    """Presence as a dict per account."""

    def __init__(self) -> None:
        self._by_account: dict[int, dict[str, V]] = {}

    def get(self, account_id: int, visitor_id: str) -> V | None:
        """A present visitor of the account, or None."""
        return self._by_account.get(account_id, {}).get(visitor_id)

    def put(self, account_id: int, visitor_id: str, visitor: V) -> None:
        """Add or replace a visitor."""
        self._by_account.setdefault(account_id, {})[visitor_id] = visitor

    def remove(self, account_id: int, visitor_id: str) -> None:
        """Forget a visitor."""
        self._by_account.get(account_id, {}).pop(visitor_id, None)

    def visitors(self, account_id: int) -> Iterable[V]:
        """Every present visitor of the account (a copy: callers may change presence while iterating)."""
        return list(self._by_account.get(account_id, {}).values())

    def count(self) -> int:
        """How many visitors are present over all accounts."""
        return sum(len(v) for v in self._by_account.values())


class Sequencer(Protocol):
    """Hands out each account's increasing delta numbers."""

    def current(self, account_id: int) -> int:
        """The last number handed out (or the starting point)."""
        ...

    def next(self, account_id: int) -> int:
        """The next number."""
        ...


class MemorySequencer:
    """Counters in memory, each starting at the current time in microseconds.

    Starting from the clock means a restarted process never reuses a number an agent still
    holds: its resume then finds nothing and gets a fresh snapshot instead of wrong deltas.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counters: dict[int, int] = {}

    def current(self, account_id: int) -> int:
        """The last number handed out (or the starting point)."""
        value = self._counters.get(account_id)
        if value is None:
            value = self._counters[account_id] = int(self._clock() * 1_000_000)
        return value

    def next(self, account_id: int) -> int:
        """The next number."""
        value = self.current(account_id) + 1
        self._counters[account_id] = value
        return value


class DeltaHistory(Protocol):
    """The last deltas of each account, for agents that resume."""

    def append(self, account_id: int, seq: int, frame: str) -> None:
        """Remember an encoded delta (seqs arrive contiguous and increasing)."""
        ...

    def since(self, account_id: int, after: int, current: int) -> list[str] | None:
        """Every delta after ``after`` up to ``current``, or None when some are no longer kept."""
        ...

    def forget(self, account_id: int) -> None:
        """Drop every kept delta of the account (an erasure); earlier resume points get a snapshot."""
        ...


class MemoryHistory:
    """A bounded deque of encoded deltas per account."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._by_account: dict[int, deque[tuple[int, str]]] = {}

    def append(self, account_id: int, seq: int, frame: str) -> None:
        """Remember an encoded delta."""
        kept = self._by_account.get(account_id)
        if kept is None:
            kept = self._by_account[account_id] = deque(maxlen=self._size)
        kept.append((seq, frame))

    def since(self, account_id: int, after: int, current: int) -> list[str] | None:
        """Every delta after ``after`` up to ``current``, or None when some are no longer kept."""
        if after == current:
            return []
        if after > current:
            return None
        kept = self._by_account.get(account_id)
        if not kept or kept[0][0] > after + 1:
            return None
        start = after + 1 - kept[0][0]
        return [frame for seq, frame in islice(kept, start, None) if seq <= current]

    def forget(self, account_id: int) -> None:
        """Drop every kept delta of the account (an erasure); earlier resume points get a snapshot."""
        self._by_account.pop(account_id, None)


class Bus(Protocol):
    """Carries an account's encoded frames to the sinks (agent sockets) subscribed to it."""

    def subscribe(self, account_id: int, sink: Sink) -> None:
        """Start delivering the account's frames to ``sink``."""
        ...

    def unsubscribe(self, account_id: int, sink: Sink) -> None:
        """Stop delivering to ``sink``."""
        ...

    def publish(self, account_id: int, frame: str, *, exclude: Sink | None = None) -> None:
        """Deliver one frame to every sink of the account but ``exclude``, in publish order."""
        ...


class MemoryBus:
    """In-process fan-out: the same encoded string goes to every sink."""

    def __init__(self) -> None:
        self._sinks: dict[int, dict[Sink, None]] = {}

    def subscribe(self, account_id: int, sink: Sink) -> None:
        """Start delivering the account's frames to ``sink``."""
        self._sinks.setdefault(account_id, {})[sink] = None

    def unsubscribe(self, account_id: int, sink: Sink) -> None:
        """Stop delivering to ``sink``."""
        sinks = self._sinks.get(account_id)
        if sinks is not None:
            sinks.pop(sink, None)

    def publish(self, account_id: int, frame: str, *, exclude: Sink | None = None) -> None:
        """Deliver one frame to every sink of the account but ``exclude``."""
        sinks = self._sinks.get(account_id)
        if sinks:
            for sink in list(sinks):
                if sink != exclude:
                    sink(frame)

    def sinks(self, account_id: int) -> Iterator[Sink]:
        """The current sinks of an account."""
        return iter(list(self._sinks.get(account_id, ())))
