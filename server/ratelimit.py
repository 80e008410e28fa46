"""Token bucket for frames on one connection."""

from __future__ import annotations

import time
from collections.abc import Callable

from server.config import RateLimit


class TokenBucket:
    """Allows ``burst`` frames at once and ``per_second`` on average; counts refusals in a row."""

    __slots__ = ("_clock", "_limit", "_stamp", "_tokens", "refused_in_row")

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._tokens = limit.burst
        self._stamp = clock()
        self.refused_in_row = 0

    def allow(self) -> bool:
        """Take one token if there is one."""
        now = self._clock()
        self._tokens = min(self._limit.burst, self._tokens + (now - self._stamp) * self._limit.per_second)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            self.refused_in_row = 0
            return True
        self.refused_in_row += 1
        return False

    @property
    def abusive(self) -> bool:
        """Whether the peer keeps sending after being told to slow down."""
        return self.refused_in_row >= self._limit.close_after


class FailureLimiter:
    """Counts failures per key (a client address, a target account) in a sliding window; too many block it."""

    def __init__(self, max_failures: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, list[float]] = {}

    def _recent(self, key: str) -> list[float]:
        cutoff = self._clock() - self._window
        stamps = [t for t in self._failures.get(key, ()) if t > cutoff]
        if stamps:
            self._failures[key] = stamps
        else:
            self._failures.pop(key, None)
        return stamps

    def blocked(self, key: str) -> bool:
        """Whether ``key`` failed too often lately."""
        return len(self._recent(key)) >= self._max

    def failed(self, key: str) -> None:
        """Record one failure."""
        self._recent(key)
        self._failures.setdefault(key, []).append(self._clock())
        if len(self._failures) > 100_000:  # bound memory under a spray of addresses
            self._failures.clear()

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key``."""
        self._failures.pop(key, None)
