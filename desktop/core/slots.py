"""Small per-row structures for columnar tables: id lookup and activity deadlines, without an object per row."""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left
from collections.abc import MutableSequence
from typing import Final

from protocol.rules import active_until, is_active

_MERGE_MIN: Final = 1024
_COMPACT_MIN: Final = 64  # a bucket with fewer entries is not filtered of stale ones


class IdTable:
    """The row of each id, found by bisecting a sorted array of id hashes and comparing the id there.

    16 bytes an id, where a ``dict[str, int]`` costs ~70 (its entry and an int object per row). Ids added
    since the last merge sit in a small dict until they are a quarter of the table, then one C sort merges
    them, so a snapshot of 100,000 visitors arriving page by page costs O(n log n), not a memmove each.
    ``ids`` is the owner's list of the id at each row ("" for a free row), read, never written.
    """

    __slots__ = ("_hashes", "_ids", "_pending", "_rows")

    def __init__(self, ids: MutableSequence[str]) -> None:
        self._ids = ids
        self._hashes = array("q")
        self._rows = array("q")
        self._pending: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._hashes) + len(self._pending)

    def get(self, visitor_id: str) -> int | None:
        """The row of an id, or None."""
        row = self._pending.get(visitor_id)
        if row is not None:
            return row
        p = self._position(visitor_id)
        return self._rows[p] if p >= 0 else None

    def add(self, visitor_id: str, row: int) -> None:
        """Record an id's row (the id must not be in the table)."""
        self._pending[visitor_id] = row
        if len(self._pending) > max(_MERGE_MIN, len(self._hashes) // 4):
            self._merge()

    def remove(self, visitor_id: str) -> int | None:
        """Forget an id (call before its row is cleared in ``ids``); its row, or None when absent."""
        row = self._pending.pop(visitor_id, None)
        if row is not None:
            return row
        p = self._position(visitor_id)
        if p < 0:
            return None
        row = self._rows[p]
        del self._hashes[p]
        del self._rows[p]
        return row

    def clear(self) -> None:
        """Forget every id."""
        self._hashes = array("q")
        self._rows = array("q")
        self._pending = {}

    def _position(self, visitor_id: str) -> int:
        hashes = self._hashes
        h = hash(visitor_id)
        p = bisect_left(hashes, h)
        n = len(hashes)
        while p < n and hashes[p] == h:
            if self._ids[self._rows[p]] == visitor_id:
                return p
            p += 1
        return -1

    def _merge(self) -> None:
        pending = self._pending
        hashes = self._hashes + array("q", map(hash, pending))
        rows = self._rows + array("q", pending.values())
        order = sorted(range(len(hashes)), key=hashes.__getitem__)
        self._hashes = array("q", map(hashes.__getitem__, order))
        self._rows = array("q", map(rows.__getitem__, order))
        self._pending = {}


class Deadlines:
    """When each active slot turns inactive, in one-second buckets on a heap (Active changes with time alone).

    8 bytes a slot for its bucket and 8 in the bucket's array of slots, where a dict and a set of ids cost
    ~80 bytes a visitor. Re-tracking moves a slot between two buckets without searching the old one (at
    10,000 updates/s a bucket holds thousands of slots: removing one was ~20 us of C scan): the old entry
    stays, stale (its slot's bucket is no longer that one), and is skipped when the bucket is due; a bucket
    is filtered once half its entries are stale, so it never holds more than twice its slots.
    """

    __slots__ = ("_bucket", "_count", "_heap", "_live", "_members")

    def __init__(self) -> None:
        self._bucket = array("q")  # per slot: the second it turns inactive (rounded up), 0 when not tracked
        self._members: dict[int, array[int]] = {}  # slots per bucket, stale entries included
        self._live: dict[int, int] = {}  # slots per bucket whose bucket it is
        self._heap: list[int] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def track(self, slot: int, last_activity_at: float, now: float) -> None:
        """Record a slot's latest activity; an already inactive one is not tracked."""
        if not is_active(last_activity_at, now):
            self.forget(slot)
            return
        # Rounded up: reported at most a second late, never early (the list ticks once a second).
        bucket = math.ceil(active_until(last_activity_at))
        buckets = self._bucket
        if slot >= len(buckets):
            buckets.frombytes(bytes(8 * (slot + 1 - len(buckets))))
        old = buckets[slot]
        if old == bucket:
            return
        if old:
            self._discard(slot, old)
        else:
            self._count += 1
        buckets[slot] = bucket
        members = self._members.get(bucket)
        if members is None:
            self._members[bucket] = array("q", (slot,))
            self._live[bucket] = 1
            heapq.heappush(self._heap, bucket)
        else:
            members.append(slot)
            live = self._live[bucket] = self._live[bucket] + 1
            if len(members) > max(_COMPACT_MIN, 2 * live):
                self._members[bucket] = array("q", dict.fromkeys(s for s in members if buckets[s] == bucket))

    def forget(self, slot: int) -> None:
        """Stop tracking a slot (its visitor left)."""
        if slot < len(self._bucket) and (old := self._bucket[slot]):
            self._discard(slot, old)
            self._bucket[slot] = 0
            self._count -= 1

    def clear(self) -> None:
        """Forget every slot."""
        self._bucket = array("q")
        self._members = {}
        self._live = {}
        self._heap = []
        self._count = 0

    def due(self, now: float) -> list[int]:
        """The slots that turned inactive by ``now`` since the last call; they are forgotten."""
        flipped: list[int] = []
        heap, buckets = self._heap, self._bucket
        while heap and heap[0] <= now:
            bucket = heapq.heappop(heap)
            members = self._members.pop(bucket, None)
            self._live.pop(bucket, None)
            if members:
                for slot in members:
                    if buckets[slot] == bucket:  # not stale (nor a second entry of a slot that came back)
                        buckets[slot] = 0
                        flipped.append(slot)
        self._count -= len(flipped)
        return flipped

    def next_deadline(self) -> float | None:
        """When the next slot turns inactive (epoch seconds), or None when nothing is tracked."""
        while self._heap and self._heap[0] not in self._members:
            heapq.heappop(self._heap)
        return float(self._heap[0]) if self._heap else None

    def _discard(self, slot: int, bucket: int) -> None:
        """The slot leaves a bucket (its entry there goes stale: the caller changes the slot's bucket)."""
        live = self._live.get(bucket)
        if live is None:
            return
        if live > 1:
            self._live[bucket] = live - 1
        else:
            # The heap entry stays; due() and next_deadline() skip buckets that no longer exist.
            del self._live[bucket]
            del self._members[bucket]
