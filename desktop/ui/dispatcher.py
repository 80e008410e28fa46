"""Moves store changes onto the Qt side at most once per frame."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.store import VisitorStore

FRAME_MS: Final = 16
"""One frame at 60 Hz: events arriving within it are applied to the views together."""


class StoreDispatcher(QObject):
    """Drains the store's coalesced changes one frame after they start, and emits them as Qt signals."""

    visitorsChanged = Signal(object)
    """Changes: connect the visitor model's ``apply_changes``."""
    visitorsArrived = Signal(list)
    """list[Visitor]: visitors new since the last drain (not from a snapshot), for notifications."""
    messageAdded = Signal(object)
    """ChatMessage."""
    messageUpdated = Signal(object)
    """MessageUpdated."""
    typingChanged = Signal(object)
    """Typing."""

    def __init__(self, store: VisitorStore, parent: QObject | None = None, frame_ms: int = FRAME_MS) -> None:
        super().__init__(parent)
        self._store = store
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(frame_ms)
        self._timer.timeout.connect(self.flush)
        store.on_dirty = self._schedule
        self.drains = 0
        """How many batches were emitted (for tests and benchmarks)."""

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Emit everything pending now (the timer calls this; tests and shutdown may too)."""
        self._timer.stop()
        changes = self._store.take_changes()
        if not changes:
            return
        self.drains += 1
        if changes.reset or changes.upserted or changes.removed:
            self.visitorsChanged.emit(changes)
        if changes.arrived:
            visitors = self._store.visitors
            arrived = [visitors[vid] for vid in changes.arrived if vid in visitors]
            if arrived:
                self.visitorsArrived.emit(arrived)
        for message in changes.messages:
            self.messageAdded.emit(message)
        for update in changes.message_updates:
            self.messageUpdated.emit(update)
        for typing in changes.typing:
            self.typingChanged.emit(typing)

    def detach(self) -> None:
        """Stop listening to the store (logout, shutdown)."""
        self._timer.stop()
        if self._store.on_dirty == self._schedule:
            self._store.on_dirty = None
