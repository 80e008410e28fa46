"""The D-Bus notification adapter against a real dbus-daemon with the test's notification server on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.ui.dbus_notify import DBusNotificationAdapter
from tests.gui.conftest import QLoop
from tests.gui.dbus_desktop import FakeDesktop, SessionBus
from tests.programs import need_program

pytestmark = pytest.mark.gui


@pytest.fixture
def bus() -> Iterator[SessionBus]:
    session = SessionBus(need_program("dbus-daemon", "a private D-Bus session bus"))
    try:
        yield session
    finally:
        session.close()


async def open_adapter() -> DBusNotificationAdapter | None:
    return await DBusNotificationAdapter.open(app_name="Frontdesk", icon="frontdesk", desktop_entry="x.y.Z")


def test_each_click_maps_to_its_own_notification(
    qloop: QLoop, bus: SessionBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    desktop = FakeDesktop(bus.address)
    desktop.start()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    adapter = qloop.run(open_adapter())
    assert adapter is not None
    clicked: list[str] = []
    adapter.clicked.connect(clicked.append)
    try:
        adapter.present("First", "one", "chat:first")
        adapter.present("Second", "two", "chat:second")
        qloop.wait_until(lambda: desktop.notifications.qsize() == 2, what="two Notify calls")
        notes = [desktop.notifications.get_nowait(), desktop.notifications.get_nowait()]
        first = next(n for n in notes if n.summary == "First")
        assert first.app_name == "Frontdesk"
        assert first.actions[0] == "default"
        desktop.click(first)
        qloop.wait_until(lambda: clicked, what="click")
        assert clicked == ["chat:first"]
    finally:
        qloop.run(adapter.close())
        desktop.stop()
    assert desktop.error is None


def test_no_notification_server_means_none(qloop: QLoop, bus: SessionBus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    assert qloop.run(open_adapter()) is None
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    assert qloop.run(open_adapter()) is None
