"""The main window: the Visitors tab (search, filters, table, detail pane, actions), menus and status bar."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabBar,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clock import Clock
from desktop.core.filters import VisitorFilter
from desktop.core.store import Changes, VisitorStore
from desktop.ui.actions import ActionError, AgentActions
from desktop.ui.conversation import ConversationManager
from desktop.ui.detail import DetailPane
from desktop.ui.legend import LegendDialog, StateIconProvider
from desktop.ui.style import (
    Theme,
    filter_bar_sheet,
    follow_theme,
    note_sheet,
    primary_button_sheet,
)
from desktop.ui.tasks import TaskRunner
from desktop.ui.text import display_name, has_chat
from desktop.ui.visitor_model import VisitorTableModel
from desktop.ui.visitor_table import configure_visitor_table
from protocol.api import RetentionSettings
from protocol.messages import Role, Visitor
from protocol.rules import Capabilities, Plan

MAX_SEARCH_CHARS = 200
"""Longer searches are pointless and would only cost time on every keystroke."""
STATUS_MS = 6000
"""How long a result line ("Visitor banned.") stays in the status bar."""

FILTER_ORDER = (
    VisitorFilter.ALL,
    VisitorFilter.ACTIVE,
    VisitorFilter.IN_CHAT,
    VisitorFilter.CUSTOMERS,
    VisitorFilter.AUTO_MESSAGED,
    VisitorFilter.BLOCKED,
    VisitorFilter.WITH_BOT,
)


class FilterBar(QWidget):
    """The filters as one segmented control with live counts; exactly one is checked."""

    filterChosen = Signal(object)  # VisitorFilter

    def __init__(self, parent: QWidget | None = None, *, scope: QWidget | None = None) -> None:
        """``scope``: the widget whose keyboard focus the Alt+number keys work in (default: the whole window)."""
        super().__init__(parent)
        self.setObjectName("filterBar")
        self._counts: dict[VisitorFilter, int] = {}
        self._labels: dict[VisitorFilter, str] = {}
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[VisitorFilter, QToolButton] = {}
        self.shortcuts: dict[VisitorFilter, QShortcut] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)  # the buttons touch: one control, not six
        for number, f in enumerate(FILTER_ORDER, start=1):
            button = QToolButton()
            button.setCheckable(True)
            button.setAutoRaise(False)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            if number == 1:
                button.setProperty("segment", "first")
            elif number == len(FILTER_ORDER):
                button.setProperty("segment", "last")
            # A QShortcut, not the button's: QAbstractButton.setText (the counts) resets a button shortcut.
            self.shortcuts[f] = QShortcut(QKeySequence(f"Alt+{number}"), scope or self, lambda f=f: self.choose(f))
            if scope is not None:
                # Not window-wide: the Chats panel has its own Alt+1..3 (one key in two scopes would do nothing).
                self.shortcuts[f].setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            button.clicked.connect(lambda _checked=False, f=f: self.filterChosen.emit(f))
            self.group.addButton(button)
            self.buttons[f] = button
            layout.addWidget(button)
        layout.addStretch(1)
        self.buttons[VisitorFilter.ALL].setChecked(True)
        self.retranslate()
        follow_theme(self.restyle)

    def restyle(self, theme: Theme) -> None:
        """Colours of the segments for ``theme``."""
        self.setStyleSheet(filter_bar_sheet(theme))

    def retranslate(self) -> None:
        """Texts and tooltips in the UI's language."""
        self._labels = {
            VisitorFilter.ALL: self.tr("All"),
            VisitorFilter.ACTIVE: self.tr("Active"),
            VisitorFilter.IN_CHAT: self.tr("In chat"),
            VisitorFilter.CUSTOMERS: self.tr("Customers"),
            VisitorFilter.AUTO_MESSAGED: self.tr("Auto-messaged"),
            VisitorFilter.BLOCKED: self.tr("Blocked"),
            VisitorFilter.WITH_BOT: self.tr("With a bot"),
        }
        tips = {
            VisitorFilter.ALL: self.tr("Every visitor"),
            VisitorFilter.ACTIVE: self.tr("Visitors with some activity in the last 10 minutes"),
            VisitorFilter.IN_CHAT: self.tr("Visitors chatting with your agents right now"),
            VisitorFilter.CUSTOMERS: self.tr("Visitors identified through the contact form or the API"),
            VisitorFilter.AUTO_MESSAGED: self.tr("Visitors who received an automatic message"),
            VisitorFilter.BLOCKED: self.tr("Visitors banned by your agents"),
            VisitorFilter.WITH_BOT: self.tr("Visitors a bot is talking with right now; open one to take over"),
        }
        for f, button in self.buttons.items():
            button.setAccessibleName(self._labels[f])
            keys = self.shortcuts[f].key().toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(f"{tips[f]} ({keys})")
        self.set_counts(self._counts)

    def set_counts(self, counts: Mapping[VisitorFilter, int]) -> None:
        """Show the number of visitors each filter would list."""
        self._counts = dict(counts)
        for f, button in self.buttons.items():
            n = counts.get(f, 0)
            button.setText(f"{self._labels[f]} ({n})")
            button.setAccessibleDescription(self.tr("%n visitor(s)", "", n))

    def choose(self, f: VisitorFilter) -> None:
        """Check a filter's button and announce it."""
        self.buttons[f].setChecked(True)
        self.filterChosen.emit(f)


