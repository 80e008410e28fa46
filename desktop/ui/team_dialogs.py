"""Small dialogs of the team layer: transfer a chat, a visitor's internal notes, the canned responses."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from protocol.messages import CannedResponse, CannedResponseSpec, Note, TeamMember
from protocol.rules import MAX_FIELD_CHARS, MAX_MESSAGE_CHARS

ITEM_ROLE = Qt.ItemDataRole.UserRole


class TransferDialog(QDialog):
    """Pick an online colleague and write a note; ``chosen`` (agent id, note) on OK."""

    chosen = Signal(int, str)

    def __init__(self, visitor_name: str, colleagues: Sequence[TeamMember], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Transfer the chat"))
        self.colleague_combo = QComboBox()
        self.colleague_combo.setAccessibleName(self.tr("Colleague"))
        for member in colleagues:
            self.colleague_combo.addItem(member.name, member.id)
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(MAX_FIELD_CHARS)
        self.note_edit.setAccessibleName(self.tr("Note for the colleague"))
        self.note_edit.setPlaceholderText(self.tr("What should they know? (only agents see it)"))
        intro = QLabel(self.tr("Hand the chat with %1 to:").replace("%1", visitor_name))
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label = QLabel(self.tr("No colleague is Online now."))
        self.empty_label.setVisible(not colleagues)
        form = QFormLayout()
        form.addRow(self.tr("&Colleague:"), self.colleague_combo)
        form.addRow(self.tr("&Note:"), self.note_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(colleagues))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.buttons)

    def accept(self) -> None:
        """Emit the choice and close."""
        agent_id = self.colleague_combo.currentData()
        if agent_id is None:
            return
        self.chosen.emit(int(agent_id), self.note_edit.text().strip())
        super().accept()


class NotesDialog(QDialog):
    """A visitor's internal notes (agents only) and a field to add one; ``added`` carries the text."""

    added = Signal(str)

    def __init__(self, visitor_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Notes on %1").replace("%1", visitor_name))
        hint = QLabel(self.tr("Only agents see notes; they never reach the visitor."))
        hint.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Notes"))
        self.list.setWordWrap(True)
        self.edit = QLineEdit()
        self.edit.setMaxLength(MAX_MESSAGE_CHARS)
        self.edit.setAccessibleName(self.tr("New note"))
        self.edit.returnPressed.connect(self._add)
        self.add_button = QPushButton(self.tr("&Add note"))
        self.add_button.clicked.connect(self._add)
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        self.resize(420, 360)

    def show_notes(self, notes: Sequence[Note]) -> None:
        """Show the notes, oldest first (plain text: colleagues typed them)."""
        self.list.clear()
        for note in notes:
            self.list.addItem(QListWidgetItem(f"{note.agent_name}: {note.text}"))
        self.list.scrollToBottom()

    def texts(self) -> list[str]:
        """The notes as shown (for tests)."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _add(self) -> None:
        text = self.edit.text().strip()
        if text:
            self.edit.clear()
            self.added.emit(text)


class CannedDialog(QDialog):
    """The account's canned responses: pick one to edit, save or delete; ``saved`` / ``deleted`` ask the server."""

    saved = Signal(object, object)
    """(id or None, CannedResponseSpec)."""
    deleted = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Canned responses"))
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Canned responses"))
        self.list.currentItemChanged.connect(self._picked)
        self.shortcut_edit = QLineEdit()
        self.shortcut_edit.setMaxLength(32)
        self.shortcut_edit.setAccessibleName(self.tr("Shortcut"))
        self.language_edit = QLineEdit()
        self.language_edit.setMaxLength(35)
        self.language_edit.setAccessibleName(self.tr("Language"))
        self.language_edit.setPlaceholderText(self.tr("any (or e.g. de, en)"))
        self.text_edit = QPlainTextEdit()
        self.text_edit.setAccessibleName(self.tr("Text"))
        self.text_edit.setPlaceholderText(self.tr("{visitor_name} and {agent_name} are filled in when inserted"))
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.new_button = QPushButton(self.tr("&New"))
        self.new_button.clicked.connect(self._new)
        self.save_button = QPushButton(self.tr("&Save"))
        self.save_button.clicked.connect(self._save)
        self.delete_button = QPushButton(self.tr("&Delete"))
        self.delete_button.clicked.connect(self._delete)
        form = QFormLayout()
        form.addRow(self.tr("Sh&ortcut: /"), self.shortcut_edit)
        form.addRow(self.tr("&Language:"), self.language_edit)
        form.addRow(self.tr("&Text:"), self.text_edit)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.save_button, self.delete_button):
            buttons.addWidget(button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self._editing: int | None = None
        self.resize(480, 480)

    def show_responses(self, responses: Sequence[CannedResponse]) -> None:
        """The list as the server has it now."""
        current = self._editing
        self.list.blockSignals(True)
        self.list.clear()
        for response in responses:
            suffix = f" [{response.language}]" if response.language else ""
            item = QListWidgetItem(f"/{response.shortcut}{suffix}")
            item.setData(ITEM_ROLE, response)
            self.list.addItem(item)
            if response.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def show_error(self, text: str) -> None:
        """Why the server refused."""
        self.error_label.setText(text)

    def _picked(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        response = item.data(ITEM_ROLE) if item is not None else None
        if not isinstance(response, CannedResponse):
            return
        self._editing = response.id
        self.shortcut_edit.setText(response.shortcut)
        self.language_edit.setText(response.language)
        self.text_edit.setPlainText(response.text)
        self.error_label.clear()

    def _new(self) -> None:
        self._editing = None
        self.list.clearSelection()
        for edit in (self.shortcut_edit, self.language_edit):
            edit.clear()
        self.text_edit.clear()
        self.shortcut_edit.setFocus()

    def _save(self) -> None:
        shortcut = self.shortcut_edit.text().strip().lstrip("/")
        text = self.text_edit.toPlainText().strip()
        if not shortcut or not text:
            self.show_error(self.tr("A canned response needs a shortcut and a text."))
            return
        if not all(c.isascii() and (c.isalnum() or c in "_-") for c in shortcut):
            self.show_error(self.tr("A shortcut has letters, digits, - and _ only."))
            return
        self.error_label.clear()
        spec = CannedResponseSpec(shortcut=shortcut, text=text, language=self.language_edit.text().strip())
        self.saved.emit(self._editing, spec)

    def _delete(self) -> None:
        if self._editing is not None:
            self.deleted.emit(self._editing)
            self._new()
