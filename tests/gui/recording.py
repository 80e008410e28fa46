"""A notification adapter that records what the app would show (the desktop's notification center is the OS's).

The real adapter (desktop-notifier) is tested against a real notification server on a private D-Bus in
tests/gui/test_desktop_notify.py; the session tests only need to see what was shown and to click it.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop.ui.tray import NotificationAdapter


class RecordingAdapter(NotificationAdapter):
    """Keeps notifications; ``press`` and ``click`` do what the desktop's notification center does."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[tuple[str, str, str]] = []
        self.sticky: set[str] = set()
        self.withdrawn: list[str] = []

    def present(
        self, title: str, body: str, key: str, *, sticky: bool = False, actions: Sequence[tuple[str, str]] = ()
    ) -> None:
        self.shown.append((title, body, key))
        if sticky:
            self.sticky.add(key)

    def withdraw(self, key: str) -> None:
        self.withdrawn.append(key)
        self.sticky.discard(key)

    def click(self, key: str) -> None:
        self.clicked.emit(key)

    def press(self, key: str, action: str) -> None:
        self.actionInvoked.emit(key, action)
