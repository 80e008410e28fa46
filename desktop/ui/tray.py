"""The tray icon and menu, and desktop notifications for new visitors and chat messages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from desktop.core.state import in_bot
from desktop.settings import NotifyRule, Settings
from desktop.ui.text import country_name, display_name
from protocol.messages import ChatMessage, Visitor

NOTIFY_MS = 8000
MAX_NOTIFY_CHARS = 200
BLINK_MS: Final = 700
"""How fast the tray icon alternates while chats wait (slow enough not to be a strobe)."""
ICON_PX: Final = 64

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
    """Shows desktop notifications; ``clicked`` carries the key of the notification the user clicked.

    A notification shown again under the same key replaces the earlier one. ``sticky`` asks the system to
    keep it until the user acts; ``actions`` are (id, label) buttons whose presses come back through
    ``actionInvoked`` (key, id). Adapters that cannot do either still show the notification.
    """

    clicked = Signal(str)
    actionInvoked = Signal(str, str)

    def present(
        self, title: str, body: str, key: str, *, sticky: bool = False, actions: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Show one notification; ``key`` comes back through ``clicked``."""
        raise NotImplementedError

    def withdraw(self, key: str) -> None:
        """Remove the notification shown under ``key``, if the system allows (it was answered elsewhere)."""


class SystrayNotificationAdapter(NotificationAdapter):
    """Notifications through QSystemTrayIcon.showMessage (D-Bus Notify, a Windows toast, macOS, or a balloon)."""

    def __init__(self, tray: QSystemTrayIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray = tray
        # messageClicked carries no id: it belongs to the last message shown (Qt shows one at a time).
        self._last_key: str | None = None
        tray.messageClicked.connect(self._on_clicked)

    def present(
        self, title: str, body: str, key: str, *, sticky: bool = False, actions: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Show it from the tray icon (no buttons there; a sticky one stays as long as Qt allows)."""
        self._last_key = key
        self._tray.showMessage(title, body, self._tray.icon(), 0 if sticky else NOTIFY_MS)

    def _on_clicked(self) -> None:
        if self._last_key is not None:
            self.clicked.emit(self._last_key)


def badge_icon(icon: QIcon, count: int, *, lit: bool = True) -> QIcon:
    """The app icon with a red count badge (``lit``) or a dimmed one (the other half of a blink)."""
    pixmap = icon.pixmap(ICON_PX, ICON_PX)
    if pixmap.isNull():
        pixmap = QPixmap(ICON_PX, ICON_PX)
        pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    size = ICON_PX * 0.62
    rect = QRectF(ICON_PX - size, 0, size, size)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#d32f2f") if lit else QColor("#8a8a8a"))
    painter.drawEllipse(rect)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * (0.62 if count < 10 else 0.48)))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count) if count < 100 else "99+")
    painter.end()
    return QIcon(pixmap)


class Tray(QObject):
    """The tray icon with tooltip and menu: Show, status, visitors online, unread chats, Quit.

    While chats wait for an answer the icon carries their count and blinks (see :meth:`set_waiting`).
    """

    showRequested = Signal()
    quitRequested = Signal()
    statusChosen = Signal(str)
    """"online" or "away", chosen from the menu."""

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._base_icon = icon
        self.icon = QSystemTrayIcon(icon)
        self.menu = QMenu()
        self.show_action = self.menu.addAction(self.tr("&Show Frontdesk"))
        self.show_action.triggered.connect(self.showRequested)
        self.menu.addSeparator()
        self.status_group = QActionGroup(self)
        self.online_status = self._status_action(self.tr("O&nline"), "online")
        self.away_status = self._status_action(self.tr("&Away"), "away")
        self.set_status("online", available=False)
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
        self.waiting = 0
        self._lit = True
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._toggle)
        self.set_counts(0, 0)

    def _status_action(self, text: str, status: str) -> QAction:
        action = self.menu.addAction(text)
        action.setCheckable(True)
        action.setData(status)
        self.status_group.addAction(action)
        action.triggered.connect(lambda: self.statusChosen.emit(status))
        return action

    def set_status(self, status: str, *, available: bool = True, auto: bool = False) -> None:
        """Show the agent's status in the menu; ``available`` False when the server keeps no status."""
        self.online_status.setChecked(status == "online")
        self.away_status.setChecked(status == "away")
        self.away_status.setText(self.tr("&Away (idle)") if auto else self.tr("&Away"))
        for action in (self.online_status, self.away_status):
            action.setEnabled(available)

    def set_waiting(self, count: int) -> None:
        """Chats waiting for an answer: a count badge on the icon, blinking while any wait."""
        if count == self.waiting:
            return
        self.waiting = count
        if count:
            self._lit = True
            self.icon.setIcon(badge_icon(self._base_icon, count))
            self._blink.start()
        else:
            self._blink.stop()
            self.icon.setIcon(self._base_icon)
        self._update_tooltip()

    @property
    def blinking(self) -> bool:
        """Whether the icon is drawing attention now."""
        return self._blink.isActive()

    def _toggle(self) -> None:
        self._lit = not self._lit
        self.icon.setIcon(badge_icon(self._base_icon, self.waiting, lit=self._lit))

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
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        lines = ["Frontdesk", self.online_action.text(), self.unread_action.text()]
        if self.waiting:
            lines.append(self.tr("%n chat(s) waiting for an answer", "", self.waiting))
        self.icon.setToolTip("\n".join(lines))

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

    def announce(self, text: str, key: str) -> None:
        """Something a colleague did that concerns this agent (a take-over of their chat)."""
        self._present(self.tr("Frontdesk"), text, key)

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
            facts = [display_name(v), v.current_title or v.current_url or "", country_name(v)]
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
