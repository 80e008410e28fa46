"""The Linux idle source against a real dbus-daemon on which the test plays GNOME's idle monitor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.integration.idle import DBusIdleSource, open_idle_source
from tests.gui.conftest import QLoop
from tests.gui.dbus_desktop import FakeDesktop, SessionBus
from tests.programs import need_program

pytestmark = pytest.mark.gui


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionBus]:
    session = SessionBus(need_program("dbus-daemon", "a private D-Bus session bus"))
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
    try:
        yield session
    finally:
        session.close()


def test_idle_time_comes_from_the_session_idle_monitor(qloop: QLoop, bus: SessionBus) -> None:
    desktop = FakeDesktop(bus.address, idle_ms=12_500)
    desktop.start()
    try:
        probe = qloop.run(open_idle_source())
        assert probe.source is not None, probe.problem
        assert probe.source.name == "GNOME idle monitor"
        assert qloop.run(probe.source.idle_seconds()) == pytest.approx(12.5)
        desktop.idle_ms = 20  # the user touched the mouse
        assert qloop.run(probe.source.idle_seconds()) == pytest.approx(0.02)
        qloop.run(probe.source.close())
    finally:
        desktop.stop()
    assert desktop.error is None


def test_no_idle_monitor_says_why(qloop: QLoop, bus: SessionBus, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = qloop.run(DBusIdleSource.open())
    assert probe.source is None
    assert "idle monitor" in probe.problem
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    probe = qloop.run(DBusIdleSource.open())
    assert probe.source is None
    assert "D-Bus" in probe.problem
