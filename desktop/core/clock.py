"""Injectable wall clocks (epoch seconds now, real or driven by a test), and deadlines read from any clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

Clock = Callable[[], float]
"""A function returning the current time in epoch seconds."""

system_clock: Final[Clock] = time.time
"""The real wall clock."""


class ManualClock:
    """A clock that only moves when told to (tests, benchmarks)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; got {seconds} seconds")
        self.now += seconds
        return self.now

    def set(self, now: float) -> None:
        """Jump to ``now`` (epoch seconds)."""
        self.now = now


@dataclass(frozen=True, slots=True)
class Deadline:
    """A time to stop work done in pieces by: ``at`` as read from ``clock`` (any clock, e.g. ``time.perf_counter``)."""

    clock: Callable[[], float]
    at: float

    def passed(self) -> bool:
        """Whether the time is up."""
        return self.clock() >= self.at
