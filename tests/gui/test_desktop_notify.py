"""The desktop-notifier adapter against a real dbus-daemon with the test's notification server on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.ui.notify import DesktopNotifierAdapter
from tests.gui.conftest import QLoop
from tests.gui.dbus_desktop import FakeDesktop, SessionBus
from tests.programs import need_program

pytestmark = pytest.mark.gui

ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "frontdesk.svg"


@pytest.fixture
def bus() -> Iterator[SessionBus]:
    session = SessionBus(need_program("dbus-daemon", "a private D-Bus session bus"))
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def desktop(bus: SessionBus, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDesktop]:
    fake = FakeDesktop(bus.address)
    fake.start()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.error is None


async def open_adapter() -> DesktopNotifierAdapter | None:
    return await DesktopNotifierAdapter.open(app_name="Frontdesk", icon=ICON)


def test_each_click_and_button_maps_to_its_own_notification(qloop: QLoop, desktop: FakeDesktop) -> None:
    adapter = qloop.run(open_adapter())
    assert adapter is not None
    clicked: list[str] = []
    actions: list[tuple[str, str]] = []
    adapter.clicked.connect(clicked.append)
    adapter.actionInvoked.connect(lambda key, action: actions.append((key, action)))
    try:
        adapter.present("First", "one", "chat:first")
        adapter.present("Second", "two", "chat:second", sticky=True, actions=[("open", "Open"), ("take", "Take")])
        qloop.wait_until(lambda: desktop.notifications.qsize() == 2, what="two Notify calls")
        notes = [desktop.notifications.get_nowait(), desktop.notifications.get_nowait()]
        first = next(n for n in notes if n.summary == "First")
        second = next(n for n in notes if n.summary == "Second")
        assert first.app_name == "Frontdesk"
        assert first.actions[0] == "default"
        assert first.timeout > 0  # an ordinary one goes away by itself
        # The waiting-chat one stays until acted on, is urgent, and carries its buttons.
        assert second.timeout == 0
        assert second.hints["urgency"] == ("y", 2)
        assert second.actions == ["default", "", "open", "Open", "take", "Take"]
        desktop.click(first)
        qloop.wait_until(lambda: clicked, what="click")
        assert clicked == ["chat:first"]
        desktop.click(second, "take")
        qloop.wait_until(lambda: actions, what="button")
        assert actions == [("chat:second", "take")]
    finally:
        qloop.run(adapter.close())


def test_showing_again_replaces_and_withdraw_closes(qloop: QLoop, desktop: FakeDesktop) -> None:
    adapter = qloop.run(open_adapter())
    assert adapter is not None
    try:
        adapter.present("Waiting", "one", "chat:a", sticky=True)
        qloop.wait_until(lambda: desktop.notifications.qsize() == 1, what="Notify")
        old = desktop.notifications.get_nowait()
        adapter.present("Waiting", "two", "chat:a", sticky=True)  # the visitor wrote again
        qloop.wait_until(lambda: desktop.notifications.qsize() == 1, what="second Notify")
        new = desktop.notifications.get_nowait()
        qloop.wait_until(lambda: not desktop.closed.empty(), what="the old one closed")
        assert desktop.closed.get_nowait() == old.id
        adapter.withdraw("chat:a")  # a colleague took the chat
        qloop.wait_until(lambda: not desktop.closed.empty(), what="the new one closed")
        assert desktop.closed.get_nowait() == new.id
    finally:
        qloop.run(adapter.close())


def test_no_notification_server_means_none(qloop: QLoop, bus: SessionBus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    assert qloop.run(open_adapter()) is None
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert qloop.run(open_adapter()) is None
