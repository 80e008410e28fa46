"""Conversations: one view per visitor, shown as a tab of the main window or in a window of its own."""

from __future__ import annotations

import secrets

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QFont, QFontMetrics, QKeyEvent, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clock import Clock
from desktop.core.store import Changes, VisitorStore
from desktop.ui.actions import ActionError, AgentActions
from desktop.ui.style import Theme, avatar_pixmap, current_theme, error_sheet, follow_theme, primary_button_sheet
from desktop.ui.tasks import TaskRunner
from desktop.ui.text import author_text, display_name, format_clock, message_state
from protocol.messages import ChatMessage, MessageUpdated, Typing, Visitor
from protocol.rules import MAX_MESSAGE_CHARS

TYPING_IDLE_MS = 3000
"""The agent counts as no longer typing this long after the last keystroke."""
TYPING_SHOWN_MS = 15000
"""A visitor's typing indicator disappears after this long without news (a lost "stopped" frame)."""
TAB_NAME_CHARS = 28
"""A longer visitor name is cut on its tab, so one name cannot push the other tabs away."""
MESSAGE_ID_ROLE = int(Qt.ItemDataRole.UserRole)
AUTHOR_ROLE = MESSAGE_ID_ROLE + 1
"""visitor, agent, auto or system: which side and colour the bubble gets."""
BODY_ROLE = MESSAGE_ID_ROLE + 2
META_ROLE = MESSAGE_ID_ROLE + 3
"""Author, time and delivery state, the small line above the text."""
BUBBLE_FRACTION = 0.74
"""A bubble is at most this share of the history's width: short lines read as a conversation."""
AVATAR_PX = 32
_Index = QModelIndex | QPersistentModelIndex