class VisitorsTab(QWidget):
    """Search bar, filters, visitor table, detail pane and the visitor actions."""

    statusMessage = Signal(str)
    statusFinished = Signal(str)
    """The action a status message announced is done: the message goes (if it is still shown)."""

    def __init__(
        self,
        store: VisitorStore,
        model: VisitorTableModel,
        actions: AgentActions,
        *,
        conversations: ConversationManager,
        clock: Clock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self.model = model
        self._actions = actions
        self._conversations = conversations
        self._clock = clock
        self._capabilities: Capabilities | None = None
        self._current_id: str | None = None
        self._tasks = TaskRunner(self._show_error, self)
        self._build_search()
        self._build_filters()
        self._build_table()
        self._build_actions()
        self.detail = DetailPane()
        self._build_layout()
        self.retranslate()

    # ------------------------------------------------------------ building

    def _build_search(self) -> None:
        self.search = QLineEdit()
        self.search.setMaxLength(MAX_SEARCH_CHARS)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.model.set_search)

    def _build_filters(self) -> None:
        self.filters = FilterBar(scope=self)
        self.filters.filterChosen.connect(self.model.set_filter)
        self.model.countsChanged.connect(self.filters.set_counts)
        self.filters.set_counts(self.model.counts)

    def _build_table(self) -> None:
        self.table = QTableView()
        self.avatars = configure_visitor_table(self.table, self.model)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda _index: self.open_conversation())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._reselect)
        self.model.layoutChanged.connect(self._reselect)
        self.model.rowsRemoved.connect(self._reselect)
        self.model.headerDataChanged.connect(lambda *_args: self.fit_header())
        # An empty list says why and what to do, instead of showing a blank area.
        self.empty_label = QLabel(self.table.viewport())
        self.empty_label.setObjectName("muted")
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for signal in (
            self.model.rowsInserted,
            self.model.rowsRemoved,
            self.model.modelReset,
            self.model.layoutChanged,
        ):
            signal.connect(self._update_empty_state)
        self.table.viewport().installEventFilter(self)

    def _build_actions(self) -> None:
        self.open_action = QAction(self)
        self.open_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        self.open_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.open_action.triggered.connect(self.open_conversation)
        self.table.addAction(self.open_action)
        # Also as a key filter: the action's shortcut only fires in an active window, a key press always.
        self.table.installEventFilter(self)
        self.ban_action = QAction(self)
        self.ban_action.setShortcut(QKeySequence(Qt.Key.Key_Delete))
        self.ban_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.ban_action.triggered.connect(self.confirm_ban)
        self.table.addAction(self.ban_action)
        # Admin-only actions stay visible for every agent: disabled, with the reason as their tip.
        self._role: Role | None = None
        self.export_action = QAction(self.tr("Export data…"), self)
        self.export_action.triggered.connect(self.export_visitor)
        self.erase_action = QAction(self.tr("Erase data…"), self)
        self.erase_action.triggered.connect(self.confirm_erase)

        self.open_button = QPushButton()
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_conversation)
        self.ban_button = QPushButton()
        self.ban_button.clicked.connect(self.confirm_ban)
        self.reason_label = QLabel()
        self.reason_label.setObjectName("muted")
        self.reason_label.setTextFormat(Qt.TextFormat.PlainText)
        self.reason_label.setWordWrap(True)
        follow_theme(self._restyle)

    def _restyle(self, theme: Theme) -> None:
        self.empty_label.setStyleSheet(note_sheet(theme))
        self.avatars.set_theme(theme)
        self.avatars.set_ratio(self.table.devicePixelRatioF())
        self.table.viewport().update()
        self.open_button.setStyleSheet(primary_button_sheet(theme))
        self.reason_label.setStyleSheet(note_sheet(theme))

    def _build_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(8)
        left_layout.addWidget(self.table, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(6)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.ban_button)
        buttons.addStretch(1)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.reason_label)
        right_layout.addWidget(self.detail, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setHandleWidth(12)
        self.detail.setMinimumWidth(300)
        self.splitter.setSizes([880, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.setSpacing(8)
        # Search and filters span the list and the card: the segmented filters need the width (German
        # texts are long), and the window can then shrink to the list plus the card beside a Chats dock.
        layout.addWidget(self.search)
        layout.addWidget(self.filters)
        layout.addWidget(self.splitter, 1)

    def retranslate(self) -> None:
        """Every text of the tab in the UI's language (at start and after a language switch)."""
        self.search.setPlaceholderText(self.tr("Search by name, e-mail, page, country or visitor id (Ctrl+F)"))
        self.search.setAccessibleName(self.tr("Search visitors"))
        self.filters.setAccessibleName(self.tr("Visitor filters"))
        self.table.setAccessibleName(self.tr("Visitors"))
        self.open_action.setText(self.tr("Open conversation"))
        self.open_button.setText(self.tr("Open conversation"))
        self.open_button.setAccessibleName(self.tr("Open conversation"))
        self.ban_button.setAccessibleName(self.tr("Ban or unban visitor"))
        self.reason_label.setAccessibleName(self.tr("Why the action is unavailable"))
        self.empty_label.setAccessibleName(self.tr("No visitors listed"))
        self._update_empty_state()
        self._update_actions()
        self.fit_header()

    def fit_header(self) -> None:
        """Widen each column whose title (plus the sort arrow) would be cut; never narrow one the user set."""
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount() - 1):  # the last one stretches to the edge anyway
            # The style's own measure of the title: text, margins and the sort indicator's room.
            needed = header.sectionSizeHint(column)
            if header.sectionSize(column) < needed:
                header.resizeSection(column, needed)

    def showEvent(self, event: QShowEvent) -> None:
        """Shown (maybe on another screen): avatars for that screen's pixel ratio."""
        super().showEvent(event)
        self.avatars.set_ratio(self.table.devicePixelRatioF())

    def changeEvent(self, event: QEvent) -> None:
        """A language switch: texts, and the visitor labels, countries and times built from the language."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.filters.retranslate()
            self.retranslate()
            # The cells (labels, countries) are built in the language of the moment: build them again.
            self.model.apply_changes(Changes(reset=True))
            self.detail.retranslate()
            self._refresh_detail()

    def _update_empty_state(self, *_args: object) -> None:
        empty = self.model.rowCount() == 0
        if empty:
            query = self.search.text().strip()
            if query:
                text = self.tr("No visitor matches “%1”. Clear the search to see everyone.").replace("%1", query)
            elif self.model.current_filter is not VisitorFilter.ALL:
                text = self.tr("No visitors under this filter right now. Alt+1 shows everyone.")
            else:
                text = self.tr("Nobody is on your website right now. Visitors appear here as soon as they arrive.")
            self.empty_label.setText(text)
            self.empty_label.setGeometry(self.table.viewport().rect().adjusted(24, 24, -24, -24))
        self.empty_label.setVisible(empty)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter or Return in the visitor list opens the conversation; the empty-list text stays centred."""
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.empty_label.setGeometry(self.table.viewport().rect().adjusted(24, 24, -24, -24))
            return False
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.open_conversation()
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ state

    def set_capabilities(self, capabilities: Capabilities | None) -> None:
        """What the plan allows (from Hello); gates Open conversation."""
        self._capabilities = capabilities
        self._update_actions()

    def current_visitor(self) -> Visitor | None:
        """The selected visitor as the store has it now."""
        if self._current_id is None:
            return None
        return self._store.visitors.get(self._current_id)

    def select_visitor(self, visitor_id: str) -> bool:
        """Select a visitor's row (showing all visitors if the filter hides it); False if unknown."""
        row = self.model.row_of(visitor_id)
        if row < 0 and visitor_id in self._store.visitors:
            self.search.clear()
            self.filters.choose(VisitorFilter.ALL)
            row = self.model.row_of(visitor_id)
        if row < 0:
            return False
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        return True

    def on_changes(self, changes: Changes) -> None:
        """After the model applied a batch: refresh the detail pane and actions if the selection changed."""
        vid = self._current_id
        if vid is None:
            return
        if changes.reset or vid in changes.upserted or vid in changes.removed:
            self._refresh_detail()
            self._update_actions()

    def on_message(self, visitor_id: str) -> None:
        """A chat message of ``visitor_id`` arrived or changed: the detail pane shows the chat."""
        if visitor_id == self._current_id:
            self._refresh_detail()

    def tick(self) -> None:
        """Once a second: time-dependent cells and the detail pane's times."""
        self.model.tick()
        if self._current_id is not None:
            self._refresh_detail()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        visitor = self.model.visitor_at(current.row()) if current.isValid() else None
        self._current_id = visitor.id if visitor is not None else None
        self._store.watch(self._current_id)  # the store keeps (and fetches) the selected visitor's trail
        self._refresh_detail()
        self._update_actions()

    def _reselect(self, *_args: object) -> None:
        # Rows move when the order or the filter changes; keep the same visitor selected when still listed.
        if self._current_id is None:
            return
        row = self.model.row_of(self._current_id)
        current = self.table.currentIndex()
        if row < 0:
            if current.isValid():
                self.table.selectionModel().clearCurrentIndex()
                self.table.clearSelection()
            self._current_id = None
            self._store.watch(None)
            self._refresh_detail()
            self._update_actions()
        elif not current.isValid() or current.row() != row:
            self.table.setCurrentIndex(self.model.index(row, max(current.column(), 0)))

    def _refresh_detail(self) -> None:
        visitor = self.current_visitor()
        messages = self._store.messages_for(visitor.id) if visitor is not None else ()
        self.detail.show_visitor(visitor, self._clock(), messages)

    def open_reason(self, visitor: Visitor | None) -> str | None:
        """Why Open conversation is unavailable for ``visitor``, or None when it is available."""
        if visitor is None:
            return self.tr("Select a visitor first.")
        if visitor.banned:
            return self.tr("This visitor is banned.")
        if has_chat(visitor):
            return None
        if self._capabilities is None:
            return self.tr("Connecting to the server…")
        if not self._capabilities.proactive_chat:
            return self.tr("Available on the STANDARD and PRO plans.")
        if not visitor.online:
            return self.tr("This visitor has left the website.")
        return None

    def _update_actions(self) -> None:
        visitor = self.current_visitor()
        reason = self.open_reason(visitor)
        enabled = reason is None
        self.open_action.setEnabled(enabled)
        self.open_button.setEnabled(enabled)
        tip = "" if enabled else (reason or "")
        self.open_button.setToolTip(tip or self.tr("Open a conversation with this visitor (Enter)"))
        self.open_action.setToolTip(tip)
        self.open_action.setStatusTip(tip)
        self.reason_label.setText(tip if visitor is not None else "")
        self.reason_label.setVisible(bool(tip) and visitor is not None)
        banned = visitor is not None and visitor.banned
        text = self.tr("Unban…") if banned else self.tr("Ban…")
        self.ban_button.setText(text)
        self.ban_action.setText(text)
        self.ban_button.setEnabled(visitor is not None)
        self.ban_action.setEnabled(visitor is not None)
        privacy_reason = self.privacy_reason(visitor)
        for action in (self.export_action, self.erase_action):
            action.setEnabled(privacy_reason is None)
            action.setToolTip(privacy_reason or "")
            action.setStatusTip(privacy_reason or "")

    def set_role(self, role: Role) -> None:
        """The signed-in agent's role (from Hello); gates export and erasure."""
        self._role = role
        self._update_actions()

    def privacy_reason(self, visitor: Visitor | None) -> str | None:
        """Why export and erasure are unavailable, or None when they are available."""
        if visitor is None:
            return self.tr("Select a visitor first.")
        if self._role is None:
            return self.tr("Connecting to the server…")
        if self._role != "admin":
            return self.tr("Only an admin of your account can export or erase a visitor's data.")
        return None

    # ------------------------------------------------------------ actions

    def open_conversation(self) -> None:
        """Open the selected visitor's conversation (starting it on the server when there is none)."""
        visitor = self.current_visitor()
        reason = self.open_reason(visitor)
        if visitor is None:
            return
        if reason is not None:
            self.statusMessage.emit(reason)
            return
        self.request_conversation(visitor)

    opener: Callable[[Visitor], None] | None = None
    """The session's way to open a conversation (it asks before taking one over); None: open directly."""

    def request_conversation(self, visitor: Visitor) -> None:
        """Ask the server to open or take over the conversation, then show it (the server has the last word)."""
        if self.opener is not None:
            self.opener(visitor)
            return
        mine = visitor.chat_status == "active" and visitor.chat_agent_id == self._conversations.agent_id
        if mine:
            self._conversations.open(visitor.id)
            return
        vid = visitor.id
        status = self.tr("Opening the conversation with %1…").replace("%1", display_name(visitor))
        self.statusMessage.emit(status)

        def opened() -> None:
            self.statusFinished.emit(status)
            self._conversations.open(vid)

        self._tasks.run(self._actions.open_conversation(vid), on_done=opened)

    def confirm_ban(self) -> None:
        """Ask before banning or unbanning the selected visitor."""
        visitor = self.current_visitor()
        if visitor is None:
            return
        name = display_name(visitor)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setTextFormat(Qt.TextFormat.PlainText)
        cover: QCheckBox | None = None
        if visitor.banned:
            box.setWindowTitle(self.tr("Unban visitor"))
            box.setText(self.tr("Lift the ban on %1? They can visit and chat again.").replace("%1", name))
        else:
            box.setWindowTitle(self.tr("Ban visitor"))
            box.setText(
                self.tr("Ban %1? Their open pages disconnect and they cannot chat any more.").replace("%1", name)
            )
            cover = QCheckBox(self.tr("Also refuse their internet address for a while"))
            cover.setEnabled(visitor.online)
            if not visitor.online:
                cover.setToolTip(self.tr("The visitor has left; their address is not known."))
            box.setCheckBox(cover)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        vid, banned = visitor.id, visitor.banned

        def finished(result: int) -> None:
            if result != QMessageBox.StandardButton.Yes:
                return
            cover_ip = cover is not None and cover.isChecked()
            coro = self._actions.unban(vid) if banned else self._actions.ban(vid, cover_ip=cover_ip)
            done = self.tr("Visitor unbanned.") if banned else self.tr("Visitor banned.")
            self._tasks.run(coro, on_done=lambda: self.statusMessage.emit(done))

        box.finished.connect(finished)
        self.ban_box = box  # for tests and to keep it alive
        box.open()

    def confirm_erase(self) -> None:
        """Ask before erasing everything held about the selected visitor."""
        visitor = self.current_visitor()
        reason = self.privacy_reason(visitor)
        if visitor is None or reason is not None:
            self.statusMessage.emit(reason or "")
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setWindowTitle(self.tr("Erase visitor data"))
        box.setText(
            self.tr(
                "Erase everything held about %1: identity, custom variables, pages and every message? "
                "This cannot be undone. A ban stays in force."
            ).replace("%1", display_name(visitor))
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        vid = visitor.id

        def finished(result: int) -> None:
            if result == QMessageBox.StandardButton.Yes:
                done = self.tr("The visitor's data was erased.")
                self._tasks.run(self._actions.erase_visitor(vid), on_done=lambda: self.statusMessage.emit(done))

        box.finished.connect(finished)
        self.erase_box = box  # for tests and to keep it alive
        box.open()

    def export_visitor(self) -> None:
        """Ask where to save everything held about the selected visitor, then fetch and write it as JSON."""
        visitor = self.current_visitor()
        reason = self.privacy_reason(visitor)
        if visitor is None or reason is not None:
            self.statusMessage.emit(reason or "")
            return
        vid = visitor.id
        dialog = QFileDialog(self, self.tr("Export visitor data"), f"frontdesk-visitor-{vid}.json")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(self.tr("JSON files (*.json)"))
        dialog.setDefaultSuffix("json")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(path: str) -> None:
            async def fetch_and_write() -> None:
                data = await self._actions.export_visitor(vid)
                try:
                    await asyncio.to_thread(Path(path).write_bytes, data)
                except OSError as exc:
                    raise ActionError("internal", f"{path} could not be written: {exc.strerror}") from None

            done = self.tr("Visitor data saved to %1.").replace("%1", path)
            self._tasks.run(fetch_and_write(), on_done=lambda: self.statusMessage.emit(done))

        dialog.fileSelected.connect(chosen)
        self.export_dialog = dialog  # for tests and to keep it alive
        dialog.open()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction(self.open_action)
        menu.addAction(self.ban_action)
        menu.addSeparator()
        menu.addAction(self.export_action)
        menu.addAction(self.erase_action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _show_error(self, error: ActionError) -> None:
        self.statusMessage.emit(error.message)  # replaces the "Opening…" line of the action that failed
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setWindowTitle(self.tr("The server refused"))
        box.setText(error.message)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_box = box
        box.open()

    @property
    def tasks(self) -> TaskRunner:
        """The running requests (tests wait for them)."""
        return self._tasks


class MainWindow(QMainWindow):
    """Frontdesk's main window; closing it keeps the app running in the tray."""

    logoutRequested = Signal()
    accountRequested = Signal()
    """Help > About this account (the app fetches the retention settings, then calls show_account)."""
    settingsRequested = Signal()
    botsRequested = Signal()
    quitRequested = Signal()
    closedToTray = Signal()
    countsRefreshed = Signal(int, int)
    """Visitors online and unread chats, after each count."""

    def __init__(
        self,
        store: VisitorStore,
        model: VisitorTableModel,
        actions: AgentActions,
        *,
        conversations: ConversationManager,
        clock: Clock,
        icons: StateIconProvider,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._icons = icons
        self._demo_url: str | None = None
        self._session_facts: tuple[str, str, str] | None = None
        self.visitors = VisitorsTab(store, model, actions, conversations=conversations, clock=clock)
        self.visitors.statusMessage.connect(self.show_status)
        self.visitors.statusFinished.connect(self.clear_status)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)  # no frame around the tab page: the content is the window
        self.tabs.addTab(self.visitors, "")
        # Conversations open as closable tabs beside the Visitors tab (ConversationManager.set_tab_host).
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setElideMode(Qt.TextElideMode.ElideRight)
        for side in (QTabBar.ButtonPosition.LeftSide, QTabBar.ButtonPosition.RightSide):
            self.tabs.tabBar().setTabButton(0, side, None)  # the Visitors tab stays
        self.tabs.currentChanged.connect(self._show_title)  # the title names the conversation in front
        # Window-wide, so the keys switch tabs from the visitor list and from a conversation's input alike.
        self.tab_shortcuts = [
            QShortcut(QKeySequence(keys), self, lambda step=step: self.switch_tab(step))
            for keys, step in (("Ctrl+Tab", 1), ("Ctrl+PgDown", 1), ("Ctrl+Shift+Tab", -1), ("Ctrl+PgUp", -1))
        ]
        self.setCentralWidget(self.tabs)
        self._build_status_bar()
        self._build_menus()
        self.retranslate()
        self._shown_counts = self.counts()

        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()
        self.refresh_counts()
        self.resize(1200, 720)

    def _build_status_bar(self) -> None:
        self.connection_label = QLabel()
        self.online_label = QLabel()
        self.unread_label = QLabel()
        for label in (self.connection_label, self.online_label, self.unread_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)
        self.connection_label.setText(self.tr("Connecting…"))

    def _build_menus(self) -> None:
        self.file_menu = self.menuBar().addMenu("")
        self.settings_action = self.file_menu.addAction("")
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.settingsRequested)
        self.bots_action = self.file_menu.addAction("")
        self.bots_action.triggered.connect(self.botsRequested)
        self.logout_action = self.file_menu.addAction("")
        self.logout_action.triggered.connect(self.logoutRequested)
        self.file_menu.addSeparator()
        # Ctrl+W closes the conversation tab in front (as in every tabbed program), else the window;
        # Ctrl+Shift+W always closes the window (Frontdesk stays in the tray).
        self.close_tab_action = self.file_menu.addAction("")
        self.close_tab_action.triggered.connect(self.close_current_tab)
        self.close_action = self.file_menu.addAction("")
        self.close_action.triggered.connect(self.close)
        self.tabs.currentChanged.connect(self._update_close_actions)
        self._update_close_actions()
        self.quit_action = self.file_menu.addAction("")
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quitRequested)

        self.visitors_menu = self.menuBar().addMenu("")
        self.find_action = self.visitors_menu.addAction("")
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.focus_search)
        self.visitors_menu.addSeparator()
        self.visitors_menu.addAction(self.visitors.open_action)
        self.visitors_menu.addAction(self.visitors.ban_action)
        self.visitors_menu.addSeparator()
        self.visitors_menu.addAction(self.visitors.export_action)
        self.visitors_menu.addAction(self.visitors.erase_action)

        self.help_menu = self.menuBar().addMenu("")
        self.legend_action = self.help_menu.addAction("")
        self.legend_action.triggered.connect(self.show_legend)
        self.demo_action = self.help_menu.addAction("")
        self.demo_action.triggered.connect(self.open_demo_site)
        self.demo_action.setVisible(False)
        self.help_menu.addSeparator()
        self.account_action = self.help_menu.addAction("")
        self.account_action.triggered.connect(self.accountRequested)
        self.about_action = self.help_menu.addAction("")
        self.about_action.triggered.connect(self.show_about)

    def retranslate(self) -> None:
        """Menus, tab and status texts in the UI's language (at start and after a language switch)."""
        self.file_menu.setTitle(self.tr("&File"))
        self.settings_action.setText(self.tr("&Settings…"))
        self.bots_action.setText(self.tr("&Bots…"))
        self.logout_action.setText(self.tr("&Log out"))
        self.close_tab_action.setText(self.tr("Close &tab"))
        self.close_action.setText(self.tr("&Close window"))
        self.quit_action.setText(self.tr("&Quit"))
        self.visitors_menu.setTitle(self.tr("&Visitors"))
        self.find_action.setText(self.tr("&Find visitor"))
        self.help_menu.setTitle(self.tr("&Help"))
        self.legend_action.setText(self.tr("Visitor &icons"))
        self.demo_action.setText(self.tr("&Demo website"))
        self.account_action.setText(self.tr("About this &account"))
        self.about_action.setText(self.tr("&About Frontdesk"))
        self.tabs.setTabText(self.tabs.indexOf(self.visitors), self.tr("Visitors"))
        self.connection_label.setAccessibleName(self.tr("Connection"))
        self.online_label.setAccessibleName(self.tr("Visitors online"))
        self.unread_label.setAccessibleName(self.tr("Unread chats"))
        self._show_title()

    def changeEvent(self, event: QEvent) -> None:
        """A language switch re-translates the window's own texts (the tab does its part itself)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh_counts()

    # ------------------------------------------------------------ session facts

    def set_session(self, agent_name: str, account_name: str, plan: Plan, capabilities: Capabilities) -> None:
        """Who is logged in and what the plan allows."""
        self._session_facts = (account_name, agent_name, plan.value.upper())
        self._show_title()
        self.visitors.set_capabilities(capabilities)

    def _show_title(self, *_args: object) -> None:
        if self._session_facts is None:
            self.setWindowTitle(self.tr("Frontdesk"))
            return
        account_name, agent_name, plan = self._session_facts
        title = self.tr("Frontdesk - %1 (%2, %3)").replace("%1", account_name).replace("%2", agent_name)
        title = title.replace("%3", plan)
        page = self.tabs.currentWidget()
        if page is not None and page is not self.visitors and page.windowTitle():
            title = f"{page.windowTitle()} - {title}"  # "Conversation with Ada - Frontdesk - Shop (...)"
        self.setWindowTitle(title)

    def show_status(self, text: str) -> None:
        """A line in the status bar; it goes after a while, or when its action finished."""
        self.statusBar().showMessage(text, STATUS_MS)

    def clear_status(self, text: str) -> None:
        """The action announced by ``text`` is done: remove the line unless another one replaced it."""
        if self.statusBar().currentMessage() == text:
            self.statusBar().clearMessage()

    def set_connection_text(self, text: str) -> None:
        """The connection state in the status bar."""
        self.connection_label.setText(text)

    def set_demo_url(self, url: str | None) -> None:
        """Link Help > Demo website to the embedded demo site (hidden when None)."""
        self._demo_url = url
        self.demo_action.setVisible(url is not None)
        if url is not None:
            self.demo_action.setStatusTip(url)

    def counts(self) -> tuple[int, int]:
        """Visitors online and chats with unread messages (the store keeps both counts: no pass over visitors)."""
        return self._store.count_online(), self._store.count_unread()

    def refresh_counts(self) -> None:
        """Update the status bar's visitor and unread counts (and tell the tray)."""
        online, unread = self.counts()
        self.online_label.setText(self.tr("%n visitor(s) online", "", online))
        self.unread_label.setText(self.tr("%n unread chat(s)", "", unread))
        self.countsRefreshed.emit(online, unread)

    def on_changes(self, changes: Changes) -> None:
        """A batch of store changes arrived (the model has applied them already)."""
        self.visitors.on_changes(changes)
        counts = self.counts()
        if counts != self._shown_counts:
            self._shown_counts = counts
            self.refresh_counts()

    def tick(self) -> None:
        """Once a second."""
        self.visitors.tick()
        self.refresh_counts()

    # ------------------------------------------------------------ commands

    def focus_search(self) -> None:
        """Ctrl+F: put the cursor in the search bar."""
        self.bring_forward()
        self.visitors.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.visitors.search.selectAll()

    def conversation_in_front(self) -> bool:
        """Whether a conversation tab (not the Visitors tab) is the current tab."""
        page = self.tabs.currentWidget()
        return page is not None and page is not self.visitors

    def _update_close_actions(self, *_args: object) -> None:
        close_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Close)  # Ctrl+W (and Ctrl+F4 on some systems)
        window_keys = [QKeySequence("Ctrl+Shift+W")]
        if self.conversation_in_front():
            self.close_tab_action.setEnabled(True)
            self.close_tab_action.setShortcuts(close_keys)
            self.close_action.setShortcuts(window_keys)
        else:
            # No tab to close: the keys close the window as before (a disabled action's keys do nothing).
            self.close_tab_action.setEnabled(False)
            self.close_tab_action.setShortcuts([])
            self.close_action.setShortcuts(close_keys + window_keys)

    def close_current_tab(self) -> None:
        """Ctrl+W on a conversation tab: close that view (the chat goes on), as its ✕ does."""
        if self.conversation_in_front():
            self.tabs.tabCloseRequested.emit(self.tabs.currentIndex())
        else:
            self.close()

    def switch_tab(self, step: int) -> None:
        """Ctrl+Tab / Ctrl+PgDown (step 1) and back (-1): the next tab, wrapping around."""
        count = self.tabs.count()
        if count > 1:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % count)

    def bring_forward(self) -> None:
        """Show, un-minimize and raise the window."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def show_legend(self) -> None:
        """Help > Visitor icons."""
        dialog = LegendDialog(self._icons, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.legend = dialog
        dialog.show()

    def open_demo_site(self) -> None:
        """Help > Demo website: open it in the default browser."""
        if self._demo_url is not None:
            QDesktopServices.openUrl(QUrl(self._demo_url))

    def show_account(self, kept: RetentionSettings | None) -> None:
        """Help > About this account: plan, who is signed in and how long visitors' data is kept."""
        if self._session_facts is None:
            lines = [self.tr("Not connected yet.")]
        else:
            account_name, agent_name, plan = self._session_facts
            lines = [
                self.tr("Account: %1\nPlan: %2\nSigned in as: %3")
                .replace("%1", account_name)
                .replace("%2", plan)
                .replace("%3", agent_name)
            ]
        if kept is None:
            lines += ["", self.tr("The retention settings could not be loaded; try again later.")]
        else:
            lines += [
                "",
                self.tr("Data is kept for:"),
                self.tr("departed visitors: %1 days after their last visit").replace("%1", str(kept.visitor_days)),
                self.tr("chat messages: %1 days").replace("%1", str(kept.message_days)),
                self.tr("messages left while no agent was online: %1 days").replace("%1", str(kept.offline_days)),
                self.tr("Admins change this with frontdesk-server account set-retention or the REST API."),
            ]
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("About this account"))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText("\n".join(lines))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.account_box = box  # for tests
        box.open()

    def show_about(self) -> None:
        """Help > About."""
        try:
            ver = version("frontdesk")
        except PackageNotFoundError:
            ver = "dev"
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("About Frontdesk"))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(
            self.tr("Frontdesk %1\nSee everyone on your website right now and talk to them.").replace("%1", ver)
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing hides to the tray; Quit ends the app."""
        event.ignore()
        self.hide()
        self.closedToTray.emit()
