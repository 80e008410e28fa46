"""The Chats panel beside the visitor list: my chats, unassigned, all open; unread counts and waiting times."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clock import Clock
from desktop.core.store import Changes, VisitorStore
from desktop.core.team import (
    OPEN_CHAT,
    ChatBucket,
    bucket_counts,
    chats,
    format_waiting,
    initials,
    waiting_since,
)
from desktop.ui.style import Theme, filter_bar_sheet, follow_theme
from desktop.ui.text import display_name
from protocol.messages import PresenceEntry, Visitor

VISITOR_ROLE: Final = Qt.ItemDataRole.UserRole
TICK_MS: Final = 1000


def _shown_fields(visitor: Visitor) -> tuple[object, ...]:
    """What the panel shows of a visitor, counts or sorts by: a change elsewhere (a page view) changes nothing."""
    return (
        visitor.name,
        visitor.email,
        visitor.label,
        visitor.unread,
        visitor.chat_status,
        visitor.chat_agent_id,
        visitor.chat_agent_name,
    )


class ChatsPanel(QDockWidget):
    """A dock with the three chat lists; Enter or a double click opens the conversation."""

    openRequested = Signal(str)

    def __init__(self, store: VisitorStore, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chats-panel")  # saveState/restoreState find it by name
        self.setWindowTitle(self.tr("Chats"))
        self._store = store
        self._clock = clock
        self._me: int | None = None
        self.bucket = ChatBucket.MINE
        self._open: dict[str, Visitor] = {}  # the open chats, as last read from the store
        self._waiting: dict[str, float | None] = {}  # when each open chat's visitor began waiting
        self._known: dict[str, int] = {}  # each open chat's conversation version when its waiting time was taken
        self._ticking: list[tuple[QListWidgetItem, list[str], float]] = []  # shown items with a waiting time
        self._items: dict[str, tuple[QListWidgetItem, list[str]]] = {}  # shown items and their text's parts
        self._order: list[str] = []  # the ids shown, in order
        self.rebuilds = 0
        """How many times the list was built (for tests: a batch that changes nothing shown builds nothing)."""
        self.edits = 0
        """How many times shown items' texts changed in place (a chat changed without moving)."""

        body = QWidget()
        self.buttons: dict[ChatBucket, QToolButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        # One segmented control like the main window's filters (no push-button minimum of 80 px each).
        self.segments = QWidget()
        self.segments.setObjectName("chatBuckets")
        row = QHBoxLayout(self.segments)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        for number, bucket in enumerate(ChatBucket, start=1):
            button = QToolButton()
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            if number == 1:
                button.setProperty("segment", "first")
            elif number == len(ChatBucket):
                button.setProperty("segment", "last")
            # Never narrower than the text: the dock's minimum width follows the labels (and the language).
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _checked=False, b=bucket: self.show_bucket(b))
            self._group.addButton(button)
            self.buttons[bucket] = button
            row.addWidget(button, 1)
        # Alt+number while the keyboard is in the panel. A QShortcut, not the button's: setText with a
        # mnemonic ("&Mine") replaces a button's shortcut. The panel's scope keeps them apart from the
        # visitor filters' Alt+1..7, which work in the Visitors tab (the same keys in one scope do nothing).
        self.shortcuts: dict[ChatBucket, QShortcut] = {}
        for number, bucket in enumerate(ChatBucket, start=1):
            shortcut = QShortcut(QKeySequence(f"Alt+{number}"), self, lambda b=bucket: self.show_bucket(b))
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.shortcuts[bucket] = shortcut
        self.list = QListWidget()
        self.list.setMinimumWidth(120)
        self.list.setAccessibleName(self.tr("Chats"))
        self.list.itemActivated.connect(self._activated)
        self.empty_label = QLabel()
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setWordWrap(True)
        self.presence_label = QLabel()
        self.presence_label.setTextFormat(Qt.TextFormat.PlainText)  # agents' names are user data too
        self.presence_label.setWordWrap(True)
        self.presence_label.setAccessibleName(self.tr("Who else is on this visitor"))
        layout = QVBoxLayout(body)
        layout.addWidget(self.segments)
        layout.addWidget(self.list)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.presence_label)
        self.setWidget(body)

        self.focus_action = QAction(self.tr("Go to chats"), self)
        self.focus_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.focus_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.focus_action.triggered.connect(self.focus_list)
        self.addAction(self.focus_action)

        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.tick)
        self._ticker.start()
        self.show_bucket(ChatBucket.MINE)
        follow_theme(self.restyle)

    def restyle(self, theme: Theme) -> None:
        """Colours of the segments for ``theme``; tighter padding than the main filters (a narrow dock)."""
        self.segments.setStyleSheet(filter_bar_sheet(theme) + "QToolButton { padding: 4px 8px; }\n")

    def stop(self) -> None:
        """End of the session."""
        self._ticker.stop()

    def focus_list(self) -> None:
        """Ctrl+Shift+C: show the panel and put the keyboard in its list."""
        self.show()
        self.raise_()
        self.list.setFocus()
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)

    def show_bucket(self, bucket: ChatBucket) -> None:
        """Switch to one of the three lists (Alt+1, Alt+2, Alt+3)."""
        self.bucket = bucket
        self.buttons[bucket].setChecked(True)
        self.refresh()

    @property
    def me(self) -> int | None:
        """This agent's id (None before the server's hello): which chats are "mine"."""
        return self._me

    @me.setter
    def me(self, agent_id: int | None) -> None:
        if agent_id != self._me:
            self._me = agent_id
            self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        """A language switch: the buttons, the waiting texts and the visitors' labels are built again."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.refresh()

    def on_changes(self, changes: Changes) -> None:
        """Keep the open chats current, reading only changed visitors; rebuild only when what is shown changed.

        An open chat is recognised by its chat status, read without making a record; only open chats' records
        are read, and a change of anything the list does not show (a page view, the activity) builds nothing.
        A chat that comes or goes, or whose waiting time moves, builds the list again; one whose shown fields
        changed (an unread count) changes its line in place while the order stays.
        """
        store, records = self._store, self._open
        if changes.reset:
            records.clear()
            self._waiting.clear()
            self._known.clear()
            for visitor_id in store.ids_with_chat_status(OPEN_CHAT):  # a scan of codes, no records made
                visitor = store.visitors.get(visitor_id)
                if visitor is not None:
                    records[visitor_id] = visitor
                    self._take_waiting(visitor_id)
            self.refresh()
            return
        changed = False  # a chat came or went, or a waiting time moved: the list is built again
        edited: list[str] = []  # chats whose shown fields changed: their texts change, if nothing moves
        for visitor_id in changes.removed:
            changed |= self._forget(visitor_id)
        for visitor_id in changes.upserted:
            if store.chat_status(visitor_id) not in OPEN_CHAT:
                changed |= self._forget(visitor_id)
                continue
            visitor = store.visitors.get(visitor_id)
            if visitor is None:
                continue
            old = records.get(visitor_id)
            records[visitor_id] = visitor
            if old is None:
                self._take_waiting(visitor_id)
                changed = True
            elif _shown_fields(old) != _shown_fields(visitor):
                edited.append(visitor_id)
        for message in changes.messages:
            if message.visitor_id in records:
                changed |= self._take_waiting(message.visitor_id)
        if changed:
            self.refresh()
        elif edited:
            self._edit(edited)

    def _edit(self, edited: list[str]) -> None:
        """Chats changed what they show: their texts and the counts change in place unless the order moved."""
        visitors = list(self._open.values())
        shown = chats(visitors, self.bucket, self._me, self._waiting)
        if [v.id for v in shown] != self._order:
            self.refresh()
            return
        self.edits += 1
        self._set_buttons(bucket_counts(visitors, self._me))
        now = self._clock()
        for visitor_id in edited:
            entry = self._items.get(visitor_id)
            if entry is not None:
                item, parts = entry
                parts[:] = self._parts(self._open[visitor_id], self._waiting.get(visitor_id), now)
                item.setText(" · ".join(parts))

    def tick(self) -> None:
        """Once a second: the waiting times shown count on (their texts only; the list is not built again).

        A history loaded for an open chat (its messages merged in without a change batch) may move when its
        visitor began waiting: then the list is built again.
        """
        moved = [visitor_id for visitor_id in self._open if self._take_waiting(visitor_id)]
        if moved:
            self.refresh()
            return
        now = self._clock()
        for item, parts, since in self._ticking:
            parts[1] = self._waiting_text(now - since)
            text = " · ".join(parts)
            if item.text() != text:
                item.setText(text)

    def _take_waiting(self, visitor_id: str) -> bool:
        """Take a chat's waiting time again if its conversation changed since it was taken; whether it changed."""
        store = self._store
        version = store.conversation_version(visitor_id)
        if self._known.get(visitor_id) == version:
            return False
        self._known[visitor_id] = version
        since = waiting_since(store.messages_for(visitor_id))
        changed = visitor_id not in self._waiting or self._waiting[visitor_id] != since
        self._waiting[visitor_id] = since
        return changed

    def _forget(self, visitor_id: str) -> bool:
        """A chat no longer open (closed, or the visitor left); whether it was listed."""
        self._waiting.pop(visitor_id, None)
        self._known.pop(visitor_id, None)
        return self._open.pop(visitor_id, None) is not None

    def _set_buttons(self, counts: dict[ChatBucket, int]) -> None:
        labels = {
            ChatBucket.MINE: self.tr("&Mine (%1)"),
            ChatBucket.UNASSIGNED: self.tr("&Unassigned (%1)"),
            ChatBucket.ALL_OPEN: self.tr("&All open (%1)"),
        }
        for bucket, button in self.buttons.items():
            # The shortcut stays Alt+number; the mnemonic letter is a second way in.
            button.setText(labels[bucket].replace("%1", str(counts[bucket])))
            keys = self.shortcuts[bucket].key().toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(button.text().replace("&", "") + f" ({keys})")

    def _parts(self, visitor: Visitor, since: float | None, now: float) -> list[str]:
        """The pieces of a chat's line: the name, the waiting time (second, when waiting), unread, the holder."""
        parts = [display_name(visitor)]
        if since is not None:
            parts.append(self._waiting_text(now - since))
        if visitor.unread:
            parts.append(self.tr("%n unread", "", visitor.unread))
        if visitor.chat_agent_id is not None and visitor.chat_agent_id != self._me:
            parts.append(f"[{initials(visitor.chat_agent_name or '?')}] {visitor.chat_agent_name or ''}")
        return parts

    def _waiting_text(self, seconds: float) -> str:
        return self.tr("waiting %1").replace("%1", format_waiting(seconds))

    def ids(self) -> list[str]:
        """The visitor ids listed now, in order (for tests and keyboard navigation)."""
        return [self.list.item(i).data(VISITOR_ROLE) for i in range(self.list.count())]

    def refresh(self) -> None:
        """Build the counts and the shown list again from the open chats as last read."""
        self.rebuilds += 1
        visitors = list(self._open.values())
        self._set_buttons(bucket_counts(visitors, self._me))
        waiting = self._waiting
        shown = chats(visitors, self.bucket, self._me, waiting)
        current = self.list.currentItem().data(VISITOR_ROLE) if self.list.currentItem() is not None else None
        now = self._clock()
        self._ticking = []
        self._items = {}
        self._order = [v.id for v in shown]
        self.list.setUpdatesEnabled(False)
        try:
            self.list.clear()
            for visitor in shown:
                since = waiting.get(visitor.id)
                parts = self._parts(visitor, since, now)
                item = QListWidgetItem(" · ".join(parts))
                item.setData(VISITOR_ROLE, visitor.id)
                self.list.addItem(item)
                self._items[visitor.id] = (item, parts)
                if since is not None:
                    self._ticking.append((item, parts, since))
                if visitor.id == current:
                    self.list.setCurrentItem(item)
        finally:
            self.list.setUpdatesEnabled(True)
        empty = {
            ChatBucket.MINE: self.tr("No chats are assigned to you."),
            ChatBucket.UNASSIGNED: self.tr("No chat is waiting for an agent."),
            ChatBucket.ALL_OPEN: self.tr("No open chats."),
        }
        self.empty_label.setText(empty[self.bucket])
        self.empty_label.setVisible(not shown)

    def show_presence(self, name: str | None, others: tuple[PresenceEntry, ...]) -> None:
        """Who else is on the visitor selected in the list ("Anna is chatting, Jonas is viewing")."""
        if name is None or not others:
            self.presence_label.clear()
            return
        self.presence_label.setText(presence_text(others))

    def _activated(self, item: QListWidgetItem) -> None:
        self.openRequested.emit(str(item.data(VISITOR_ROLE)))


def presence_text(others: tuple[PresenceEntry, ...]) -> str:
    """Colleagues on a visitor as one translated line."""
    texts = {
        "chatting": QCoreApplication.translate("ChatsPanel", "%1 is chatting"),
        "typing": QCoreApplication.translate("ChatsPanel", "%1 is typing"),
        "viewing": QCoreApplication.translate("ChatsPanel", "%1 is viewing"),
    }
    return ", ".join(texts[e.activity].replace("%1", e.agent_name) for e in others)
