"""The desktop app's preferences, kept in QSettings (never a secret)."""

from __future__ import annotations

import enum

from PySide6.QtCore import QByteArray, QSettings

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


class NotifyRule(enum.StrEnum):
    """Which new visitors raise a notification."""

    EVERY = "every"
    RETURNING = "returning"
    CUSTOMERS = "customers"
    OFF = "off"


class Language(enum.StrEnum):
    """The language of the interface."""

    SYSTEM = "system"
    ENGLISH = "en"
    GERMAN = "de"


class Settings:
    """Typed access to the app's QSettings; pass a QSettings (tests use an ini file in a temp dir)."""

    def __init__(self, qsettings: QSettings) -> None:
        self._q = qsettings

    def _str(self, key: str, default: str) -> str:
        value = self._q.value(key, default)
        return value if isinstance(value, str) else default

    def _bool(self, key: str, default: bool) -> bool:
        value = self._q.value(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):  # ini files give strings back
            return value.lower() in ("true", "1", "yes")
        return default

    @property
    def server_url(self) -> str:
        """The server the agent logs in to."""
        return self._str("server/url", DEFAULT_SERVER_URL)

    @server_url.setter
    def server_url(self, value: str) -> None:
        self._q.setValue("server/url", value)

    @property
    def last_email(self) -> str:
        """The e-mail of the last login, to log in silently with its stored token."""
        return self._str("server/email", "")

    @last_email.setter
    def last_email(self, value: str) -> None:
        self._q.setValue("server/email", value)

    @property
    def notify_rule(self) -> NotifyRule:
        """Which new visitors are announced."""
        try:
            return NotifyRule(self._str("notifications/visitors", NotifyRule.EVERY))
        except ValueError:
            return NotifyRule.EVERY

    @notify_rule.setter
    def notify_rule(self, value: NotifyRule) -> None:
        self._q.setValue("notifications/visitors", str(value))

    @property
    def notify_messages(self) -> bool:
        """Announce new chat messages while the window is minimized or unfocused."""
        return self._bool("notifications/messages", True)

    @notify_messages.setter
    def notify_messages(self, value: bool) -> None:
        self._q.setValue("notifications/messages", value)

    @property
    def sound(self) -> bool:
        """Beep with each notification."""
        return self._bool("notifications/sound", False)

    @sound.setter
    def sound(self, value: bool) -> None:
        self._q.setValue("notifications/sound", value)

    @property
    def start_minimized(self) -> bool:
        """Start in the tray without showing the window."""
        return self._bool("window/start_minimized", False)

    @start_minimized.setter
    def start_minimized(self, value: bool) -> None:
        self._q.setValue("window/start_minimized", value)

    @property
    def conversations_in_tabs(self) -> bool:
        """New conversations open as tabs of the main window (otherwise each in a window of its own)."""
        return self._bool("window/conversations_in_tabs", True)

    @conversations_in_tabs.setter
    def conversations_in_tabs(self, value: bool) -> None:
        self._q.setValue("window/conversations_in_tabs", value)

    @property
    def language(self) -> Language:
        """The interface language (system follows the desktop's locale)."""
        try:
            return Language(self._str("ui/language", Language.SYSTEM))
        except ValueError:
            return Language.SYSTEM

    @language.setter
    def language(self, value: Language) -> None:
        self._q.setValue("ui/language", str(value))

    @property
    def window_geometry(self) -> bytes:
        """The main window's last geometry (Qt's saveGeometry), empty at first."""
        value = self._q.value("window/geometry", b"")
        return bytes(value.data()) if isinstance(value, QByteArray) else b""

    @window_geometry.setter
    def window_geometry(self, value: bytes) -> None:
        self._q.setValue("window/geometry", QByteArray(value))

    @property
    def splitter_state(self) -> bytes:
        """The Visitors tab's list/detail split, empty at first."""
        value = self._q.value("window/splitter", b"")
        return bytes(value.data()) if isinstance(value, QByteArray) else b""

    @splitter_state.setter
    def splitter_state(self, value: bytes) -> None:
        self._q.setValue("window/splitter", QByteArray(value))

    def _int(self, key: str, default: int, low: int, high: int) -> int:
        value: object = self._q.value(key, default)
        try:
            number = int(str(value))
        except (TypeError, ValueError):
            return default
        return min(max(number, low), high)

    @property
    def alert_repeat_seconds(self) -> int:
        """How often the sound repeats while a chat waits for an answer (0: once per chat)."""
        return self._int("notifications/alert_repeat_seconds", 30, 0, 3600)

    @alert_repeat_seconds.setter
    def alert_repeat_seconds(self, value: int) -> None:
        self._q.setValue("notifications/alert_repeat_seconds", int(value))

    @property
    def auto_away_minutes(self) -> int:
        """Minutes without input on the computer before the status turns Away (0: never)."""
        return self._int("status/auto_away_minutes", 5, 0, 24 * 60)

    @auto_away_minutes.setter
    def auto_away_minutes(self, value: int) -> None:
        self._q.setValue("status/auto_away_minutes", int(value))

    @property
    def status(self) -> str:
        """The status the agent chose last ("online" or "away"), restored at the next login."""
        value = self._str("status/chosen", "online")
        return value if value in ("online", "away") else "online"

    @status.setter
    def status(self, value: str) -> None:
        self._q.setValue("status/chosen", value)

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._q.sync()
