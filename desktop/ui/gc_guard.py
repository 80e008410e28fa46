"""Python's cyclic garbage collector, run on the GUI thread only, with long-lived objects frozen out of it."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from desktop.core.freeze_policy import Action, FreezePolicy


class GuiThreadCollector(QObject):
    """Runs the cyclic garbage collector from a GUI-thread timer instead of wherever Python allocates.

    Automatic collection runs in whichever thread crosses the threshold. With the embedded server's thread
    in the process (``--demo``), a reference cycle holding Qt objects could be freed there: Qt warns
    "Timers cannot be stopped from another thread" or crashes. Collecting on a timer keeps every Qt
    destructor on the GUI thread, with the same generational thresholds as Python's own collector.

    A full collection scans every tracked object of the process (30-60 ms on the 2-core machine, a stall
    of the list under traffic), so long-lived objects are frozen (``gc.freeze()``) as :class:`FreezePolicy`
    decides: at the first check, after large growth, and again from scratch (unfreeze, one full collection,
    freeze) when much of what was frozen has died, so a frozen garbage cycle is not held for ever.
    """

    def __init__(
        self,
        interval_ms: int = 250,
        parent: QObject | None = None,
        *,
        policy: FreezePolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._policy = policy or FreezePolicy()
        self._clock = clock
        self.refreezes = 0
        """Full collections over the unfrozen heap so far (for tests and benchmarks)."""
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        """Collect the oldest generation whose count passed its threshold, as Python would; freeze as due."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        generation = -1
        for gen in range(3):
            if thresholds[gen] and counts[gen] > thresholds[gen]:
                generation = gen
        survivors: int | None = None
        if generation >= 0:
            gc.collect(generation)
            if generation == 2:
                survivors = len(gc.get_objects(2))  # what is left unfrozen in the oldest generation
        # Calm: fewer new containers since the last check than one young collection's worth (no traffic).
        calm, now = generation < 0, self._clock()
        # Counting the frozen objects walks all of them (~5 ms): only as often as the policy needs it.
        frozen = gc.get_freeze_count() if self._policy.count_due(now, calm=calm) else None
        action = self._policy.decide(now, frozen, survivors, calm=calm)
        if action is Action.REFREEZE:
            self.refreeze()
        elif action is Action.FREEZE and survivors is not None:
            gc.freeze()  # right after a full collection: the survivors are all the unfrozen objects
            self._policy.froze(survivors)

    def refreeze(self) -> None:
        """Unfreeze everything, collect it all (one full pass), and freeze what is left."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.refreezes += 1
        self._policy.refroze(self._clock(), gc.get_freeze_count())

    def stop(self) -> None:
        """Stop the timer, unfreeze and collect everything, and give collection back to Python (if it had it)."""
        self._timer.stop()
        gc.unfreeze()
        gc.collect()
        if self._was_enabled:
            gc.enable()
