"""Desktop notifications straight over D-Bus (Linux): every notification has an id, so a click knows its own.

QSystemTrayIcon.messageClicked carries no id: when two notifications are on screen, a click on the older one
would open the newer one's visitor. Talking to org.freedesktop.Notifications directly (as qutebrowser does)
keeps a key per notification id, adds a "default" action, and names the app's desktop entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any, Final

from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.asyncio import DBusRouter, open_dbus_connection
from PySide6.QtCore import QObject

from desktop.ui.tray import NOTIFY_MS, NotificationAdapter

log = logging.getLogger(__name__)

SERVICE: Final = "org.freedesktop.Notifications"
PATH: Final = "/org/freedesktop/Notifications"
MAX_REMEMBERED: Final = 200
"""Ids remembered for clicks (servers keep only a few notifications on screen anyway)."""


class DBusNotificationAdapter(NotificationAdapter):
    """Shows notifications through org.freedesktop.Notifications and maps ActionInvoked back to keys."""

    def __init__(self, router: DBusRouter, conn: Any, *, app_name: str, icon: str, desktop_entry: str) -> None:
        super().__init__()
        self._router = router
        self._conn = conn
        self._app_name = app_name
        self._icon = icon
        self._desktop_entry = desktop_entry
        self._address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        self._keys: OrderedDict[int, str] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listener: asyncio.Task[None] | None = None
        self.closed = False

    @classmethod
    async def open(
        cls, *, app_name: str, icon: str, desktop_entry: str, parent: QObject | None = None
    ) -> DBusNotificationAdapter | None:
        """Connect to the session bus; None when there is no bus or no notification server on it."""
        try:
            conn = await asyncio.wait_for(open_dbus_connection("SESSION"), 5)
        except (TimeoutError, OSError, KeyError, ValueError, EOFError) as exc:
            log.info("no D-Bus session bus (%s); notifications go through the tray icon", type(exc).__name__)
            return None
        router = DBusRouter(conn)
        try:
            reply = await asyncio.wait_for(router.send_and_get_reply(message_bus.NameHasOwner(SERVICE)), 5)
            if reply.header.message_type != MessageType.method_return or not reply.body[0]:
                raise LookupError("no notification server")
            rules = [
                MatchRule(type="signal", interface=SERVICE, member=member, path=PATH)
                for member in ("ActionInvoked", "NotificationClosed")
            ]
            for rule in rules:
                await asyncio.wait_for(router.send_and_get_reply(message_bus.AddMatch(rule)), 5)
        except (TimeoutError, LookupError, OSError) as exc:
            log.info("no notification server on D-Bus (%s); notifications go through the tray icon", exc)
            await _close(router, conn)
            return None
        adapter = cls(router, conn, app_name=app_name, icon=icon, desktop_entry=desktop_entry)
        if parent is not None:
            adapter.setParent(parent)
        adapter._listener = asyncio.ensure_future(adapter._listen(rules))
        return adapter

    def present(self, title: str, body: str, key: str) -> None:
        """Send a Notify call; its id is remembered with ``key``."""
        if self.closed:
            return
        task = asyncio.ensure_future(self._notify(title, body, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    async def _notify(self, title: str, body: str, key: str) -> None:
        hints = {"desktop-entry": ("s", self._desktop_entry), "category": ("s", "im.received")}
        message = new_method_call(
            self._address,
            "Notify",
            "susssasa{sv}i",
            (self._app_name, 0, self._icon, title, body, ["default", self.tr("Open")], hints, NOTIFY_MS),
        )
        reply = await asyncio.wait_for(self._router.send_and_get_reply(message), 10)
        if reply.header.message_type != MessageType.method_return:
            log.warning("the notification server refused a notification: %s", reply.body)
            return
        self._keys[int(reply.body[0])] = key
        while len(self._keys) > MAX_REMEMBERED:
            self._keys.popitem(last=False)

    async def _listen(self, rules: list[MatchRule]) -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue(100)
        with contextlib.ExitStack() as stack:
            for rule in rules:
                stack.enter_context(self._router.filter(rule, queue=queue))
            while True:
                message = await queue.get()
                member = message.header.fields.get(HeaderFields.member)
                if member == "ActionInvoked":
                    nid, action = message.body
                    key = self._keys.get(int(nid))
                    if key is not None and action == "default":
                        self.clicked.emit(key)
                elif member == "NotificationClosed":
                    self._keys.pop(int(message.body[0]), None)

    async def close(self) -> None:
        """Stop listening and leave the bus."""
        self.closed = True
        for task in [*self._tasks, *([self._listener] if self._listener else [])]:
            task.cancel()
        await _close(self._router, self._conn)


async def _close(router: DBusRouter, conn: Any) -> None:
    with contextlib.suppress(Exception):
        await router.__aexit__(None, None, None)
    with contextlib.suppress(Exception):
        await conn.close()


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a notification could not be shown: %s", task.exception())
