"""One signed-in session: it builds the store, the socket, the window and the team views, wires them, and
undoes all of it in :meth:`AgentSession.close`.

The composition root (desktop/app.py) only creates a session and reacts to what it reports; every
connection made here goes through :meth:`AgentSession.wire`, so teardown never misses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Final

from PySide6.QtCore import QByteArray, QObject, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QMessageBox

from desktop.core.clock import Clock
from desktop.core.store import Changes, VisitorStore
from desktop.core.team import AutoAway, OpenKind, effective_status, open_decision
from desktop.integration.idle import IdleProbe
from desktop.integration.resources import app_icon
from desktop.net import account as account_api
from desktop.net.client import AgentClient, Answer, ConnectionState, RequestError
from desktop.settings import Settings
from desktop.ui.actions import ActionError
from desktop.ui.alerts import ChatAlerts
from desktop.ui.canned import CannedPicker
from desktop.ui.chats_panel import ChatsPanel, presence_text
from desktop.ui.conversation import ConversationManager
from desktop.ui.dispatcher import StoreDispatcher
from desktop.ui.legend import StateIconProvider
from desktop.ui.main_window import MainWindow
from desktop.ui.tasks import TaskRunner
from desktop.ui.team_dialogs import CannedDialog, NotesDialog, TransferDialog
from desktop.ui.text import display_name
from desktop.ui.tray import NotificationAdapter, Notifier, Tray, notification_safe
from desktop.ui.visitor_model import VisitorTableModel
from protocol.messages import (
    AddNote,
    AgentStatus,
    AgentToServer,
    Ban,
    CannedResponse,
    CannedResponses,
    CannedResponseSpec,
    ChatMessage,
    CloseConversation,
    DeleteCannedResponse,
    EraseVisitor,
    ErrorCode,
    GetCannedResponses,
    GetHistory,
    GetNotes,
    Hello,
    History,
    MarkRead,
    Note,
    NoteAdded,
    Notes,
    OpenConversation,
    SaveCannedResponse,
    SendMessage,
    SetStatus,
    TakenOver,
    TakeOver,
    TeamEvent,
    TransferChat,
    Transferred,
    Unban,
    Visitor,
)
from protocol.messages import Error as ErrorFrame

log = logging.getLogger(__name__)

_REFS = itertools.count(1)

IDLE_POLL_MS: Final = 5000
"""How often the system's idle time is read for auto-away."""
VIEWING_DEBOUNCE_MS: Final = 150
"""Colleagues learn which visitor this agent looks at once the selection rests this long."""


