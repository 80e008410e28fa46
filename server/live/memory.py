"""The seams in memory: one server process, nothing shared (the embedded default)."""

from __future__ import annotations

import itertools
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from itertools import islice

from server.live.seams import (
    Control,
    ControlHandler,
    DeltaLog,
    Fields,
    LogEntry,
    LogListener,
    LogPosition,
    Moved,
    Page,
    Seams,
    Stored,
)


class MemoryDeltaLog:
    """A counter, a bounded deque and the listeners of each account.

    Each account's seq starts at the clock in microseconds, so agents of a restarted process
    (a new epoch anyway) never see a number they hold handed out again.
    """

    def __init__(self, history_size: int, clock: Callable[[], float] = time.time) -> None:
        self.epoch = secrets.token_hex(8)
        self._size = history_size
        self._clock = clock
        self._seq: dict[int, int] = {}
        self._kept: dict[int, deque[LogEntry]] = {}
        self._listeners: dict[int, dict[LogListener, None]] = {}

    def _current(self, account_id: int) -> int:
        seq = self._seq.get(account_id)
        if seq is None:
            seq = self._seq[account_id] = int(self._clock() * 1_000_000)
        return seq

    async def append(self, account_id: int, body: bytes) -> int:
        """Number, keep and deliver one delta (listeners run before this returns)."""
        seq = self._current(account_id) + 1
        self._seq[account_id] = seq
        kept = self._kept.get(account_id)
        if kept is None:
            kept = self._kept[account_id] = deque(maxlen=self._size)
        entry = LogEntry(seq, body)
        kept.append(entry)
        listeners = self._listeners.get(account_id)
        if listeners:
            for listener in list(listeners):
                listener.entry(account_id, entry)
        return seq

    async def position(self, account_id: int) -> LogPosition:
        """The epoch and the account's last seq."""
        return LogPosition(self.epoch, self._current(account_id))

    async def since(self, account_id: int, after: int, epoch: str) -> list[LogEntry] | None:
        """Every entry after ``after``, or None when trimmed or from another epoch."""
        if epoch != self.epoch:
            return None
        current = self._current(account_id)
        if after == current:
            return []
        if after > current:
            return None
        kept = self._kept.get(account_id)
        if not kept or kept[0].seq > after + 1:
            return None
        return list(islice(kept, after + 1 - kept[0].seq, None))

    async def subscribe(self, account_id: int, listener: LogListener) -> None:
        """Deliver the account's next entries to ``listener``."""
        self._listeners.setdefault(account_id, {})[listener] = None

    async def unsubscribe(self, account_id: int, listener: LogListener) -> None:
        """Stop delivering to ``listener``."""
        listeners = self._listeners.get(account_id)
        if listeners is not None:
            listeners.pop(listener, None)
            if not listeners:
                del self._listeners[account_id]

    async def forget(self, account_id: int) -> None:
        """Drop the account's kept entries (an erasure); earlier resume points get a snapshot."""
        self._kept.pop(account_id, None)

    async def aclose(self) -> None:
        """Nothing to release."""


_SCANS_KEPT = 32
"""Scans in progress whose id lists are kept (an abandoned scan's list is dropped after this many)."""


