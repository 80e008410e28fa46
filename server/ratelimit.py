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
