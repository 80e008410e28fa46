"""The first activity clock (one-second buckets on a heap): the reference ``slots.Deadlines`` is tested against.

It was the app's until ``Deadlines`` replaced it; only the tests use it now.
"""

from __future__ import annotations

import heapq
import math

from protocol.rules import active_until, is_active


class ActivityClock:
    """Deadlines of active visitors, in one-second buckets on a heap.

    A bucket per second (rather than a heap entry per activity) keeps memory bounded by the number of
    visitors however many activity events arrive: re-tracking moves an id between two sets.
    """

    def __init__(self) -> None:
        self._bucket_of: dict[str, int] = {}
        self._buckets: dict[int, set[str]] = {}
        self._heap: list[int] = []

    def __len__(self) -> int:
        return len(self._bucket_of)

    def track(self, visitor_id: str, last_activity_at: float, now: float) -> None:
        """Record a visitor's latest activity; an already inactive visitor is not tracked."""
        if is_active(last_activity_at, now):
            # Rounded up: reported at most a second late, never early (the list ticks once a second).
            bucket = math.ceil(active_until(last_activity_at))
            old = self._bucket_of.get(visitor_id)
            if old == bucket:
                return
            if old is not None:
                self._discard(visitor_id, old)
            self._bucket_of[visitor_id] = bucket
            members = self._buckets.get(bucket)
            if members is None:
                self._buckets[bucket] = {visitor_id}
                heapq.heappush(self._heap, bucket)
            else:
                members.add(visitor_id)
        else:
            self.forget(visitor_id)

    def forget(self, visitor_id: str) -> None:
        """Stop tracking a visitor (it left)."""
        old = self._bucket_of.pop(visitor_id, None)
        if old is not None:
            self._discard(visitor_id, old)

    def clear(self) -> None:
        """Forget everyone (a snapshot replaces the list)."""
        self._bucket_of.clear()
        self._buckets.clear()
        self._heap.clear()

    def due(self, now: float) -> list[str]:
        """Ids of the visitors that turned inactive by ``now`` since the last call; they are forgotten."""
        flipped: list[str] = []
        heap = self._heap
        while heap and heap[0] <= now:
            members = self._buckets.pop(heapq.heappop(heap), None)
            if members:
                for visitor_id in members:
                    del self._bucket_of[visitor_id]
                flipped.extend(members)
        return flipped

    def next_deadline(self) -> float | None:
        """When the next visitor turns inactive (epoch seconds), or None when nobody is tracked."""
        while self._heap and self._heap[0] not in self._buckets:
            heapq.heappop(self._heap)
        return float(self._heap[0]) if self._heap else None

    def _discard(self, visitor_id: str, bucket: int) -> None:
        members = self._buckets.get(bucket)
        if members is not None:
            members.discard(visitor_id)
            if not members:
                # The heap entry stays; due() and next_deadline() skip buckets that no longer exist.
                del self._buckets[bucket]
