"""Reconnect delays: exponential backoff with jitter, as a pure generator (after websockets' ``backoff``)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator


def backoff(
    initial: float = 1.0,
    minimum: float = 1.0,
    maximum: float = 60.0,
    factor: float = 1.618,
    rand: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Seconds to wait before each reconnect attempt.

    The first wait is random in [0, ``initial``) so many agents dropped at once do not return at once;
    then ``minimum`` grows by ``factor`` up to ``maximum``, each with up to 50 % random jitter subtracted.
    """
    yield initial * rand()
    delay = minimum
    while True:
        yield delay * (1.0 - 0.5 * rand())
        delay = min(delay * factor, maximum)
