"""How long the computer has had no input, from the system itself, for auto-away.

Linux asks the session's idle monitor over D-Bus (GNOME's ``org.gnome.Mutter.IdleMonitor``, else the
``org.freedesktop.ScreenSaver`` of KDE and others); Windows calls ``GetLastInputInfo``; macOS calls
``CGEventSourceSecondsSinceLastEventType``. Where none answers, :func:`open_idle_source` says why and the
app keeps manual status only. Tests inject their own :class:`IdleSource`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import sys
from dataclasses import dataclass
from typing import Any, Final, Protocol

log = logging.getLogger(__name__)

DBUS_TIMEOUT: Final = 5.0


class IdleSource(Protocol):
    """Something that knows the seconds since the user last touched keyboard or mouse."""

    name: str
    """Where the idle time comes from, for the settings dialog."""

    async def idle_seconds(self) -> float | None:
        """Seconds without input, or None when it cannot be read right now."""
        ...

    async def close(self) -> None:
        """Release whatever the source holds (a bus connection)."""
        ...


@dataclass
class IdleProbe:
    """The idle source found on this system, or why there is none."""

    source: IdleSource | None
    problem: str = ""


# ---------------------------------------------------------------- Linux (D-Bus)


@dataclass(frozen=True)
class _DBusMethod:
    """One D-Bus call that answers the idle time: where, and how its number becomes seconds."""

    name: str
    bus_name: str
    path: str
    interface: str
    method: str
    scale: float  # seconds per unit of the answer


MUTTER: Final = _DBusMethod(
    "GNOME idle monitor",
    "org.gnome.Mutter.IdleMonitor",
    "/org/gnome/Mutter/IdleMonitor/Core",
    "org.gnome.Mutter.IdleMonitor",
    "GetIdletime",
    0.001,  # milliseconds
)
SCREENSAVER: Final = _DBusMethod(
    "session screen saver",
    "org.freedesktop.ScreenSaver",
    "/org/freedesktop/ScreenSaver",
    "org.freedesktop.ScreenSaver",
    "GetSessionIdleTime",
    0.001,  # milliseconds (KDE's implementation, the one that answers)
)


class DBusIdleSource:
    """The idle time from a method of the session bus, on the asyncio (qasync) loop."""

    def __init__(self, router: Any, conn: Any, method: _DBusMethod) -> None:
        self._router = router
        self._conn = conn
        self._method = method
        self.name = method.name

    @classmethod
    async def open(cls, methods: tuple[_DBusMethod, ...] = (MUTTER, SCREENSAVER)) -> IdleProbe:
        """Connect to the session bus and take the first method that answers."""
        # Imported here: jeepney is a dependency on Linux only.
        from jeepney.io.asyncio import DBusRouter, open_dbus_connection  # noqa: PLC0415

        try:
            conn = await asyncio.wait_for(open_dbus_connection("SESSION"), DBUS_TIMEOUT)
        except (TimeoutError, OSError, KeyError, ValueError, EOFError) as exc:
            return IdleProbe(None, f"no D-Bus session bus ({type(exc).__name__})")
        router = DBusRouter(conn)
        for method in methods:
            source = cls(router, conn, method)
            if await source.idle_seconds() is not None:
                return IdleProbe(source)
        await _close(router, conn)
        return IdleProbe(None, "the desktop session has no idle monitor on D-Bus (GNOME or KDE provide one)")

    async def idle_seconds(self) -> float | None:
        """Ask the bus; None when the call fails."""
        from jeepney import DBusAddress, MessageType, new_method_call  # noqa: PLC0415

        m = self._method
        call = new_method_call(DBusAddress(m.path, bus_name=m.bus_name, interface=m.interface), m.method)
        try:
            reply = await asyncio.wait_for(self._router.send_and_get_reply(call), DBUS_TIMEOUT)
        except (TimeoutError, OSError) as exc:
            log.info("%s did not answer: %s", m.name, exc)
            return None
        if reply.header.message_type != MessageType.method_return or not reply.body:
            return None
        return float(reply.body[0]) * m.scale

    async def close(self) -> None:
        """Leave the bus."""
        await _close(self._router, self._conn)


async def _close(router: Any, conn: Any) -> None:
    with contextlib.suppress(Exception):
        await router.__aexit__(None, None, None)
    with contextlib.suppress(Exception):
        await conn.close()


# ---------------------------------------------------------------- Windows and macOS (ctypes)


class CallIdleSource:
    """The idle time from a plain function of the system (cheap, so called on the loop)."""

    def __init__(self, name: str, read: Any) -> None:
        self.name = name
        self._read = read

    async def idle_seconds(self) -> float | None:
        """Call the system."""
        try:
            return float(self._read())
        except OSError as exc:
            log.info("%s failed: %s", self.name, exc)
            return None

    async def close(self) -> None:
        """Nothing to release."""


def _windows_reader() -> Any:
    """GetLastInputInfo through ctypes (Windows only)."""
    if sys.platform == "win32":

        class LastInputInfo(ctypes.Structure):
            _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

        user32 = ctypes.windll.user32
        kernel32 = ctypes.windll.kernel32
        kernel32.GetTickCount.restype = ctypes.c_uint

        def read() -> float:
            info = LastInputInfo()
            info.cbSize = ctypes.sizeof(LastInputInfo)
            if not user32.GetLastInputInfo(ctypes.byref(info)):
                raise OSError("GetLastInputInfo failed")
            # Both are 32-bit millisecond tick counts that wrap after 49.7 days: subtract modulo 2**32.
            return ((kernel32.GetTickCount() - info.dwTime) & 0xFFFFFFFF) / 1000.0

        return read
    return None


def _macos_reader() -> Any:
    """CGEventSourceSecondsSinceLastEventType through ctypes (macOS only)."""
    if sys.platform == "darwin":
        path = ctypes.util.find_library("CoreGraphics") or ctypes.util.find_library("ApplicationServices")
        if path is None:
            return None
        graphics = ctypes.cdll.LoadLibrary(path)
        seconds_since = graphics.CGEventSourceSecondsSinceLastEventType
        seconds_since.restype = ctypes.c_double
        seconds_since.argtypes = [ctypes.c_int32, ctypes.c_uint32]
        combined_session_state = 0  # kCGEventSourceStateCombinedSessionState
        any_input_event = 0xFFFFFFFF  # kCGAnyInputEventType

        def read() -> float:
            return float(seconds_since(combined_session_state, any_input_event))

        return read
    return None


async def open_idle_source() -> IdleProbe:
    """The system's idle time source on this platform, or why there is none."""
    if sys.platform == "win32":
        return IdleProbe(CallIdleSource("GetLastInputInfo", _windows_reader()))
    if sys.platform == "darwin":
        read = _macos_reader()
        if read is None:
            return IdleProbe(None, "CoreGraphics could not be loaded")
        return IdleProbe(CallIdleSource("CoreGraphics", read))
    # Linux and the other free desktops: the session's idle monitor, where D-Bus has one.
    return await DBusIdleSource.open()