class BubbleDelegate(QStyledItemDelegate):
    """Paints each message as a bubble: the visitor's on the left, the agents' on the right in the accent colour.

    Text is drawn with QPainter.drawText, which never interprets markup: visitor text stays plain.
    """

    PAD_X = 12
    PAD_Y = 8
    GAP = 6

    def __init__(self, view: QListWidget) -> None:
        super().__init__(view)
        self._view = view
        self.theme = current_theme()

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        body = QFont(option.font)
        meta = QFont(option.font)
        meta.setPointSizeF(max(6.0, body.pointSizeF() * 0.85))
        return body, meta

    def _geometry(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> tuple[QRect, QRect, QRect]:
        """The bubble, its body text and its meta line, within the row starting at option.rect's top-left."""
        body_font, meta_font = self._fonts(option)
        width = max(120, self._view.viewport().width() - 2 * self.GAP)
        inner = int(width * BUBBLE_FRACTION) - 2 * self.PAD_X
        body = str(index.data(BODY_ROLE) or "")
        meta = str(index.data(META_ROLE) or "")
        flags = int(Qt.TextFlag.TextWordWrap)
        body_rect = QFontMetrics(body_font).boundingRect(QRect(0, 0, inner, 1_000_000), flags, body)
        meta_rect = QFontMetrics(meta_font).boundingRect(QRect(0, 0, inner, 1_000_000), flags, meta)
        text_w = max(body_rect.width(), meta_rect.width(), 24)
        bubble_w = text_w + 2 * self.PAD_X
        bubble_h = meta_rect.height() + 2 + body_rect.height() + 2 * self.PAD_Y
        mine = index.data(AUTHOR_ROLE) == "agent"
        left = option.rect.left() + self.GAP
        x = left + width - bubble_w if mine else left
        bubble = QRect(x, option.rect.top() + self.GAP // 2, bubble_w, bubble_h)
        meta_box = QRect(bubble.left() + self.PAD_X, bubble.top() + self.PAD_Y, text_w, meta_rect.height())
        body_box = QRect(meta_box.left(), meta_box.bottom() + 3, text_w, body_rect.height())
        return bubble, body_box, meta_box

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        """As tall as the bubble plus a small gap."""
        bubble, _body, _meta = self._geometry(option, index)
        return QSize(self._view.viewport().width() - 2, bubble.height() + self.GAP)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """The bubble, the meta line (author, time, delivery) and the text."""
        theme = self.theme
        bubble, body_box, meta_box = self._geometry(option, index)
        author = index.data(AUTHOR_ROLE)
        if author == "agent":
            fill, text, muted = theme.bubble_agent, theme.bubble_agent_text, theme.bubble_agent_text
        elif author == "visitor":
            fill, text, muted = theme.bubble_visitor, theme.text, theme.muted
        else:
            fill, text, muted = theme.bubble_auto, theme.text, theme.muted
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        body_font, meta_font = self._fonts(option)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QColor(theme.accent if selected else (theme.border if theme.high_contrast else fill))
        painter.setPen(QPen(border, 2 if selected or theme.high_contrast else 1))
        painter.setBrush(QColor(fill))
        painter.drawRoundedRect(QRectF(bubble).adjusted(0.5, 0.5, -0.5, -0.5), 12, 12)
        painter.setFont(meta_font)
        painter.setPen(QColor(muted))
        painter.drawText(meta_box, int(Qt.TextFlag.TextWordWrap), str(index.data(META_ROLE) or ""))
        painter.setFont(body_font)
        painter.setPen(QColor(text))
        painter.drawText(body_box, int(Qt.TextFlag.TextWordWrap), str(index.data(BODY_ROLE) or ""))
        painter.restore()


def new_message_id() -> str:
    """A client-chosen message id (so a resend after a reconnect is a no-op on the server)."""
    return "m" + secrets.token_urlsafe(12)


class ChatInput(QPlainTextEdit):
    """The message input: Enter sends, Shift+Enter starts a new line."""

    sendRequested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter sends unless Shift is held."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.sendRequested.emit()
            return
        super().keyPressEvent(event)


class ConversationDialog(QWidget):
    """The chat with one visitor: history (plain text), typing state, delivery state, input; a tab or a window."""

    closed = Signal(str)
    """The view closed (its tab or window); the chat itself goes on on the server."""
    popRequested = Signal(str)
    """The agent asked to move the view between its tab and a window of its own."""

    def __init__(
        self,
        visitor_id: str,
        store: VisitorStore,
        actions: AgentActions,
        clock: Clock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.visitor_id = visitor_id
        self._store = store
        self._actions = actions
        self._clock = clock
        self._tasks = TaskRunner(self._show_error, self)
        self._pending: dict[str, ChatMessage] = {}
        self._items: dict[str, QListWidgetItem] = {}
        self._agent_typing = False
        self._marking_read = False
        self._closed = False

        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.header.setWordWrap(True)
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.subtitle = QLabel()
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle.setWordWrap(True)
        self.avatar = QLabel()
        self.avatar.setTextFormat(Qt.TextFormat.PlainText)
        self.avatar.setFixedSize(QSize(AVATAR_PX, AVATAR_PX))
        # The bubble delegate draws text with QPainter.drawText (plain text): visitor HTML stays literal.
        self.history = QListWidget()
        self.history.setWordWrap(True)
        self.history.setUniformItemSizes(False)
        self.history.setResizeMode(QListView.ResizeMode.Adjust)  # bubbles re-wrap when the window resizes
        self.history.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.history.setFrameShape(QFrame.Shape.NoFrame)
        self.bubbles = BubbleDelegate(self.history)
        self.history.setItemDelegate(self.bubbles)
        self.history.setAccessibleName(self.tr("Conversation history"))
        self.history.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.typing_label = QLabel()
        self.typing_label.setTextFormat(Qt.TextFormat.PlainText)
        self.typing_label.setAccessibleName(self.tr("Typing indicator"))
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.input = ChatInput()
        self.input.setAccessibleName(self.tr("Message"))
        self.input.setPlaceholderText(self.tr("Write a message; Enter sends, Shift+Enter starts a new line"))
        self.input.setMaximumHeight(72)
        self.input.sendRequested.connect(self.send)
        self.input.textChanged.connect(self._on_edit)
        self.send_button = QPushButton(self.tr("&Send"))
        self.send_button.clicked.connect(self.send)
        self.end_button = QPushButton(self.tr("&End conversation"))
        self.end_button.setToolTip(self.tr("Close the chat for the visitor too; the history stays"))
        self.end_button.clicked.connect(self.end_conversation)
        self.pop_button = QPushButton()
        self.pop_button.clicked.connect(lambda: self.popRequested.emit(self.visitor_id))
        # Ctrl+W closes a conversation shown in a window of its own; as a tab, the main window's Close tab
        # has the key (this one is disabled then, so the key is never claimed twice).
        self.close_window_action = QAction(self)
        self.close_window_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Close))
        self.close_window_action.triggered.connect(self.close)
        self.addAction(self.close_window_action)

        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.send_button)
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.header)
        names.addWidget(self.subtitle)
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(names, 1)
        top.addWidget(self.pop_button)
        top.addWidget(self.end_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.history, 1)
        layout.addWidget(self.typing_label)
        layout.addWidget(self.error_label)
        layout.addLayout(row)

        self._typing_idle = QTimer(self)
        self._typing_idle.setSingleShot(True)
        self._typing_idle.setInterval(TYPING_IDLE_MS)
        self._typing_idle.timeout.connect(lambda: self._set_agent_typing(False))
        self._visitor_typing_timeout = QTimer(self)
        self._visitor_typing_timeout.setSingleShot(True)
        self._visitor_typing_timeout.setInterval(TYPING_SHOWN_MS)
        self._visitor_typing_timeout.timeout.connect(self.typing_label.clear)

        self.resize(480, 600)
        self.update_pop_button()
        follow_theme(self.restyle)
        self.refresh_visitor()
        self.render_messages()
        self.input.setFocus()

    # ------------------------------------------------------------ rendering

    def in_tab(self) -> bool:
        """Whether the view is a tab of the main window (not a window of its own)."""
        return not self.isWindow()

    def update_pop_button(self) -> None:
        """The pop-out button says where the view goes next."""
        self.close_window_action.setEnabled(not self.in_tab())
        if self.in_tab():
            self.pop_button.setText(self.tr("&Pop out"))
            self.pop_button.setToolTip(self.tr("Show this conversation in a window of its own"))
        else:
            self.pop_button.setText(self.tr("Back to a &tab"))
            self.pop_button.setToolTip(self.tr("Show this conversation as a tab of the main window"))

    def tab_label(self) -> tuple[str, str]:
        """The tab's text (the visitor's name, a marker and the count when unread) and its tooltip."""
        v = self.visitor()
        name = display_name(v) if v is not None else self.visitor_id
        unread = v.unread if v is not None else 0
        short = name if len(name) <= TAB_NAME_CHARS else name[: TAB_NAME_CHARS - 1] + "…"  # the tip has it all
        label = short.replace("&", "&&")  # a tab text reads & as a mnemonic; a visitor's name is plain text
        tip = self.tr("Conversation with %1").replace("%1", name)
        if unread:
            label = f"● {label} ({unread})"
            tip += " · " + self.tr("%n unread message(s)", "", unread)
        return label, tip

    def is_seen(self) -> bool:
        """Whether the agent is looking at this conversation: its window is active and its tab is the current one."""
        return self.isVisible() and self.isActiveWindow()

    def visitor(self) -> Visitor | None:
        """The visitor as the store has it now."""
        return self._store.visitors.get(self.visitor_id)

    def restyle(self, theme: Theme) -> None:
        """Bubble colours and the error line for ``theme``."""
        self.bubbles.theme = theme
        self.error_label.setStyleSheet(error_sheet(theme))
        self.subtitle.setStyleSheet(f"color: {theme.muted};")
        self.send_button.setStyleSheet(primary_button_sheet(theme))
        self.history.viewport().update()
        self._avatar_name = ""
        self.refresh_visitor()

    def refresh_visitor(self) -> None:
        """Title, avatar and header from the visitor's current record."""
        v = self.visitor()
        name = display_name(v) if v is not None else self.visitor_id
        if name != getattr(self, "_avatar_name", ""):
            ratio = self.devicePixelRatioF()
            self.avatar.setPixmap(avatar_pixmap(self.visitor_id, name, AVATAR_PX, ratio, self.bubbles.theme))
            self._avatar_name = name
        self.setWindowTitle(self.tr("Conversation with %1").replace("%1", name))
        if v is None:
            self.header.setText(name)
            self.subtitle.setText(self.tr("no longer listed"))
            return
        where = v.current_title or v.current_url or ""
        state = self.tr("online") if v.online else self.tr("left the website")
        self.header.setText(name)
        self.subtitle.setText(f"{state} · {where}" if where else state)

    def _meta(self, message: ChatMessage, pending: bool) -> str:
        state = self.tr("sending…") if pending else message_state(message)
        head = f"{author_text(message, self.visitor())} · {format_clock(message.sent_at)}"
        return f"{head} · {state}" if state else head

    def _fill_item(self, item: QListWidgetItem, message: ChatMessage, pending: bool) -> None:
        meta = self._meta(message, pending)
        text = f"{meta}\n{message.text}"  # what screen readers and message_texts() get
        if item.text() != text:
            item.setData(META_ROLE, meta)
            item.setData(BODY_ROLE, message.text)
            item.setData(AUTHOR_ROLE, message.author)
            item.setText(text)

    def messages(self) -> list[ChatMessage]:
        """The stored messages of this conversation."""
        return list(self._store.messages_for(self.visitor_id))

    def render_messages(self) -> None:
        """Bring the list in line with the store's messages plus those still being sent."""
        at_bottom = self.history.verticalScrollBar().value() >= self.history.verticalScrollBar().maximum() - 4
        stored = self.messages()
        for m in stored:
            self._pending.pop(m.id, None)
        shown = [(m, False) for m in stored] + [(m, True) for m in self._pending.values()]
        wanted = [m.id for m, _ in shown]
        if [self.history.item(i).data(MESSAGE_ID_ROLE) for i in range(self.history.count())] != wanted:
            self.history.clear()
            self._items.clear()
            for m, pending in shown:
                item = QListWidgetItem()
                item.setData(MESSAGE_ID_ROLE, m.id)
                self._fill_item(item, m, pending)
                self._items[m.id] = item
                self.history.addItem(item)
        else:
            for m, pending in shown:
                self._fill_item(self._items[m.id], m, pending)
        if at_bottom:
            self.history.scrollToBottom()

    def message_texts(self) -> list[str]:
        """The history as shown (tests read it)."""
        return [self.history.item(i).text() for i in range(self.history.count())]

    # ------------------------------------------------------------ events from the server

    def on_message(self, message: ChatMessage) -> None:
        """A message of this conversation was stored."""
        if message.author == "visitor":
            self._set_visitor_typing(False)
        self.render_messages()
        self.mark_read_if_seen()

    def on_message_updated(self, _update: MessageUpdated) -> None:
        """A message was delivered or read."""
        self.render_messages()

    def on_typing(self, typing: Typing) -> None:
        """The visitor (or another agent) started or stopped typing."""
        if typing.who == "visitor":
            self._set_visitor_typing(typing.typing)
        elif typing.typing:
            name = typing.agent_name or self.tr("Another agent")
            self.typing_label.setText(self.tr("%1 is typing…").replace("%1", name))
            self._visitor_typing_timeout.start()
        else:
            self.typing_label.clear()

    def _set_visitor_typing(self, typing: bool) -> None:
        if typing:
            v = self.visitor()
            name = display_name(v) if v is not None else self.tr("The visitor")
            self.typing_label.setText(self.tr("%1 is typing…").replace("%1", name))
            self._visitor_typing_timeout.start()
        else:
            self.typing_label.clear()
            self._visitor_typing_timeout.stop()

    # ------------------------------------------------------------ agent actions

    def load_history(self) -> None:
        """Fetch the stored history from the server and show it."""

        async def fetch() -> None:
            messages = await self._actions.history(self.visitor_id)
            self._store.set_history(self.visitor_id, messages)
            self.render_messages()

        self._tasks.run(fetch())

    def send(self) -> None:
        """Send what is in the input."""
        text = self.input.toPlainText().strip()
        if not text:
            return
        if len(text) > MAX_MESSAGE_CHARS:
            self._show_error(
                ActionError(
                    "bad_frame",
                    self.tr("The message is %1 characters long; the limit is %2. Shorten it or send it in parts.")
                    .replace("%1", str(len(text)))
                    .replace("%2", str(MAX_MESSAGE_CHARS)),
                )
            )
            return
        self.error_label.hide()
        message_id = new_message_id()
        self._pending[message_id] = ChatMessage(
            id=message_id, visitor_id=self.visitor_id, author="agent", text=text, sent_at=self._clock()
        )
        self.input.clear()
        self._set_agent_typing(False)
        self.render_messages()
        self.history.scrollToBottom()
        self._tasks.run(self._actions.send_message(self.visitor_id, message_id, text), on_done=self.render_messages)

    def end_conversation(self) -> None:
        """End the chat on the server, then close the window."""

        def ended() -> None:
            # Closing from a task's callback: let Qt close the window on its own turn (STYLE.md).
            QTimer.singleShot(0, self.close)

        self._tasks.run(self._actions.close_conversation(self.visitor_id), on_done=ended)

    def _on_edit(self) -> None:
        if self.input.toPlainText():
            self._set_agent_typing(True)
            self._typing_idle.start()  # debounce: "stopped" only after a pause
        else:
            self._set_agent_typing(False)

    def _set_agent_typing(self, typing: bool) -> None:
        if typing == self._agent_typing:
            return
        self._agent_typing = typing
        if not typing:
            self._typing_idle.stop()
        self._actions.send_typing(self.visitor_id, typing)

    def mark_read_if_seen(self) -> None:
        """Clear the unread count when the agent is looking at this conversation."""
        v = self.visitor()
        if v is None or v.unread == 0 or self._marking_read or not self.is_seen():
            return
        self._marking_read = True

        def done() -> None:
            self._marking_read = False

        task = self._tasks.run(self._actions.mark_read(self.visitor_id), on_done=done)
        task.add_done_callback(lambda _t: done())

    def changeEvent(self, event: QEvent) -> None:
        """Focusing the window counts as reading it."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.is_seen():
            self.mark_read_if_seen()

    def _show_error(self, error: ActionError) -> None:
        self.error_label.setText(error.message)
        self.error_label.show()
        # A message the server refused is not "sending" any more.
        if self._pending:
            self._pending.clear()
            self.render_messages()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc closes the view, tab or window, as it closed the dialog; the chat goes on on the server.

        A key press, not a shortcut: the canned-response list open above the input takes its Esc first.
        """
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            self.close()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the typing indicator on the visitor's side when the tab or window closes."""
        self._set_agent_typing(False)
        super().closeEvent(event)
        if not self._closed:
            self._closed = True
            self.closed.emit(self.visitor_id)

    @property
    def tasks(self) -> TaskRunner:
        """The running requests (tests wait for them)."""
        return self._tasks


