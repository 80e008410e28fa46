"""Desktop notifications through desktop-notifier: D-Bus on Linux, the macOS notification center, Windows toasts.

Every notification has its own id and click callback on all three systems, so a click on an older one opens
its own visitor (QSystemTrayIcon.messageClicked carries no id). Buttons (Open, Take) come back with the key
of the notification they belong to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from desktop_notifier import Button, DesktopNotifier, Icon, Notification, Urgency
from desktop_notifier.backends.dummy import DummyNotificationCenter
from PySide6.QtCore import QObject

from desktop.ui.tray import NOTIFY_MS, NotificationAdapter

log = logging.getLogger(__name__)

OPEN_TIMEOUT: Final = 5.0


class DesktopNotifierAdapter(NotificationAdapter):
    """Shows notifications with desktop-notifier and turns its callbacks into ``clicked`` / ``actionInvoked``."""

    def __init__(self, notifier: DesktopNotifier, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._notifier = notifier
        self._ids: dict[str, str] = {}  # key -> desktop-notifier identifier of the one on screen
        self._tasks: set[asyncio.Task[Any]] = set()
        # One call at a time, in order: a replacement must find the notification it replaces already sent.
        self._lock = asyncio.Lock()
        self.closed = False

    @classmethod
    async def open(cls, *, app_name: str, icon: Path, parent: QObject | None = None) -> DesktopNotifierAdapter | None:
        """The adapter, or None when this system has no notification service the library can reach."""
        notifier = DesktopNotifier(app_name=app_name, app_icon=Icon(path=icon))
        # No public "is this a real notification center": the library falls back to a dummy quietly.
        if isinstance(notifier._backend, DummyNotificationCenter):
            log.info("no notification center for desktop-notifier here; notifications go through the tray icon")
            return None
        try:
            # On Linux this connects to the session bus and asks the notification server what it can do.
            await asyncio.wait_for(notifier.get_capabilities(), OPEN_TIMEOUT)
        except Exception as exc:  # no bus, no server, a refusing service: all mean "use the tray"
            log.info(
                "no notification service (%s: %s); notifications go through the tray icon", type(exc).__name__, exc
            )
            await _disconnect(notifier)
            return None
        return cls(notifier, parent)

    def present(
        self, title: str, body: str, key: str, *, sticky: bool = False, actions: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Send a notification; one shown earlier under ``key`` is replaced."""
        if self.closed:
            return
        identifier = str(uuid.uuid4())
        notification = Notification(
            title=title,
            message=body,
            urgency=Urgency.Critical if sticky else Urgency.Normal,
            buttons=tuple(
                Button(
                    title=label,
                    identifier=action,
                    on_pressed=self._callback(key, identifier, self._emit_action(action)),
                )
                for action, label in actions
            ),
            on_clicked=self._callback(key, identifier, self.clicked.emit),
            on_dismissed=self._callback(key, identifier, None),
            timeout=0 if sticky else NOTIFY_MS // 1000,  # 0: until the user acts (where the system allows)
            identifier=identifier,
        )
        previous = self._ids.get(key)
        self._ids[key] = identifier
        self._spawn(self._send(notification, previous))

    def withdraw(self, key: str) -> None:
        """Take the notification shown under ``key`` off the screen."""
        identifier = self._ids.pop(key, None)
        if identifier is not None and not self.closed:
            self._spawn(self._clear(identifier))

    async def _send(self, notification: Notification, previous: str | None) -> None:
        async with self._lock:
            if previous is not None:
                await self._clear_now(previous)
            await self._notifier.send_notification(notification)

    async def _clear(self, identifier: str) -> None:
        async with self._lock:
            await self._clear_now(identifier)

    async def _clear_now(self, identifier: str) -> None:
        with contextlib.suppress(KeyError):  # already gone (clicked or closed by the server)
            await self._notifier.clear(identifier)

    def _emit_action(self, action: str) -> Callable[[str], object]:
        def emit(key: str) -> None:
            self.actionInvoked.emit(key, action)

        return emit

    def _callback(self, key: str, identifier: str, then: Callable[[str], object] | None) -> Callable[[], None]:
        """A notification's callback: forget it (if it is still the one under ``key``), then act on ``key``."""

        def callback() -> None:
            if self._ids.get(key) == identifier:
                del self._ids[key]
            if then is not None:
                then(key)

        return callback

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    async def close(self) -> None:
        """Remove what this run left on screen (its buttons would reach nobody) and leave the bus."""
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._notifier.clear_all(), OPEN_TIMEOUT)
        await _disconnect(self._notifier)


async def _disconnect(notifier: DesktopNotifier) -> None:
    # desktop-notifier keeps its D-Bus connection for the process's life and has no close(); an app that
    # signs out and back in, or a test, would leak one socket per adapter without this.
    bus = getattr(notifier._backend, "bus", None)
    if bus is not None:
        with contextlib.suppress(Exception):
            bus.disconnect()
            await asyncio.wait_for(bus.wait_for_disconnect(), OPEN_TIMEOUT)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a notification could not be shown: %s", task.exception())