class ClientActions:
    """The UI's AgentActions on top of the websocket client; server errors become ActionError."""

    def __init__(self, client: AgentClient, *, server_url: str = "", token: str = "") -> None:
        self._client = client
        self._server_url = server_url
        self._token = token

    def _ref(self) -> str:
        # One counter for every instance: two of them on one client never reuse a ref.
        return f"ui{next(_REFS)}"

    async def _request(self, message: AgentToServer) -> Answer:
        try:
            return await self._client.request(message)
        except RequestError as exc:
            error: ErrorFrame = exc.error
            raise ActionError(str(error.code), error.message) from None

    async def open_conversation(self, visitor_id: str) -> None:
        """Start or answer a conversation (refused with ``conversation_held`` when a colleague has it)."""
        await self._request(OpenConversation(ref=self._ref(), visitor_id=visitor_id))

    async def take_over(self, visitor_id: str) -> None:
        """Take a chat a colleague holds (the server records and announces it)."""
        await self._request(TakeOver(ref=self._ref(), visitor_id=visitor_id))

    async def send_message(self, visitor_id: str, message_id: str, text: str) -> None:
        """Send a chat message with a client-chosen id."""
        await self._request(SendMessage(ref=self._ref(), id=message_id, visitor_id=visitor_id, text=text))

    async def mark_read(self, visitor_id: str) -> None:
        """Mark a conversation read."""
        await self._request(MarkRead(ref=self._ref(), visitor_id=visitor_id))

    async def close_conversation(self, visitor_id: str) -> None:
        """End a conversation."""
        await self._request(CloseConversation(ref=self._ref(), visitor_id=visitor_id))

    async def ban(self, visitor_id: str, *, cover_ip: bool = False) -> None:
        """Ban a visitor, optionally their pages' IP addresses too (the server keeps keyed hashes only)."""
        await self._request(Ban(ref=self._ref(), visitor_id=visitor_id, cover_ip=cover_ip))

    async def unban(self, visitor_id: str) -> None:
        """Lift a ban."""
        await self._request(Unban(ref=self._ref(), visitor_id=visitor_id))

    async def history(self, visitor_id: str) -> list[ChatMessage]:
        """The stored conversation."""
        answer = await self._request(GetHistory(ref=self._ref(), visitor_id=visitor_id))
        return list(answer.messages) if isinstance(answer, History) else []

    async def erase_visitor(self, visitor_id: str) -> None:
        """Erase a visitor's data (the server refuses agents who are not admins)."""
        await self._request(EraseVisitor(ref=self._ref(), visitor_id=visitor_id))

    async def export_visitor(self, visitor_id: str) -> bytes:
        """A visitor's data as JSON, over the REST API (the server refuses agents who are not admins)."""
        try:
            return await account_api.export_visitor(self._server_url, self._token, visitor_id)
        except account_api.AccountRequestError as exc:
            raise ActionError(exc.code, exc.message) from None

    def send_typing(self, visitor_id: str, typing: bool) -> None:
        """Typing indicator for the visitor (dropped while offline: it is ephemeral)."""
        self._client.send_typing(visitor_id, typing)

    async def set_status(self, status: AgentStatus, *, auto: bool = False) -> None:
        """Online or away (``auto`` when idle detection chose it)."""
        await self._request(SetStatus(ref=self._ref(), status=status, auto=auto))

    async def transfer(self, visitor_id: str, to_agent_id: int, note: str) -> None:
        """Hand a chat to an online colleague with a note."""
        await self._request(TransferChat(ref=self._ref(), visitor_id=visitor_id, to_agent_id=to_agent_id, note=note))

    async def add_note(self, note_id: str, visitor_id: str, text: str) -> None:
        """Write an internal note (agents only)."""
        await self._request(AddNote(ref=self._ref(), id=note_id, visitor_id=visitor_id, text=text))

    async def notes(self, visitor_id: str) -> list[Note]:
        """A visitor's internal notes."""
        answer = await self._request(GetNotes(ref=self._ref(), visitor_id=visitor_id))
        return list(answer.notes) if isinstance(answer, Notes) else []

    async def save_canned(self, response_id: int | None, spec: CannedResponseSpec) -> None:
        """Create or replace a canned response (admins)."""
        await self._request(SaveCannedResponse(ref=self._ref(), id=response_id, response=spec))

    async def delete_canned(self, response_id: int) -> None:
        """Delete a canned response (admins)."""
        await self._request(DeleteCannedResponse(ref=self._ref(), id=response_id))

    async def canned_responses(self) -> list[CannedResponse]:
        """The account's canned responses."""
        answer = await self._request(GetCannedResponses(ref=self._ref()))
        return list(answer.responses) if isinstance(answer, CannedResponses) else []


