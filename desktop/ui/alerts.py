"""Chats nobody can miss: a waiting chat keeps alerting until an agent takes it.

The notification stays until acted on (Open, Take), the sound repeats, the tray icon shows the count and
blinks; all of it stops as soon as the chat is answered or taken, here or by a colleague. The decisions
are :class:`desktop.core.team.RepeatingAlert`'s; this class only shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desktop.core.clock import Clock
from desktop.core.store import Changes, VisitorStore
from desktop.core.team import RepeatingAlert, format_waiting, needs_answer, waiting_since
from desktop.settings import Settings
from desktop.ui.text import display_name
from desktop.ui.tray import NotificationAdapter, notification_safe
from protocol.messages import ChatMessage, TeamEvent, Transferred, UnansweredAlert

TICK_MS: Final = 1000


def chat_key(visitor_id: str) -> str:
    """The notification key of a visitor's chat (a click opens the conversation)."""
    return f"chat:{visitor_id}"


class ChatAlerts(QObject):
    """Keeps every chat that needs an answer alerting; ``takeRequested`` when the agent presses Take."""

    takeRequested = Signal(str)
    openRequested = Signal(str)
    waitingChanged = Signal(int)
    """How many chats wait for an answer (the tray's badge)."""

    def __init__(
        self,
        store: VisitorStore,
        settings: Settings,
        adapter: NotificationAdapter | None,
        clock: Clock,
        *,
        ring: Callable[[], None] = QApplication.beep,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._settings = settings
        self._adapter = adapter
        self._clock = clock
        self._ring = ring
        self.me: int | None = None
        self.online = True
        """The agent's status is Online: only then does the sound repeat (an Away agent is not there)."""
        self.alert = RepeatingAlert(settings.alert_repeat_seconds)
        self._candidates: set[str] = set()
        self._escalated: set[str] = set()
        self._quiet: set[str] = set()  # alerting without a notification (the agent's rule says no)
        self._shown: dict[str, str] = {}  # visitor id -> id of the visitor message its notification shows
        self.rings = 0
        """How many times the sound played (for tests)."""
        if adapter is not None:
            adapter.actionInvoked.connect(self._action)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def stop(self) -> None:
        """End of the session: nothing alerts any more, and nothing is left on screen."""
        self._timer.stop()
        if self._adapter is not None:
            for visitor_id in self.alert.waiting:
                self._adapter.withdraw(chat_key(visitor_id))
            self._adapter.actionInvoked.disconnect(self._action)
        self.alert = RepeatingAlert(self.alert.repeat_seconds)
        self.waitingChanged.emit(0)

    # ------------------------------------------------------------ inputs

    def on_changes(self, changes: Changes) -> None:
        """Visitors changed: re-check only those (all of them after a snapshot)."""
        visitors = self._store.visitors
        if changes.reset:
            # Only the unanswered chats (a scan of codes) are read as records, not every visitor.
            unanswered = self._store.ids_with_chat_status(("unanswered",))
            self._candidates = {vid for vid in unanswered if needs_answer(visitors[vid], self.me)}
        else:
            for visitor_id in changes.upserted:
                visitor = visitors.get(visitor_id)
                if visitor is not None and needs_answer(visitor, self.me):
                    self._candidates.add(visitor_id)
                else:
                    self._candidates.discard(visitor_id)
            self._candidates -= changes.removed
        self.refresh()

    def on_team(self, events: Iterable[TeamEvent]) -> None:
        """The server re-alerts a chat left waiting too long: notify and ring again, whatever the rule says."""
        escalated = {e.visitor_id for e in events if isinstance(e, UnansweredAlert)} & self._candidates
        if escalated:
            self._escalated |= escalated
            self.refresh()

    def on_visitor_message(self, message: ChatMessage) -> None:
        """A waiting visitor wrote again: the notification on screen shows the newest words."""
        vid = message.visitor_id
        if message.author != "visitor" or message.read_at is not None:
            return  # a hand-over line is already in the notification; an answer a bot read is no news
        if vid in self.alert.waiting and vid not in self._quiet and self._shown.get(vid) != message.id:
            self._notify(vid)

    def covers(self, visitor_id: str) -> bool:
        """Whether this chat's messages are announced here (so the plain message notification stays quiet)."""
        visitor = self._store.visitors.get(visitor_id)
        return visitor is not None and needs_answer(visitor, self.me)

    def on_transferred(self, event: Transferred) -> None:
        """A colleague handed this agent a chat: a notification that stays, with the note."""
        if self._adapter is None or event.to_agent_id != self.me:
            return
        visitor = self._store.visitors.get(event.visitor_id)
        name = display_name(visitor) if visitor is not None else self.tr("a visitor")
        title = (
            self.tr("%1 handed you the chat with %2")
            .replace("%1", notification_safe(event.from_agent_name, 60))
            .replace("%2", notification_safe(name, 60))
        )
        self._adapter.present(
            title, notification_safe(event.note), chat_key(event.visitor_id), sticky=True, actions=self._open_only()
        )
        self._sound()

    # ------------------------------------------------------------ the alert

    def refresh(self) -> None:
        """Feed the chats that need an answer to the alert and show what it decides."""
        self.alert.repeat_seconds = self._settings.alert_repeat_seconds if self.online else 0
        step = self.alert.update(self._candidates, self._clock(), escalated=self._escalated)
        escalated, self._escalated = self._escalated, set()
        for visitor_id in step.withdraw:
            self._quiet.discard(visitor_id)
            self._shown.pop(visitor_id, None)
            if self._adapter is not None:
                self._adapter.withdraw(chat_key(visitor_id))
        for visitor_id in step.notify:
            # The first alert follows the agent's "notify about chat messages"; the server's re-alert for
            # a chat left waiting too long reaches everybody.
            if self._settings.notify_messages or visitor_id in escalated:
                self._quiet.discard(visitor_id)
                self._notify(visitor_id, escalated=visitor_id in escalated)
            else:
                self._quiet.add(visitor_id)
        if step.ring and self._settings.sound:
            self._sound()
        self.waitingChanged.emit(step.count)

    def _sound(self) -> None:
        self.rings += 1
        self._ring()

    def _notify(self, visitor_id: str, *, escalated: bool = False) -> None:
        if self._adapter is None:
            return
        visitor = self._store.visitors.get(visitor_id)
        name = notification_safe(display_name(visitor), 60) if visitor is not None else self.tr("A visitor")
        messages = self._store.messages_for(visitor_id)
        from_visitor = [m for m in messages if m.author == "visitor"]
        if from_visitor:
            self._shown[visitor_id] = from_visitor[-1].id
        since = waiting_since(messages)
        last = messages[-1] if messages else None
        body = notification_safe(from_visitor[-1].text) if from_visitor else self.tr("wants to chat")
        if escalated and since is not None:
            wait = format_waiting(self._clock() - since)
            title = self.tr("%1 is still waiting (%2)").replace("%1", name).replace("%2", wait)
        elif last is not None and last.author == "system":
            # A bot handed the chat over: say so, with the bot's last words.
            title = QCoreApplication.translate("Notifier", "%1 waits for an agent").replace("%1", name)
            body = notification_safe(last.text)
        else:
            title = self.tr("Message from %1").replace("%1", name)
        self._adapter.present(title, body, chat_key(visitor_id), sticky=True, actions=self._actions())

    def _actions(self) -> list[tuple[str, str]]:
        return [("open", self.tr("Open")), ("take", self.tr("Take"))]

    def _open_only(self) -> list[tuple[str, str]]:
        return [("open", self.tr("Open"))]

    def _action(self, key: str, action: str) -> None:
        kind, _, visitor_id = key.partition(":")
        if kind != "chat":
            return
        if action == "take":
            self.takeRequested.emit(visitor_id)
        elif action == "open":
            self.openRequested.emit(visitor_id)

    @property
    def waiting(self) -> Iterable[str]:
        """The chats alerting now."""
        return self.alert.waiting
