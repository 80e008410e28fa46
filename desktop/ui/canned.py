"""Canned responses in the chat input: type ``/`` and a few letters, pick one, its placeholders filled in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPlainTextEdit, QWidget

from desktop.core.team import expand_canned, match_canned, slash_query
from protocol.messages import CannedResponse

MAX_SHOWN: Final = 8
RESPONSE_ROLE: Final = Qt.ItemDataRole.UserRole


class CannedPicker(QObject):
    """Watches one chat input; ``/query`` shows matching canned responses above it (Up/Down, Enter, Esc)."""

    def __init__(
        self,
        editor: QPlainTextEdit,
        responses: Callable[[], list[CannedResponse]],
        fill: Callable[[], tuple[str, str, str | None]],
        parent: QWidget,
    ) -> None:
        """``fill`` gives the visitor's name, the agent's name and the visitor's language at insert time."""
        super().__init__(parent)
        self._editor = editor
        self._responses = responses
        self._fill = fill
        self.list = QListWidget(parent)
        self.list.setAccessibleName(self.tr("Canned responses"))
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard stays in the input
        self.list.itemClicked.connect(self._insert)
        self.list.hide()
        editor.installEventFilter(self)
        editor.textChanged.connect(self.update)

    @property
    def shown(self) -> list[str]:
        """Shortcuts offered now (for tests)."""
        if not self.list.isVisible():
            return []
        return [str(self.list.item(i).data(RESPONSE_ROLE).shortcut) for i in range(self.list.count())]

    def update(self) -> None:
        """Offer the responses matching the input's ``/query`` (or hide the list)."""
        query = slash_query(self._editor.toPlainText())
        if query is None:
            self.list.hide()
            return
        _visitor, _agent, language = self._fill()
        found = match_canned(self._responses(), query, language)[:MAX_SHOWN]
        self.list.clear()
        if not found:
            item = QListWidgetItem(self.tr("No canned response matches /%1").replace("%1", query))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        for response in found:
            label = f"/{response.shortcut}" + (f" [{response.language}]" if response.language else "")
            item = QListWidgetItem(f"{label}  {' '.join(response.text.split())[:80]}")
            item.setData(RESPONSE_ROLE, response)
            self.list.addItem(item)
        self.list.setCurrentRow(0 if found else -1)
        rows = max(1, self.list.count())
        height = min(rows, MAX_SHOWN) * (self.list.sizeHintForRow(0) or 20) + 6
        geometry = self._editor.geometry()
        self.list.setGeometry(geometry.x(), max(0, geometry.y() - height), geometry.width(), height)
        self.list.show()
        self.list.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up/Down choose, Enter or Tab inserts, Escape closes, while the list is open."""
        if watched is self._editor and event.type() == QEvent.Type.KeyPress and self.list.isVisible():
            assert isinstance(event, QKeyEvent)
            key = event.key()
            row = self.list.currentRow()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, row + step)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                item = self.list.currentItem()
                if item is not None and item.data(RESPONSE_ROLE) is not None:
                    self._insert(item)
                return True  # never send "/ship" itself
            if key == Qt.Key.Key_Escape:
                self.list.hide()
                return True
        return super().eventFilter(watched, event)

    def _insert(self, item: QListWidgetItem) -> None:
        response = item.data(RESPONSE_ROLE)
        if not isinstance(response, CannedResponse):
            return
        visitor_name, agent_name, _language = self._fill()
        self.list.hide()
        self._editor.setPlainText(expand_canned(response.text, visitor_name=visitor_name, agent_name=agent_name))
        self._editor.moveCursor(self._editor.textCursor().MoveOperation.End)
        self._editor.setFocus()
