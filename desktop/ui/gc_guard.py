"""Python's cyclic garbage collector, run on the GUI thread only."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    """Runs the cyclic garbage collector from a GUI-thread timer instead of wherever Python allocates.

    Automatic collection runs in whichever thread crosses the threshold. With the embedded server's thread
    in the process (``--demo``), a reference cycle holding Qt objects could be freed there: Qt warns
    "Timers cannot be stopped from another thread" or crashes. Collecting on a timer keeps every Qt
    destructor on the GUI thread, with the same generational thresholds as Python's own collector.
    """

    def __init__(self, interval_ms: int = 250, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        """Collect the oldest generation whose count passed its threshold, as Python would."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        generation = -1
        for gen in range(3):
            if thresholds[gen] and counts[gen] > thresholds[gen]:
                generation = gen
        if generation >= 0:
            gc.collect(generation)

    def stop(self) -> None:
        """Stop the timer and give collection back to Python (if it had it before)."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
