"""A minimal desktop on a private D-Bus session bus, for observing the real tray and notifications.

It plays two roles a desktop shell normally plays: the StatusNotifierWatcher (so Qt decides a tray exists
and uses its D-Bus tray icon) and the org.freedesktop.Notifications server (so ``showMessage`` becomes a
``Notify`` call we can read, and a click is the ``ActionInvoked`` signal a real server would send).
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import Message

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
IDLE_MONITOR = "org.gnome.Mutter.IdleMonitor"
IDLE_MONITOR_PATH = "/org/gnome/Mutter/IdleMonitor/Core"

_WATCHER_XML = """<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>
  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="v" direction="out"/></method>
    <method name="GetAll"><arg type="s" direction="in"/><arg type="a{sv}" direction="out"/></method>
  </interface>
</node>
"""

# What a notification server (e.g. GNOME Shell) answers to Introspect: desktop-notifier reads it.
_NOTIFICATIONS_XML = """<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification"><arg type="u" direction="in"/></method>
    <method name="GetCapabilities"><arg type="as" direction="out"/></method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
    <signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
  </interface>
</node>
"""


@dataclass
class Notification:
    """One Notify call as the notification server received it."""

    id: int
    app_name: str
    summary: str
    body: str
    actions: list[str]
    hints: dict[str, Any] = field(default_factory=dict)
    timeout: int = -1


@dataclass
class FakeDesktop:
    """The watcher and notification server, answering on one connection from a background thread."""

    address: str
    notifications: queue.Queue[Notification] = field(default_factory=queue.Queue)
    items: list[str] = field(default_factory=list)
    _outgoing: queue.Queue[Message] = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _next_id: int = 1
    error: BaseException | None = None
    idle_ms: int | None = None
    """When set before :meth:`start`, the desktop also plays GNOME's idle monitor with this idle time."""
    closed: queue.Queue[int] = field(default_factory=queue.Queue)
    """Ids of notifications the app closed (CloseNotification)."""

    def start(self) -> None:
        """Connect, take both well-known names, and serve until :meth:`stop`."""
        conn = open_dbus_connection(bus=self.address)
        for name in (WATCHER, NOTIFICATIONS, *([IDLE_MONITOR] if self.idle_ms is not None else [])):
            reply = conn.send_and_get_reply(message_bus.RequestName(name, 4), timeout=5)
            if reply.body[0] != 1:
                raise RuntimeError(f"could not own {name} on the test bus: {reply.body}")
        self._thread = threading.Thread(target=self._serve, args=(conn,), name="fake-desktop", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the serving thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def click(self, notification: Notification, action: str = "default") -> None:
        """What a notification server does when the user clicks a notification: ActionInvoked."""
        address = DBusAddress(NOTIFICATIONS_PATH, interface=NOTIFICATIONS)
        self._outgoing.put(new_signal(address, "ActionInvoked", "us", (notification.id, action)))

    def _serve(self, conn: DBusConnection) -> None:
        try:
            with conn:
                while not self._stop.is_set():
                    while not self._outgoing.empty():
                        conn.send(self._outgoing.get_nowait())
                    try:
                        msg = conn.receive(timeout=0.05)
                    except TimeoutError:
                        continue
                    if msg.header.message_type == MessageType.method_call:
                        reply = self._answer(msg)
                        if reply is not None:
                            conn.send(reply)
        except BaseException as exc:  # surfaced by the test through .error
            self.error = exc

    def _answer(self, msg: Message) -> Message | None:
        fields = msg.header.fields
        interface = fields.get(HeaderFields.interface, "")
        member = fields.get(HeaderFields.member, "")
        path = fields.get(HeaderFields.path, "")
        if interface == INTROSPECTABLE and member == "Introspect":
            xml = {WATCHER_PATH: _WATCHER_XML, NOTIFICATIONS_PATH: _NOTIFICATIONS_XML}.get(path, "<node/>")
            return new_method_return(msg, "s", (xml,))
        if interface == PROPERTIES and member in ("Get", "GetAll"):
            props: dict[str, tuple[str, Any]] = {
                "IsStatusNotifierHostRegistered": ("b", True),
                "ProtocolVersion": ("i", 0),
                "RegisteredStatusNotifierItems": ("as", list(self.items)),
            }
            if member == "GetAll":
                return new_method_return(msg, "a{sv}", (props,))
            name = msg.body[1]
            if name in props:
                return new_method_return(msg, "v", (props[name],))
            return new_error(msg, "org.freedesktop.DBus.Error.UnknownProperty", "s", (name,))
        if interface == WATCHER and member == "RegisterStatusNotifierItem":
            self.items.append(msg.body[0])
            return new_method_return(msg)
        if interface == WATCHER and member == "RegisterStatusNotifierHost":
            return new_method_return(msg)
        if interface == NOTIFICATIONS:
            if member == "GetCapabilities":
                return new_method_return(msg, "as", (["actions", "body"],))
            if member == "GetServerInformation":
                return new_method_return(msg, "ssss", ("fake-desktop", "frontdesk-tests", "1", "1.2"))
            if member == "CloseNotification":
                self.closed.put(int(msg.body[0]))
                return new_method_return(msg)
            if member == "Notify":
                app_name, _replaces, _icon, summary, body, actions, hints, timeout = msg.body
                nid = self._next_id
                self._next_id += 1
                self.notifications.put(Notification(nid, app_name, summary, body, list(actions), hints, timeout))
                return new_method_return(msg, "u", (nid,))
        if interface == IDLE_MONITOR and member == "GetIdletime" and self.idle_ms is not None:
            return new_method_return(msg, "t", (self.idle_ms,))
        if msg.header.flags & 1:  # NO_REPLY_EXPECTED
            return None
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"{interface}.{member}",))


class SessionBus:
    """A private ``dbus-daemon --session`` for one test."""

    def __init__(self, dbus_daemon: str) -> None:
        self._proc = subprocess.Popen(
            [dbus_daemon, "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        self.address = self._proc.stdout.readline().strip()
        if not self.address:
            self._proc.kill()
            raise RuntimeError("dbus-daemon printed no address")

    def close(self) -> None:
        """Stop the daemon (it belongs to the test)."""
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def dbus_daemon_path() -> str | None:
    """Where dbus-daemon is installed."""
    return shutil.which("dbus-daemon")


def child_env(bus_address: str, **extra: str) -> dict[str, str]:
    """Environment for a Qt child process on the test bus and the test X display."""
    env = dict(os.environ)
    env["DBUS_SESSION_BUS_ADDRESS"] = bus_address
    env["QT_QPA_PLATFORM"] = "xcb"
    # The desktop's accessibility bus and portals do not exist here; keep Qt from looking for them.
    env["QT_LINUX_ACCESSIBILITY_ALWAYS_ON"] = "0"
    env["NO_AT_BRIDGE"] = "1"
    env.update(extra)
    return env
