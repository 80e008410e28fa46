"""The main window: the Visitors tab (search, filters, table, detail pane, actions), menus and status bar."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clock import Clock
from desktop.core.filters import VisitorFilter
from desktop.core.ordering import Column
from desktop.core.store import Changes, VisitorStore
from desktop.ui.actions import ActionError, AgentActions
from desktop.ui.conversation import ConversationManager
from desktop.ui.detail import DetailPane
from desktop.ui.legend import LegendDialog, StateIconProvider
from desktop.ui.tasks import TaskRunner
from desktop.ui.text import display_name, has_chat
from desktop.ui.visitor_model import VisitorTableModel
from protocol.api import RetentionSettings
from protocol.messages import Role, Visitor
from protocol.rules import Capabilities, Plan

MAX_SEARCH_CHARS = 200
"""Longer searches are pointless and would only cost time on every keystroke."""

_FLAG_ONLINE = 1
_FLAG_UNREAD = 2

COLUMN_WIDTHS = {
    Column.STATE: 48,
    Column.NAME: 160,
    Column.LOCATION: 140,
    Column.PAGE: 220,
    Column.TIME_ON_SITE: 90,
    Column.VISITS: 56,
    Column.REFERRER: 170,
    Column.DEVICE: 200,
}
"""Starting widths in pixels (the last column, the agent, takes the rest)."""

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
    """The filter buttons with live counts; exactly one is checked."""

    filterChosen = Signal(object)  # VisitorFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: dict[VisitorFilter, str] = {
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
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[VisitorFilter, QToolButton] = {}
        self.shortcuts: dict[VisitorFilter, QShortcut] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for number, f in enumerate(FILTER_ORDER, start=1):
            button = QToolButton()
            button.setCheckable(True)
            button.setAutoRaise(False)
            button.setText(self._labels[f])
            button.setAccessibleName(self._labels[f])
            shortcut = QKeySequence(f"Alt+{number}")
            # A QShortcut, not the button's: QAbstractButton.setText (the counts) resets a button shortcut.
            self.shortcuts[f] = QShortcut(shortcut, self, lambda f=f: self.choose(f))
            button.setToolTip(f"{tips[f]} ({shortcut.toString(QKeySequence.SequenceFormat.NativeText)})")
            button.clicked.connect(lambda _checked=False, f=f: self.filterChosen.emit(f))
            self.group.addButton(button)
            self.buttons[f] = button
            layout.addWidget(button)
        layout.addStretch(1)
        self.buttons[VisitorFilter.ALL].setChecked(True)

    def set_counts(self, counts: Mapping[VisitorFilter, int]) -> None:
        """Show the number of visitors each filter would list."""
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

        self.search = QLineEdit()
        self.search.setMaxLength(MAX_SEARCH_CHARS)
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("Search by name, e-mail, page, country or visitor id (Ctrl+F)"))
        self.search.setAccessibleName(self.tr("Search visitors"))
        self.search.textChanged.connect(self.model.set_search)

        self.filters = FilterBar()
        self.filters.setAccessibleName(self.tr("Visitor filters"))
        self.filters.filterChosen.connect(self.model.set_filter)
        self.model.countsChanged.connect(self.filters.set_counts)
        self.filters.set_counts(self.model.counts)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.model.attach_view(self.table)
        self.table.setAccessibleName(self.tr("Visitors"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # The header's default indicator is descending; the model's default order is ascending by state.
        self.table.horizontalHeader().setSortIndicator(Column.STATE, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        # Fixed row heights: the view never asks every row for its size (matters at 100,000 rows).
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        for column, width in COLUMN_WIDTHS.items():
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda _index: self.open_conversation())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._reselect)
        self.model.layoutChanged.connect(self._reselect)
        self.model.rowsRemoved.connect(self._reselect)

        self.open_action = QAction(self.tr("Open conversation"), self)
        self.open_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        self.open_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.open_action.triggered.connect(self.open_conversation)
        self.table.addAction(self.open_action)
        # Also as a key filter: the action's shortcut only fires in an active window, a key press always.
        self.table.installEventFilter(self)
        self.ban_action = QAction(self.tr("Ban…"), self)
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

        self.open_button = QPushButton(self.tr("Open conversation"))
        self.open_button.setAccessibleName(self.tr("Open conversation"))
        self.open_button.clicked.connect(self.open_conversation)
        self.ban_button = QPushButton(self.tr("Ban…"))
        self.ban_button.setAccessibleName(self.tr("Ban or unban visitor"))
        self.ban_button.clicked.connect(self.confirm_ban)
        self.reason_label = QLabel()
        self.reason_label.setTextFormat(Qt.TextFormat.PlainText)
        self.reason_label.setWordWrap(True)
        self.reason_label.setAccessibleName(self.tr("Why the action is unavailable"))

        self.detail = DetailPane()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.filters)
        left_layout.addWidget(self.table, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
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
        self.detail.setMinimumWidth(300)
        self.splitter.setSizes([900, 380])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self._update_actions()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter or Return in the visitor list opens the conversation."""
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

    def request_conversation(self, visitor: Visitor) -> None:
        """Ask the server to open or take over the conversation, then show it (the server has the last word)."""
        mine = visitor.chat_status == "active" and visitor.chat_agent_id == self._conversations.agent_id
        if mine:
            self._conversations.open(visitor.id)
            return
        vid = visitor.id
        self.statusMessage.emit(self.tr("Opening the conversation with %1…").replace("%1", display_name(visitor)))

        def opened() -> None:
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
        self.statusMessage.emit(error.message)
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
        self.setWindowTitle(self.tr("Frontdesk"))
        self.visitors = VisitorsTab(store, model, actions, conversations=conversations, clock=clock)
        self.visitors.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.visitors, self.tr("Visitors"))
        self.setCentralWidget(self.tabs)

        self.connection_label = QLabel(self.tr("Connecting…"))
        self.connection_label.setAccessibleName(self.tr("Connection"))
        self.online_label = QLabel()
        self.online_label.setAccessibleName(self.tr("Visitors online"))
        self.unread_label = QLabel()
        self.unread_label.setAccessibleName(self.tr("Unread chats"))
        for label in (self.connection_label, self.online_label, self.unread_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            self.statusBar().addPermanentWidget(label)
        self._account_text = ""
        self._build_menus()
        self._flags: dict[str, int] = {}
        self._online = self._unread = 0
        self._recount()
        self._shown_counts = (self._online, self._unread)

        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()
        self.refresh_counts()
        self.resize(1200, 720)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.settings_action = file_menu.addAction(self.tr("&Settings…"))
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.settingsRequested)
        self.bots_action = file_menu.addAction(self.tr("&Bots…"))
        self.bots_action.triggered.connect(self.botsRequested)
        self.logout_action = file_menu.addAction(self.tr("&Log out"))
        self.logout_action.triggered.connect(self.logoutRequested)
        file_menu.addSeparator()
        self.close_action = file_menu.addAction(self.tr("&Close window"))
        self.close_action.setShortcut(QKeySequence.StandardKey.Close)
        self.close_action.triggered.connect(self.close)
        self.quit_action = file_menu.addAction(self.tr("&Quit"))
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quitRequested)

        visitors_menu = self.menuBar().addMenu(self.tr("&Visitors"))
        self.find_action = visitors_menu.addAction(self.tr("&Find visitor"))
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.focus_search)
        visitors_menu.addSeparator()
        visitors_menu.addAction(self.visitors.open_action)
        visitors_menu.addAction(self.visitors.ban_action)
        visitors_menu.addSeparator()
        visitors_menu.addAction(self.visitors.export_action)
        visitors_menu.addAction(self.visitors.erase_action)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.legend_action = help_menu.addAction(self.tr("Visitor &icons"))
        self.legend_action.triggered.connect(self.show_legend)
        self.demo_action = help_menu.addAction(self.tr("&Demo website"))
        self.demo_action.triggered.connect(self.open_demo_site)
        self.demo_action.setVisible(False)
        help_menu.addSeparator()
        self.account_action = help_menu.addAction(self.tr("About this &account"))
        self.account_action.triggered.connect(self.accountRequested)
        self.about_action = help_menu.addAction(self.tr("&About Frontdesk"))
        self.about_action.triggered.connect(self.show_about)

    # ------------------------------------------------------------ session facts

    def set_session(self, agent_name: str, account_name: str, plan: Plan, capabilities: Capabilities) -> None:
        """Who is logged in and what the plan allows."""
        self.setWindowTitle(
            self.tr("Frontdesk - %1 (%2, %3)")
            .replace("%1", account_name)
            .replace("%2", agent_name)
            .replace("%3", plan.value.upper())
        )
        self._account_text = (
            self.tr("Account: %1\nPlan: %2\nSigned in as: %3")
            .replace("%1", account_name)
            .replace("%2", plan.value.upper())
            .replace("%3", agent_name)
        )
        self.visitors.set_capabilities(capabilities)

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
        """Visitors online and chats with unread messages."""
        return self._online, self._unread

    def _recount(self) -> None:
        # Walks every visitor (tens of ms at 100,000): only for a snapshot; batches update incrementally.
        self._flags = {
            vid: _FLAG_ONLINE * v.online | _FLAG_UNREAD * (v.unread > 0) for vid, v in self._store.visitors.items()
        }
        values = self._flags.values()
        self._online = sum(1 for f in values if f & _FLAG_ONLINE)
        self._unread = sum(1 for f in values if f & _FLAG_UNREAD)

    def _count_changes(self, changes: Changes) -> None:
        flags, visitors = self._flags, self._store.visitors
        for vid in (*changes.removed, *changes.upserted):
            old = flags.pop(vid, 0)
            v = visitors.get(vid)
            new = 0 if v is None else _FLAG_ONLINE * v.online | _FLAG_UNREAD * (v.unread > 0)
            if v is not None:
                flags[vid] = new
            self._online += bool(new & _FLAG_ONLINE) - bool(old & _FLAG_ONLINE)
            self._unread += bool(new & _FLAG_UNREAD) - bool(old & _FLAG_UNREAD)

    def refresh_counts(self) -> None:
        """Update the status bar's visitor and unread counts (and tell the tray)."""
        online, unread = self.counts()
        self.online_label.setText(self.tr("%n visitor(s) online", "", online))
        self.unread_label.setText(self.tr("%n unread chat(s)", "", unread))
        self.countsRefreshed.emit(online, unread)

    def on_changes(self, changes: Changes) -> None:
        """A batch of store changes arrived (the model has applied them already)."""
        self.visitors.on_changes(changes)
        if changes.reset:
            self._recount()
        else:
            self._count_changes(changes)
        if (self._online, self._unread) != self._shown_counts:
            self._shown_counts = (self._online, self._unread)
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
        lines = [self._account_text or self.tr("Not connected yet.")]
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