class ConversationManager(QObject):
    """Owns the open conversations, hosts them as tabs (or windows) and routes store events to them.

    A visitor's conversation exists at most once: opening it again brings the same tab or window forward.
    """

    opened = Signal(str)

    def __init__(
        self,
        store: VisitorStore,
        actions: AgentActions,
        clock: Clock,
        parent_widget: QWidget | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self._actions = actions
        self._clock = clock
        self._parent_widget = parent_widget
        self._tabs: QTabWidget | None = None
        self.dialogs: dict[str, ConversationDialog] = {}
        self.agent_id: int | None = None
        self.agent_name: str | None = None
        self.prefer_tabs = True
        """New conversations open as tabs (the setting); without a tab host they always get a window."""

    def set_parent_widget(self, widget: QWidget | None) -> None:
        """The window new dialogs belong to (so they close with it)."""
        self._parent_widget = widget

    def set_tab_host(self, tabs: QTabWidget | None) -> None:
        """The main window's tab widget conversations open in."""
        if self._tabs is not None:
            self._tabs.tabCloseRequested.disconnect(self._tab_close_requested)
            self._tabs.currentChanged.disconnect(self._tab_changed)
        self._tabs = tabs
        if tabs is not None:
            tabs.tabCloseRequested.connect(self._tab_close_requested)
            tabs.currentChanged.connect(self._tab_changed)

    def open(self, visitor_id: str) -> ConversationDialog:
        """Show (or bring forward) the conversation with a visitor: a new tab or window, or the existing one."""
        dialog = self.dialogs.get(visitor_id)
        if dialog is None:
            dialog = ConversationDialog(visitor_id, self._store, self._actions, self._clock)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.closed.connect(self._closed)
            dialog.popRequested.connect(self.toggle_pop)
            self.dialogs[visitor_id] = dialog
            if self._tabs is not None and self.prefer_tabs:
                self._add_tab(dialog)
            else:
                self._make_window(dialog)
            dialog.load_history()
        self._focus(dialog)
        self.opened.emit(visitor_id)
        return dialog

    def _add_tab(self, dialog: ConversationDialog) -> None:
        assert self._tabs is not None
        self._tabs.addTab(dialog, "")  # reparents it: no longer a window of its own
        dialog.update_pop_button()
        self._label_tab(dialog)

    def _make_window(self, dialog: ConversationDialog) -> None:
        dialog.setParent(self._parent_widget, Qt.WindowType.Window)
        dialog.resize(480, 600)
        dialog.update_pop_button()
        dialog.refresh_visitor()

    def _focus(self, dialog: ConversationDialog) -> None:
        if dialog.in_tab() and self._tabs is not None:
            self._tabs.setCurrentWidget(dialog)
            host = self._tabs.window()
            host.show()
            host.raise_()
            host.activateWindow()
        else:
            dialog.show()
            dialog.raise_()
            dialog.activateWindow()
        dialog.input.setFocus()
        dialog.mark_read_if_seen()

    def toggle_pop(self, visitor_id: str) -> None:
        """Move a conversation from its tab into a window of its own, or back into a tab."""
        dialog = self.dialogs.get(visitor_id)
        if dialog is None:
            return
        if dialog.in_tab():
            if self._tabs is not None:
                self._tabs.removeTab(self._tabs.indexOf(dialog))
            self._make_window(dialog)
        elif self._tabs is not None:
            dialog.hide()
            self._add_tab(dialog)
        else:
            return
        self._focus(dialog)

    def tab_index(self, visitor_id: str) -> int:
        """The conversation's tab index, -1 when it is a window or not open."""
        dialog = self.dialogs.get(visitor_id)
        return -1 if dialog is None or self._tabs is None else self._tabs.indexOf(dialog)

    def _label_tab(self, dialog: ConversationDialog) -> None:
        tabs = self._tabs
        index = -1 if tabs is None else tabs.indexOf(dialog)
        if tabs is None or index < 0:
            return
        label, tip = dialog.tab_label()
        if tabs.tabText(index) != label:
            tabs.setTabText(index, label)
        tabs.setTabToolTip(index, tip)
        tabs.setTabWhatsThis(index, tip)

    def _tab_close_requested(self, index: int) -> None:
        if self._tabs is None:
            return
        dialog = self._tabs.widget(index)
        if isinstance(dialog, ConversationDialog):
            dialog.close()  # the view only: the chat stays open and held on the server

    def _tab_changed(self, index: int) -> None:
        if self._tabs is None:
            return
        dialog = self._tabs.widget(index)
        if isinstance(dialog, ConversationDialog):
            dialog.input.setFocus()
            dialog.mark_read_if_seen()

    def _closed(self, visitor_id: str) -> None:
        dialog = self.dialogs.pop(visitor_id, None)
        if dialog is not None and self._tabs is not None:
            index = self._tabs.indexOf(dialog)
            if index >= 0:
                self._tabs.removeTab(index)

    def on_changes(self, changes: Changes) -> None:
        """Visitor records changed: refresh the headers and tab labels of open conversations."""
        for vid, dialog in self.dialogs.items():
            if changes.reset or vid in changes.upserted or vid in changes.removed:
                dialog.refresh_visitor()
                self._label_tab(dialog)
                dialog.mark_read_if_seen()

    def on_message(self, message: ChatMessage) -> None:
        """Route a new message to its dialog."""
        dialog = self.dialogs.get(message.visitor_id)
        if dialog is not None:
            dialog.on_message(message)

    def on_message_updated(self, update: MessageUpdated) -> None:
        """Route a delivery/read update to its dialog."""
        dialog = self.dialogs.get(update.visitor_id)
        if dialog is not None:
            dialog.on_message_updated(update)

    def on_typing(self, typing: Typing) -> None:
        """Route a typing indicator to its dialog."""
        if typing.who == "agent" and typing.agent_name == self.agent_name:
            return  # the server echoes our own typing to every agent of the account, us included
        dialog = self.dialogs.get(typing.visitor_id)
        if dialog is not None:
            dialog.on_typing(typing)

    def close_all(self) -> None:
        """Close every tab and window (logout, quit)."""
        for dialog in list(self.dialogs.values()):
            dialog.close()
        self.dialogs.clear()