class AgentSession(QObject):
    """Everything that lives exactly as long as one login, and the wiring between it."""

    stateChanged = Signal(object)
    """ConnectionState, after the session updated its own views."""
    statusChanged = Signal(str, bool)
    """The status colleagues see ("online"/"away") and whether auto-away set it."""

    def __init__(
        self,
        server_url: str,
        email: str,
        token: str,
        *,
        settings: Settings,
        clock: Clock,
        icons: StateIconProvider,
        adapter: NotificationAdapter | None,
        tray: Tray | None = None,
        idle: IdleProbe | None = None,
    ) -> None:
        super().__init__()
        self.server_url = server_url
        self.email = email
        self.token = token
        self.settings = settings
        self.clock = clock
        self.tray = tray
        self.idle = idle
        self.hello: Hello | None = None
        self.state: ConnectionState | None = None
        self.ended = False
        self.task: asyncio.Task[Any] | None = None
        self._connections: list[tuple[SignalInstance, Callable[..., Any]]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

        self.store = VisitorStore()
        self.dispatcher = StoreDispatcher(self.store)
        self.model = VisitorTableModel(self.store, clock, icons)
        self.model.set_pacer(self.dispatcher.pace(self.model.release_step))  # long holds released over frames
        self.dispatcher.apply_with(self.model.apply_changes)  # the list first, by each drain's deadline
        self.client = AgentClient(
            server_url, token, self.store, on_state=self._on_state, on_hello=self._on_hello, on_error=self._on_error
        )
        self.actions = ClientActions(self.client, server_url=server_url, token=token)
        self.conversations = ConversationManager(self.store, self.actions, clock)
        self.window = MainWindow(
            self.store, self.model, self.actions, conversations=self.conversations, clock=clock, icons=icons
        )
        self.ui_tasks = TaskRunner(self._show_error, self.window)
        # Everything Qt of a session hangs off its window, so deleting the window deletes it all on this thread.
        # (Python's cycle collector may otherwise free them on a server or executor thread: "Timers cannot be
        # stopped from another thread", or worse.)
        self.conversations.set_tab_host(self.window.tabs)
        self.conversations.prefer_tabs = settings.conversations_in_tabs
        for child in (self.model, self.dispatcher, self.conversations, self):
            child.setParent(self.window)
        self.window.setWindowIcon(app_icon())
        if settings.window_geometry:
            self.window.restoreGeometry(QByteArray(settings.window_geometry))
        if settings.splitter_state:
            self.window.visitors.splitter.restoreState(QByteArray(settings.splitter_state))

        self.notifier: Notifier | None = None
        if adapter is not None:
            self.notifier = Notifier(adapter, settings, self.window, self._conversation_focused, self.window)
            self.wire(self.notifier.openConversation, self.open_conversation_from_notification)
            self.wire(self.notifier.selectVisitor, self.select_visitor_from_notification)
        self.alerts = ChatAlerts(self.store, settings, adapter, clock, parent=self.window)
        self.wire(self.alerts.takeRequested, self.take_chat)
        self.wire(self.alerts.openRequested, self.open_conversation_from_notification)
        if tray is not None:
            self.wire(self.alerts.waitingChanged, tray.set_waiting)
            self.wire(self.window.countsRefreshed, tray.set_counts)
            self.wire(tray.statusChosen, self.choose_status)

        self.chats = ChatsPanel(self.store, clock, self.window)
        self.window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.chats)
        self.wire(self.chats.openRequested, self.open_conversation_from_notification)

        self.status_box = QComboBox()
        self.status_box.setAccessibleName(self.tr("Your status"))
        self.status_box.addItem(self.tr("Online"), "online")
        self.status_box.addItem(self.tr("Away"), "away")
        self.window.statusBar().addPermanentWidget(self.status_box)
        self.wire(self.status_box.activated, self._status_box_chosen)
        self.chosen: AgentStatus = "away" if settings.status == "away" else "online"
        minutes = settings.auto_away_minutes
        idle_source = idle.source if idle is not None else None
        self.auto_away = AutoAway(minutes * 60.0 if minutes and idle_source is not None else None)
        self._show_status()
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(IDLE_POLL_MS)
        self.wire(self._idle_timer.timeout, self.poll_idle)
        if idle_source is not None:
            self._idle_timer.start()

        self.window.visitors.opener = self.request_conversation
        self._viewing: list[str] = []
        self._viewing_timer = QTimer(self)
        self._viewing_timer.setSingleShot(True)
        self._viewing_timer.setInterval(VIEWING_DEBOUNCE_MS)
        self.wire(self._viewing_timer.timeout, self._send_viewing)
        self.pickers: dict[str, CannedPicker] = {}
        self.notes_dialog: NotesDialog | None = None
        self.canned_dialog: CannedDialog | None = None
        self._build_chat_menu()
        self.wire(self.dispatcher.visitorsChanged, self._on_changes)
        self.wire(self.dispatcher.visitorsArrived, self._on_arrived)
        self.wire(self.dispatcher.messageAdded, self._on_message)
        self.wire(self.dispatcher.messageUpdated, self.conversations.on_message_updated)
        self.wire(self.dispatcher.messageUpdated, self._on_message_updated)
        self.wire(self.dispatcher.typingChanged, self.conversations.on_typing)
        self.wire(self.dispatcher.teamEvents, self._on_team)
        self.wire(self.window.visitors.table.selectionModel().currentRowChanged, self._selection_changed)
        self.wire(self.conversations.opened, self._conversation_opened)

    # ------------------------------------------------------------ lifecycle

    def wire(self, signal: SignalInstance, slot: Callable[..., Any]) -> None:
        """Connect ``signal`` to ``slot`` for the life of the session (undone by :meth:`close`)."""
        signal.connect(slot)
        self._connections.append((signal, slot))

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine for the session; cancelled by :meth:`close`."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    def start(self, *, show: bool) -> None:
        """Connect, and show the window unless the app starts in the tray."""
        self.task = self.spawn(self.client.run())
        if show:
            self.window.show()

    async def close(self) -> None:
        """Close the socket, stop the timers and alerts, and hand the window to Qt for deletion."""
        if self.ended:
            return
        self.ended = True
        self.dispatcher.detach()
        # Slots that hold the session: disconnecting breaks those reference cycles, and nothing of this
        # session reacts any more while it goes.
        for signal, slot in reversed(self._connections):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        self._connections.clear()
        self.window.visitors.opener = None
        self._idle_timer.stop()
        self._viewing_timer.stop()
        self.alerts.stop()
        self.chats.stop()
        await self.client.close()
        for task in list(self._tasks):
            task.cancel()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        self.conversations.close_all()
        self.window.ticker.stop()
        self.window.hide()
        # Closing from inside a coroutine re-enters the loop (STYLE.md): let Qt delete it on its own turn.
        QTimer.singleShot(0, self.window.deleteLater)
        if self.tray is not None:
            self.tray.set_counts(0, 0)
            self.tray.set_waiting(0)
            self.tray.set_status(self.chosen, available=False)

    # ------------------------------------------------------------ events from the store and the socket

    @property
    def me(self) -> int | None:
        """This agent's id once the server said hello."""
        return self.hello.agent.id if self.hello is not None else None

    def _on_changes(self, changes: Changes) -> None:
        # The model has applied exactly these changes already (StoreDispatcher.apply_with).
        self.window.on_changes(changes)
        self.conversations.on_changes(changes)
        self.chats.on_changes(changes)
        self.alerts.on_changes(changes)
        self._selection_changed()

    def _on_team(self, events: list[TeamEvent]) -> None:
        self.alerts.on_team(events)
        for event in events:
            if isinstance(event, TakenOver):
                self._taken_over(event)
            elif isinstance(event, Transferred):
                self.alerts.on_transferred(event)
            elif isinstance(event, NoteAdded | Notes):
                self._refresh_notes()
            elif isinstance(event, CannedResponses) and self.canned_dialog is not None:
                self.canned_dialog.show_responses(self.store.team.canned)
        if self.store.team.supported and not self._status_known:
            self._team_arrived()
        self._selection_changed()

    def _on_arrived(self, visitors: Sequence[Visitor]) -> None:
        if self.notifier is not None:
            self.notifier.on_arrived(visitors)

    def _on_message(self, message: ChatMessage) -> None:
        self.conversations.on_message(message)
        self.window.visitors.on_message(message.visitor_id)
        if self.alerts.covers(message.visitor_id):
            # The waiting chat's notification (which stays) says it; a bot's hand-over line included.
            self.alerts.on_visitor_message(message)
        elif self.notifier is not None:
            self.notifier.on_message(message, self.store.visitors.get(message.visitor_id))

    def _on_message_updated(self, update: Any) -> None:
        self.window.visitors.on_message(update.visitor_id)

    def _on_state(self, state: ConnectionState) -> None:
        if self.ended:
            return
        self.state = state
        if state is ConnectionState.ONLINE:
            # Presence and status are per connection on the server: say them again after every sync.
            self._viewing = []
            self._selection_changed()
            if self.store.team.supported:
                self._send_status()
        self.stateChanged.emit(state)

    def _on_hello(self, hello: Hello) -> None:
        if self.ended:
            return
        self.hello = hello
        self.conversations.agent_id = hello.agent.id
        self.conversations.agent_name = hello.agent.name
        self.chats.me = hello.agent.id
        self.alerts.me = hello.agent.id
        self.window.set_session(
            hello.agent.name or hello.agent.email, hello.account.name, hello.account.plan, hello.capabilities
        )
        self.window.visitors.set_role(hello.agent.role)

    def _on_error(self, error: ErrorFrame) -> None:
        if not self.ended:
            self.window.statusBar().showMessage(error.message, 10000)

    def _show_error(self, error: ActionError) -> None:
        self.window.statusBar().showMessage(error.message, 10000)

    # ------------------------------------------------------------ status

    _status_known = False

    def _team_arrived(self) -> None:
        """The server sent the team: it keeps status, so the controls work and it learns ours."""
        self._status_known = True
        self._send_status()
        self._show_status()

    def _status_box_chosen(self, index: int) -> None:
        self.choose_status(str(self.status_box.itemData(index)))

    def choose_status(self, status: str) -> None:
        """The agent chose Online or Away (window or tray)."""
        chosen: AgentStatus = "away" if status == "away" else "online"
        self.chosen = chosen
        self.settings.status = chosen
        self.auto_away.step(chosen, None)  # a choice ends auto-away
        self._send_status()
        self._show_status()

    def settings_changed(self) -> None:
        """The settings were saved: auto-away and where new conversations open apply now (alerts read theirs)."""
        self.conversations.prefer_tabs = self.settings.conversations_in_tabs
        minutes = self.settings.auto_away_minutes
        source = self.idle.source if self.idle is not None else None
        self.auto_away.idle_after = minutes * 60.0 if minutes and source is not None else None
        self.poll_idle()

    @property
    def status(self) -> AgentStatus:
        """What colleagues see."""
        return effective_status(self.chosen, self.auto_away.active)

    def poll_idle(self) -> None:
        """Read the system's idle time and turn auto-away on or off."""
        source = self.idle.source if self.idle is not None else None
        if source is None:
            return

        async def poll() -> None:
            idle = await source.idle_seconds()
            if self.ended:
                return
            if self.auto_away.step(self.chosen, idle) is not None:
                self._send_status()
                self._show_status()

        self.spawn(poll())

    def _send_status(self) -> None:
        if not self.store.team.supported or not self.client.online or not _loop_running():
            return
        status, auto = self.status, self.auto_away.active
        self.alerts.online = status == "online"
        self.ui_tasks.run(self.actions.set_status(status, auto=auto))

    def _show_status(self) -> None:
        status, auto = self.status, self.auto_away.active
        self.alerts.online = status == "online"
        available = self.store.team.supported
        self.status_box.setCurrentIndex(self.status_box.findData(status))
        self.status_box.setEnabled(available)
        self.status_box.setItemText(1, self.tr("Away (idle)") if auto else self.tr("Away"))
        if available:
            self.status_box.setToolTip(self.tr("Colleagues see this; chats and automatic messages follow it."))
        else:
            self.status_box.setToolTip(self.tr("This server does not share agent status."))
        if self.tray is not None:
            self.tray.set_status(status, available=available, auto=auto)
        self.statusChanged.emit(status, auto)

    # ------------------------------------------------------------ presence and take-over

    def _current_viewing(self) -> list[str]:
        ids = list(self.conversations.dialogs)
        current = self.window.visitors.current_visitor()
        if current is not None and current.id not in ids:
            ids.insert(0, current.id)
        return ids[:32]

    def _selection_changed(self, *_args: object) -> None:
        if hasattr(self, "take_action"):
            self._update_chat_menu()
        if self._current_viewing() != self._viewing and self.store.team.supported:
            self._viewing_timer.start()  # arrow keys through the list send one update, when they rest
        current = self.window.visitors.current_visitor()
        others = self.store.team.others_on(current.id, self.me) if current is not None else ()
        self.chats.show_presence(display_name(current) if current is not None else None, others)

    def _send_viewing(self) -> None:
        viewing = self._current_viewing()
        if viewing != self._viewing and not self.ended and _loop_running():
            self._viewing = viewing
            self.client.send_viewing(viewing)

    def _conversation_opened(self, visitor_id: str) -> None:
        self._selection_changed()
        dialog = self.conversations.dialogs.get(visitor_id)
        if dialog is not None and visitor_id not in self.pickers:

            def fill() -> tuple[str, str, str | None]:
                visitor = self.store.visitors.get(visitor_id)
                name = (visitor.name if visitor is not None else None) or ""
                agent = self.hello.agent.name if self.hello is not None else ""
                return name, agent, visitor.language if visitor is not None else None

            picker = CannedPicker(dialog.input, lambda: self.store.team.canned, fill, dialog)
            self.pickers[visitor_id] = picker
            picker.destroyed.connect(lambda _obj=None, vid=visitor_id: self.pickers.pop(vid, None))

    # ------------------------------------------------------------ the Chat menu: take over, transfer, notes

    def _build_chat_menu(self) -> None:
        menu = self.window.menuBar().addMenu(self.tr("&Chat"))
        self.chat_menu = menu
        self.take_action = QAction(self.tr("&Take over"), self.window)
        self.take_action.setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.transfer_action = QAction(self.tr("T&ransfer…"), self.window)
        self.transfer_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.notes_action = QAction(self.tr("&Notes…"), self.window)
        self.notes_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.canned_action = QAction(self.tr("&Canned responses…"), self.window)
        for action, slot in (
            (self.take_action, self._take_current),
            (self.transfer_action, self.show_transfer),
            (self.notes_action, self.show_notes),
            (self.canned_action, self.show_canned),
        ):
            menu.addAction(action)
            self.window.addAction(action)
            self.wire(action.triggered, slot)
        menu.insertSeparator(self.canned_action)
        menu.addAction(self.chats.focus_action)
        self._update_chat_menu()

    def _update_chat_menu(self) -> None:
        visitor = self.window.visitors.current_visitor()
        team_ok = self.store.team.supported
        held_by_other = visitor is not None and open_decision(visitor, self.me).kind is OpenKind.TAKE_OVER
        mine = visitor is not None and visitor.chat_status == "active" and visitor.chat_agent_id == self.me
        self.take_action.setEnabled(team_ok and held_by_other)
        self.transfer_action.setEnabled(team_ok and mine)
        self.notes_action.setEnabled(team_ok and visitor is not None)
        self.canned_action.setEnabled(team_ok)
        why = "" if team_ok else self.tr("This server does not have the team features.")
        for action in (self.take_action, self.transfer_action, self.notes_action, self.canned_action):
            action.setStatusTip(why)

    def _take_current(self) -> None:
        visitor = self.window.visitors.current_visitor()
        if visitor is not None:
            self.take_chat(visitor.id)

    def show_transfer(self) -> TransferDialog | None:
        """Chat > Transfer: hand the selected chat to an online colleague with a note."""
        visitor = self.window.visitors.current_visitor()
        if visitor is None:
            return None
        dialog = TransferDialog(display_name(visitor), self.store.team.online_colleagues(self.me), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        vid = visitor.id

        def chosen(agent_id: int, note: str) -> None:
            self.window.visitors.tasks.run(self.actions.transfer(vid, agent_id, note))

        dialog.chosen.connect(chosen)
        dialog.open()
        return dialog

    def show_notes(self) -> NotesDialog | None:
        """Chat > Notes: the selected visitor's internal notes."""
        visitor = self.window.visitors.current_visitor()
        if visitor is None:
            return None
        if self.notes_dialog is not None:
            self.notes_dialog.close()
        dialog = NotesDialog(display_name(visitor), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setProperty("visitor_id", visitor.id)
        self.notes_dialog = dialog
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "notes_dialog", None))
        vid = visitor.id

        def added(text: str) -> None:
            note_id = "n" + secrets.token_urlsafe(12)
            self.window.visitors.tasks.run(self.actions.add_note(note_id, vid, text))

        async def fetch() -> None:
            await self.actions.notes(vid)  # the answer lands in the store; _refresh_notes shows it

        dialog.added.connect(added)
        dialog.show_notes(self.store.team.notes_for(vid))
        self.window.visitors.tasks.run(fetch())
        dialog.show()
        return dialog

    def _refresh_notes(self) -> None:
        dialog = self.notes_dialog
        if dialog is not None:
            dialog.show_notes(self.store.team.notes_for(str(dialog.property("visitor_id"))))

    def show_canned(self) -> CannedDialog:
        """Chat > Canned responses: the account's shared answers."""
        if self.canned_dialog is None:
            dialog = CannedDialog(self.window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(lambda _obj=None: setattr(self, "canned_dialog", None))

            def failed(error: ActionError) -> None:
                dialog.show_error(error.message)

            runner = TaskRunner(failed, dialog)
            dialog.saved.connect(lambda rid, spec: runner.run(self.actions.save_canned(rid, spec)))
            dialog.deleted.connect(lambda rid: runner.run(self.actions.delete_canned(rid)))
            self.canned_dialog = dialog
        self.canned_dialog.show_responses(self.store.team.canned)
        self.canned_dialog.show()
        self.canned_dialog.raise_()
        return self.canned_dialog

    def request_conversation(self, visitor: Visitor) -> None:
        """Open a conversation; a chat a colleague holds is taken over only after asking."""
        decision = open_decision(visitor, self.me)
        if decision.kind is OpenKind.OPEN:
            mine = visitor.chat_status == "active" and visitor.chat_agent_id == self.me
            if mine:
                self.conversations.open(visitor.id)
            else:
                self._open_on_server(visitor.id)
            return
        self.ask_take_over(visitor.id, decision.holder or "")

    def ask_take_over(self, visitor_id: str, holder: str) -> QMessageBox:
        """ "Anna is chatting with this visitor. Take over?" (non-modal; Yes sends the take-over)."""
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Take over the chat?"))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(self.tr("%1 is chatting with this visitor. Take over?").replace("%1", holder))
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished(result: int) -> None:
            if result == QMessageBox.StandardButton.Yes:
                self.take_chat(visitor_id)

        box.finished.connect(finished)
        box.open()
        return box

    def take_chat(self, visitor_id: str) -> None:
        """Take a chat: answer an unassigned one, or take it over from a colleague; then show it."""
        visitor = self.store.visitors.get(visitor_id)
        if visitor is not None and open_decision(visitor, self.me).kind is OpenKind.OPEN:
            self._open_on_server(visitor_id)
            return

        def done() -> None:
            self.window.bring_forward()
            self.conversations.open(visitor_id)

        self.window.visitors.tasks.run(self.actions.take_over(visitor_id), on_done=done)

    def _open_on_server(self, visitor_id: str) -> None:
        visitor = self.store.visitors.get(visitor_id)
        status = self.tr("Opening the conversation with %1…").replace("%1", display_name(visitor)) if visitor else ""
        if status:
            self.window.show_status(status)

        async def open_it() -> None:
            try:
                await self.actions.open_conversation(visitor_id)
            except ActionError as exc:
                if exc.code == ErrorCode.CONVERSATION_HELD:
                    # Someone else won the race: say who, and offer the explicit take-over.
                    self.window.statusBar().showMessage(exc.message, 10000)
                    current = self.store.visitors.get(visitor_id)
                    holder = (current.chat_agent_name if current is not None else None) or exc.message
                    self.ask_take_over(visitor_id, holder)
                    return
                raise
            finally:
                # Done either way (a tab, a window or an error box): the line goes unless another replaced it.
                self.window.clear_status(status)
            self.conversations.open(visitor_id)

        self.window.visitors.tasks.run(open_it())  # refusals show as the list's error box

    def _taken_over(self, event: TakenOver) -> None:
        if event.from_agent_id != self.me:
            return
        visitor = self.store.visitors.get(event.visitor_id)
        name = display_name(visitor) if visitor is not None else self.tr("a visitor")
        text = (
            self.tr("%1 took over your chat with %2")
            .replace("%1", notification_safe(event.by_agent_name, 60))
            .replace("%2", notification_safe(name, 60))
        )
        self.window.statusBar().showMessage(text, 15000)
        if self.notifier is not None:
            self.notifier.announce(text, f"visitor:{event.visitor_id}")

    # ------------------------------------------------------------ notifications

    def _conversation_focused(self, visitor_id: str) -> bool:
        dialog = self.conversations.dialogs.get(visitor_id)
        return dialog is not None and dialog.is_seen()

    def open_conversation_from_notification(self, visitor_id: str) -> None:
        """A chat notification or the Chats panel: open that conversation."""
        self.window.bring_forward()
        tab = self.window.visitors
        tab.select_visitor(visitor_id)
        visitor = self.store.visitors.get(visitor_id)
        if visitor is not None and tab.open_reason(visitor) is None:
            self.request_conversation(visitor)

    def select_visitor_from_notification(self, visitor_id: str) -> None:
        """A new-visitor notification was clicked: show that visitor."""
        self.window.bring_forward()
        self.window.visitors.select_visitor(visitor_id)

    def presence_line(self, visitor_id: str) -> str:
        """Colleagues on a visitor as the UI says it ("Anna is chatting, Jonas is viewing")."""
        return presence_text(self.store.team.others_on(visitor_id, self.me))


def _loop_running() -> bool:
    """Whether Qt runs this slot inside the asyncio loop (always in the app; not while a test harness pumps
    Qt events on its own, when a request could not be started)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("session task failed", exc_info=task.exception())
