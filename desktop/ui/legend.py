"""The visitor icons and their legend (Help > Visitor icons)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.core.state import VisitorState
from protocol.messages import Visitor

LEGEND_ORDER = (
    VisitorState.NEW_CHAT,
    VisitorState.CHATTING,
    VisitorState.TYPING,
    VisitorState.ACTIVE,
    VisitorState.IDLE,
    VisitorState.AUTO_MESSAGED,
    VisitorState.CUSTOMER,
    VisitorState.RETURNING,
    VisitorState.BANNED,
    VisitorState.LEFT,
)


def state_name(state: VisitorState, visitor: Visitor | None = None) -> str:
    """A state's short name, translated, as chips and the legend say it ("Returning (3)" with a visitor)."""
    # Written out as QCoreApplication.translate(...) calls: lupdate finds only those, not an alias of it.
    names = {
        VisitorState.NEW_CHAT: QCoreApplication.translate("Legend", "New chat"),
        VisitorState.CHATTING: QCoreApplication.translate("Legend", "Chatting"),
        VisitorState.TYPING: QCoreApplication.translate("Legend", "Typing"),
        VisitorState.ACTIVE: QCoreApplication.translate("Legend", "Active"),
        VisitorState.IDLE: QCoreApplication.translate("Legend", "Idle"),
        VisitorState.AUTO_MESSAGED: QCoreApplication.translate("Legend", "Auto-messaged"),
        VisitorState.CUSTOMER: QCoreApplication.translate("Legend", "Customer"),
        VisitorState.RETURNING: QCoreApplication.translate("Legend", "Returning"),
        VisitorState.BANNED: QCoreApplication.translate("Legend", "Banned"),
        VisitorState.LEFT: QCoreApplication.translate("Legend", "Left"),
    }
    name = names[state]
    if state is VisitorState.RETURNING and visitor is not None:
        return f"{name} ({visitor.visit_count})"
    return name


def state_meaning(state: VisitorState) -> str:
    """What a visitor icon means, translated."""
    meanings = {
        VisitorState.NEW_CHAT: QCoreApplication.translate(
            "Legend", "New or unanswered chat: the visitor wrote and waits for an agent"
        ),
        VisitorState.CHATTING: QCoreApplication.translate("Legend", "Chatting with an agent"),
        VisitorState.TYPING: QCoreApplication.translate("Legend", "Typing a message right now"),
        VisitorState.ACTIVE: QCoreApplication.translate(
            "Legend", "Active: did something on the site in the last 10 minutes"
        ),
        VisitorState.IDLE: QCoreApplication.translate(
            "Legend", "Idle: no activity for 10 minutes, the page is still open"
        ),
        VisitorState.AUTO_MESSAGED: QCoreApplication.translate("Legend", "Received an automatic message"),
        VisitorState.CUSTOMER: QCoreApplication.translate(
            "Legend", "Customer: identified through the contact form or the API"
        ),
        VisitorState.RETURNING: QCoreApplication.translate(
            "Legend", "Returning visitor (the number of visits is in the Visits column)"
        ),
        VisitorState.BANNED: QCoreApplication.translate("Legend", "Banned by an agent"),
        VisitorState.LEFT: QCoreApplication.translate("Legend", "Left the website (stays listed for a short while)"),
    }
    return meanings[state]


class StateIconProvider:
    """Loads each state icon once and hands out the same QIcon afterwards."""

    def __init__(self, load: Callable[[VisitorState], QIcon]) -> None:
        self._load = load
        self._cache: dict[VisitorState, QIcon] = {}

    def __call__(self, state: VisitorState) -> QIcon:
        """The icon for ``state``."""
        icon = self._cache.get(state)
        if icon is None:
            icon = self._cache[state] = self._load(state)
        return icon


class LegendDialog(QDialog):
    """Lists every visitor icon with its meaning."""

    def __init__(self, icons: Callable[[VisitorState], QIcon], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Visitor icons"))
        intro = QLabel(self.tr("The first column of the visitor list shows each visitor's state:"))
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Visitor icons and their meaning"))
        self.list.setIconSize(QSize(24, 24))
        self.list.setWordWrap(True)
        for state in LEGEND_ORDER:
            # The chips' word first (unless the meaning starts with it), so chips and legend read alike.
            name, meaning = state_name(state), state_meaning(state)
            text = meaning if meaning.startswith(name) else f"{name} – {meaning}"
            item = QListWidgetItem(icons(state), text)
            item.setData(Qt.ItemDataRole.UserRole, str(state))
            self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(520, 420)
