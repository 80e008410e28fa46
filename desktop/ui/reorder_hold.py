"""Rows hold still under the pointer: the visitor list's order waits while the agent is aiming at a row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QPushButton, QTableView

if TYPE_CHECKING:
    from desktop.ui.visitor_model import VisitorTableModel

CALM_MS: Final = 3000
"""With the pointer resting (no motion, wheel or key) this long, the new order is applied anyway."""

_HOLD_EVENTS: Final = frozenset(
    {
        QEvent.Type.Enter,
        QEvent.Type.MouseMove,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.Wheel,
        QEvent.Type.ContextMenu,
    }
)


class ReorderHold(QObject):
    """Holds a visitor model's order while the pointer is over its view, a key is held or a popup is open.

    The order (with arrivals and departures) is applied when the pointer leaves, or after :data:`CALM_MS`
    of calm; until then updates change cells in place. A button at the top of the list says how many new
    visitors wait ("3 new") and applies the order when clicked. Selection and the current row follow the
    visitor through every reorder (the model maps persistent indexes by visitor id).
    """

    def __init__(self, model: VisitorTableModel, view: QTableView) -> None:
        super().__init__(view)
        self._model = model
        self._view = view
        self._keys: set[int] = set()
        self._calm = QTimer(self)
        self._calm.setSingleShot(True)
        self._calm.setInterval(CALM_MS)
        self._calm.timeout.connect(self._release_if_free)
        self.banner = QPushButton(view)
        self.banner.setObjectName("newVisitorsWaiting")
        self.banner.setAccessibleName(self.tr("New visitors waiting"))
        self.banner.hide()
        self.banner.clicked.connect(self._show_new)
        model.waitingChanged.connect(self._on_waiting)
        view.setMouseTracking(True)  # motion restarts the calm timer
        view.viewport().installEventFilter(self)
        view.installEventFilter(self)

    def detach(self) -> None:
        """Stop holding (the model is attached to another view, or none)."""
        self._calm.stop()
        self._view.viewport().removeEventFilter(self)
        self._view.removeEventFilter(self)
        self._model.waitingChanged.disconnect(self._on_waiting)
        self.banner.deleteLater()
        self._model.release()
        self.deleteLater()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Hold on pointer and keys over the list; release when the pointer leaves or the list is hidden."""
        kind = event.type()
        if kind in _HOLD_EVENTS and self._view.isVisible():
            self._model.hold()
            self._calm.start()
        elif kind == QEvent.Type.Leave and watched is self._view.viewport():
            self._release_if_free()
        elif kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            self._keys.add(event.key())
            self._model.hold()
            self._calm.stop()
        elif kind == QEvent.Type.KeyRelease and isinstance(event, QKeyEvent) and not event.isAutoRepeat():
            self._keys.discard(event.key())
            self._calm.start()
        elif kind == QEvent.Type.Hide and watched is self._view:
            # Hidden (the window too): nobody is aiming at a row, and a notification may ask for a new one.
            self._keys.clear()
            self._calm.stop()
            self._model.release()
        elif kind == QEvent.Type.FocusOut:
            self._keys.clear()
            self._calm.start()
        return False

    def _release_if_free(self) -> None:
        if self._keys or QApplication.activePopupWidget() is not None:
            self._calm.start()  # a key is still down or a context menu is open: look again later
            return
        self._calm.stop()
        self._model.release()

    def _on_waiting(self, count: int) -> None:
        banner = self.banner
        if count <= 0:
            if banner.hasFocus():
                # Hiding a focused child hands focus on with the view's focusNextPrevChild, which (tab key
                # navigation) would move the current cell a column: the list takes the focus back instead.
                self._view.setFocus(Qt.FocusReason.OtherFocusReason)
            banner.hide()
            return
        banner.setText(self.tr("↑ %n new", "", count))
        banner.adjustSize()
        viewport = self._view.viewport()
        banner.move(viewport.x() + (viewport.width() - banner.width()) // 2, viewport.y() + 4)
        banner.show()
        banner.raise_()

    def _show_new(self) -> None:
        self._keys.clear()
        self._calm.stop()
        self._model.release()
        self._view.scrollToTop()