class MemoryPresence:
    """Visitor fields, tab sets and agent sets in dicts; the only process never loses its lease."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._records: dict[int, dict[str, dict[str, bytes]]] = {}
        self._revs: dict[tuple[int, str], bytes] = {}
        self._next_rev = itertools.count(1)
        self._tabs: dict[tuple[int, str], set[str]] = {}
        self._idle_since: dict[tuple[int, str], float] = {}
        self._agents: dict[int, set[str]] = {}
        self._scans: OrderedDict[str, list[str]] = OrderedDict()
        self._scan_ids = itertools.count(1)
        self._claims: dict[str, float] = {}

    async def attach(self, account_id: int, visitor_id: str, tab_id: str) -> int:
        """Count a tab; returns the visitor's tabs."""
        key = (account_id, visitor_id)
        tabs = self._tabs.setdefault(key, set())
        tabs.add(tab_id)
        self._idle_since.pop(key, None)
        return len(tabs)

    async def detach(self, account_id: int, visitor_id: str, tab_id: str) -> int:
        """Forget a tab; returns the tabs left."""
        key = (account_id, visitor_id)
        tabs = self._tabs.get(key)
        if tabs is None:
            return 0
        tabs.discard(tab_id)
        if tabs:
            return len(tabs)
        del self._tabs[key]
        self._idle_since[key] = self._clock()
        return 0

    async def tabs(self, account_id: int, visitor_id: str) -> int:
        """The visitor's tabs."""
        return len(self._tabs.get((account_id, visitor_id), ()))

    async def claim(self, job: str, seconds: float) -> bool:
        """True for the first caller of ``job`` until ``seconds`` have passed."""
        now = self._clock()
        if self._claims.get(job, now) > now:
            return False
        self._claims = {name: until for name, until in self._claims.items() if until > now}
        self._claims[job] = now + seconds
        return True

    async def load(
        self, account_id: int, visitor_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, bytes] | None:
        """The visitor's fields, or None."""
        record = self._records.get(account_id, {}).get(visitor_id)
        if record is None:
            return None
        if fields is None:
            return dict(record)
        return {name: record[name] for name in fields if name in record}

    async def read(self, account_id: int, visitor_id: str) -> Stored | None:
        """The visitor's fields with their revision, or None."""
        record = self._records.get(account_id, {}).get(visitor_id)
        if record is None:
            return None
        return Stored(self._revs[(account_id, visitor_id)], dict(record))

    async def store(self, account_id: int, visitor_id: str, fields: Fields) -> None:
        """Set some fields (creating the record)."""
        self._records.setdefault(account_id, {}).setdefault(visitor_id, {}).update(fields)
        self._revs[(account_id, visitor_id)] = b"%d" % next(self._next_rev)

    async def commit(
        self,
        account_id: int,
        visitor_id: str,
        fields: Fields,
        log: DeltaLog,
        body: bytes | None = None,
        *,
        rev: bytes | None = None,
    ) -> int | Moved:
        """``store`` then ``log.append`` when the record is at ``rev`` (no await runs in between)."""
        if rev is not None and self._revs.get((account_id, visitor_id)) != rev:
            return Moved(await self.read(account_id, visitor_id))
        await self.store(account_id, visitor_id, fields)
        return 0 if body is None else await log.append(account_id, body)

    async def remove(self, account_id: int, visitor_id: str) -> None:
        """Forget a visitor."""
        records = self._records.get(account_id)
        if records is not None:
            records.pop(visitor_id, None)
        self._revs.pop((account_id, visitor_id), None)
        self._tabs.pop((account_id, visitor_id), None)
        self._idle_since.pop((account_id, visitor_id), None)

    async def expire(self, account_id: int, visitor_id: str, idle_for: float) -> bool:
        """Remove the visitor when it has had no tab for ``idle_for`` seconds."""
        key = (account_id, visitor_id)
        if self._tabs.get(key) or visitor_id not in self._records.get(account_id, {}):
            return False
        since = self._idle_since.get(key)
        if since is not None and self._clock() - since < idle_for:
            return False
        await self.remove(account_id, visitor_id)
        return True

    async def scan(self, account_id: int, cursor: str = "", count: int = 500) -> Page:
        """A page of the account's visitors (the ids are listed once, when the scan starts)."""
        if not cursor:
            ids = list(self._records.get(account_id, {}))
        elif cursor in self._scans:
            ids = self._scans.pop(cursor)
        else:
            raise LookupError(f"scan {cursor} was dropped (more than {_SCANS_KEPT} scans at once); start again")
        page, rest = ids[:count], ids[count:]
        next_cursor = ""
        if rest:
            next_cursor = f"{account_id}:{next(self._scan_ids)}"
            self._scans[next_cursor] = rest
            while len(self._scans) > _SCANS_KEPT:
                self._scans.popitem(last=False)
        records = self._records.get(account_id, {})
        found = [(vid, dict(records[vid])) for vid in page if vid in records]
        return Page(next_cursor, found)

    async def count(self, account_id: int | None = None) -> int:
        """Present visitors of one or all accounts."""
        if account_id is not None:
            return len(self._records.get(account_id, ()))
        return sum(len(records) for records in self._records.values())

    async def agent_attach(self, account_id: int, conn_id: str) -> int:
        """Count an agent socket."""
        agents = self._agents.setdefault(account_id, set())
        agents.add(conn_id)
        return len(agents)

    async def agent_detach(self, account_id: int, conn_id: str) -> int:
        """Forget an agent socket."""
        agents = self._agents.get(account_id)
        if agents is None:
            return 0
        agents.discard(conn_id)
        if not agents:
            del self._agents[account_id]
        return len(agents)

    async def agents(self, account_id: int) -> int:
        """The account's agent sockets."""
        return len(self._agents.get(account_id, ()))

    async def heartbeat(self) -> bool:
        """Nothing to renew: one process, and its memory is never lost while it runs."""
        return False

    async def reap(self) -> list[tuple[int, str]]:
        """No other process can have died."""
        return []

    async def aclose(self) -> None:
        """Nothing to release."""


class MemoryControl:
    """Control messages delivered to this process's handlers, before ``publish`` returns."""

    def __init__(self) -> None:
        self._handlers: dict[ControlHandler, None] = {}

    async def publish(self, message: Control) -> None:
        """Call every handler."""
        for handler in list(self._handlers):
            handler(message)

    async def subscribe(self, handler: ControlHandler) -> None:
        """Add a handler."""
        self._handlers[handler] = None

    async def unsubscribe(self, handler: ControlHandler) -> None:
        """Remove a handler."""
        self._handlers.pop(handler, None)

    async def aclose(self) -> None:
        """Nothing to release."""


def memory_seams(history_size: int, clock: Callable[[], float] = time.time) -> Seams:
    """The three seams for one process."""
    return Seams(log=MemoryDeltaLog(history_size, clock), presence=MemoryPresence(), control=MemoryControl())
