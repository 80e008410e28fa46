"""The tray icon and menu, and desktop notifications for new visitors and chat messages."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from desktop.core.state import in_bot
from desktop.settings import NotifyRule, Settings
from desktop.ui.text import display_name
from protocol.messages import ChatMessage, Visitor

NOTIFY_MS = 8000
MAX_NOTIFY_CHARS = 200

_UNSAFE = str.maketrans({"<": "‹", ">": "›", "&": "＆"})


def notification_safe(text: str, limit: int = MAX_NOTIFY_CHARS) -> str:
    """Visitor text made inert for every notification path, shortened.

    Notification servers may parse the body as markup and Qt's own XEmbed balloon guesses rich text, so
    the three markup characters become look-alikes instead of being interpreted.
    """
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_UNSAFE)


class NotificationAdapter(QObject):
    """Shows desktop notifications; ``clicked`` carries the key of the notification the user clicked."""

    clicked = Signal(str)

    def present(self, title: str, body: str, key: str) -> None:
        """Show one notification; ``key`` comes back through ``clicked``."""
        raise NotImplementedError


class SystrayNotificationAdapter(NotificationAdapter):
    """Notifications through QSystemTrayIcon.showMessage (D-Bus Notify, a Windows toast, macOS, or a balloon)."""

    def __init__(self, tray: QSystemTrayIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray = tray
        # messageClicked carries no id: it belongs to the last message shown (Qt shows one at a time).
        self._last_key: str | None = None
        tray.messageClicked.connect(self._on_clicked)

    def present(self, title: str, body: str, key: str) -> None:
        """Show it from the tray icon."""
        self._last_key = key
        self._tray.showMessage(title, body, self._tray.icon(), NOTIFY_MS)

    def _on_clicked(self) -> None:
        if self._last_key is not None:
            self.clicked.emit(self._last_key)


class Tray(QObject):
    """The tray icon with tooltip and menu: Show, visitors online, unread chats, Quit."""

    showRequested = Signal()
    quitRequested = Signal()

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(icon)
        self.menu = QMenu()
        self.show_action = self.menu.addAction(self.tr("&Show Frontdesk"))
        self.show_action.triggered.connect(self.showRequested)
        self.menu.addSeparator()
        self.online_action = self.menu.addAction("")
        self.online_action.setEnabled(False)
        self.unread_action = self.menu.addAction("")
        self.unread_action.triggered.connect(self.showRequested)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction(self.tr("&Quit"))
        self.quit_action.triggered.connect(self.quitRequested)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.set_counts(0, 0)

    @staticmethod
    def available() -> bool:
        """Whether the desktop has a tray to put the icon in."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        """Put the icon in the tray."""
        self.icon.show()

    def hide(self) -> None:
        """Remove the icon."""
        self.icon.hide()

    def set_counts(self, online: int, unread: int) -> None:
        """Visitors online and unread chats in the tooltip and the menu."""
        online_text = self.tr("%n visitor(s) online", "", online)
        unread_text = self.tr("%n unread chat(s)", "", unread)
        self.online_action.setText(online_text)
        self.unread_action.setText(unread_text)
        self.unread_action.setEnabled(unread > 0)
        self.icon.setToolTip(f"Frontdesk\n{online_text}\n{unread_text}")

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.showRequested.emit()


def wants_visitor(rule: NotifyRule, visitor: Visitor) -> bool:
    """Whether a newly arrived visitor is announced under ``rule``."""
    if rule is NotifyRule.OFF:
        return False
    if rule is NotifyRule.RETURNING:
        return visitor.visit_count > 1
    if rule is NotifyRule.CUSTOMERS:
        return visitor.customer
    return True


class Notifier(QObject):
    """Decides what to announce (per the settings) and turns clicks into 'open this visitor'."""

    openConversation = Signal(str)
    selectVisitor = Signal(str)

    def __init__(
        self,
        adapter: NotificationAdapter,
        settings: Settings,
        window: QWidget,
        is_conversation_focused: Callable[[str], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._adapter = adapter
        self._settings = settings
        self._window = window
        self._is_conversation_focused = is_conversation_focused
        adapter.clicked.connect(self._clicked)

    def _present(self, title: str, body: str, key: str) -> None:
        self._adapter.present(title, body, key)
        if self._settings.sound:
            QApplication.beep()

    def on_arrived(self, visitors: Sequence[Visitor]) -> None:
        """New visitors arrived (not from a snapshot)."""
        rule = self._settings.notify_rule
        wanted = [v for v in visitors if wants_visitor(rule, v)]
        if not wanted:
            return
        if len(wanted) == 1:
            v = wanted[0]
            if v.customer:
                title = self.tr("Customer on your website")
            elif v.visit_count > 1:
                title = self.tr("Returning visitor (visit %1)").replace("%1", str(v.visit_count))
            else:
                title = self.tr("New visitor on your website")
            facts = [display_name(v), v.current_title or v.current_url or "", v.country or ""]
            body = " · ".join(f for f in facts if f)
            self._present(title, notification_safe(body), f"visitor:{v.id}")
            return
        title = self.tr("%n new visitor(s)", "", len(wanted))
        names = ", ".join(display_name(v) for v in wanted[:5])
        self._present(title, notification_safe(names), f"visitor:{wanted[0].id}")

    def window_attended(self) -> bool:
        """Whether the agent is looking at the main window right now."""
        w = self._window
        return w.isVisible() and not w.isMinimized() and w.isActiveWindow()

    def on_message(self, message: ChatMessage, visitor: Visitor | None) -> None:
        """A chat message was stored: announce a visitor's message when nobody is looking."""
        if message.author == "system":
            self._handed_over(message, visitor)
            return
        if message.author != "visitor" or not self._settings.notify_messages:
            return
        if message.read_at is not None or (visitor is not None and in_bot(visitor)):
            return  # a bot read and answers it; the team hears at the hand-over
        if self.window_attended() or self._is_conversation_focused(message.visitor_id):
            return
        name = display_name(visitor) if visitor is not None else self.tr("A visitor")
        title = self.tr("Message from %1").replace("%1", notification_safe(name, 60))
        self._present(title, notification_safe(message.text), f"chat:{message.visitor_id}")

    def _handed_over(self, message: ChatMessage, visitor: Visitor | None) -> None:
        """A bot handed the chat over: a new chat for the team, announced like a visitor's message."""
        if not self._settings.notify_messages or self.window_attended():
            return
        name = display_name(visitor) if visitor is not None else self.tr("A visitor")
        title = self.tr("%1 waits for an agent").replace("%1", notification_safe(name, 60))
        self._present(title, notification_safe(message.text), f"chat:{message.visitor_id}")

    def _clicked(self, key: str) -> None:
        kind, _, visitor_id = key.partition(":")
        if kind == "chat":
            self.openConversation.emit(visitor_id)
        elif kind == "visitor":
            self.selectVisitor.emit(visitor_id)
