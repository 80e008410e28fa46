"""The real app's tray and notifications on a real (private) D-Bus session, observed from outside.

`frontdesk --demo --minimized` runs as its own process on the Xvfb display with a private session bus on
which this test plays the desktop: the StatusNotifierWatcher (so Qt puts its icon in the "tray") and the
org.freedesktop.Notifications server (so notifications arrive here as ``Notify`` calls). A real widget
websocket writes a chat message; the Notify call is observed; the test clicks it the way a notification
server does (the ``ActionInvoked`` signal) and checks with xdotool that the conversation opened (as a tab, the
main window's title then starts with "Conversation with ...").
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

from protocol.messages import Identify, VisitorChat
from tests.fixtures.clients import VisitorSocket, new_id
from tests.gui.dbus_desktop import FakeDesktop, Notification, SessionBus, child_env
from tests.programs import need_program

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


class App:
    """The frontdesk process and everything it printed (read by a thread, so the pipe never fills)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def text(self) -> str:
        """All output so far."""
        return "".join(self.output)

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first output line matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                match = regex.search(line)
                if match:
                    return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"frontdesk never printed {pattern!r}; output: {self.text()}")

    def stop(self) -> int:
        """SIGTERM (the app quits cleanly on it) and the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return rc


def xdotool_windows(display: str, name: str) -> list[str]:
    """Visible X windows whose title matches ``name``."""
    result = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", name],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.split()


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def next_notification(desktop: FakeDesktop, matches: str, timeout: float) -> Notification:
    """The first Notify call whose summary or body contains ``matches``."""
    deadline = time.monotonic() + timeout
    seen: list[Notification] = []
    while time.monotonic() < deadline:
        try:
            note = desktop.notifications.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(note)
        if matches in note.body or matches in note.summary:
            return note
    raise AssertionError(f"no notification containing {matches!r}; saw {seen}")


@pytest.fixture
def fake_desktop() -> Iterator[FakeDesktop]:
    """A private session bus with the test's watcher and notification server on it."""
    bus = SessionBus(need_program("dbus-daemon", "a private D-Bus session bus for the tray"))
    desktop = FakeDesktop(bus.address)
    desktop.start()
    try:
        yield desktop
    finally:
        desktop.stop()
        bus.close()
    assert desktop.error is None, desktop.error


def test_chat_notification_goes_out_on_dbus_and_its_click_opens_the_conversation(
    fake_desktop: FakeDesktop, tmp_path: Path
) -> None:
    need_program("xdotool", "finding the app's windows on the X display")
    display = os.environ.get("DISPLAY")
    if not display:
        pytest.skip("needs an X display (pytest-xvfb provides one)")
    config = tmp_path / "config"
    settings_dir = config / "io.github.frontdesk"
    settings_dir.mkdir(parents=True)
    # Only chat messages notify here, so the demo's arriving visitors do not race the click below.
    (settings_dir / "Frontdesk.conf").write_text("[notifications]\nvisitors=off\nmessages=true\n")
    env = child_env(
        fake_desktop.address,
        DISPLAY=display,
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(config),
        XDG_RUNTIME_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop.app", "--demo", "--minimized", "--seed", "3", "--verbose"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app = App(proc)
    try:
        server = app.wait_for_line(r"Demo server:\s+(http://\S+)", 60).group(1)
        # The icon is registered with the watcher: Qt found a tray on D-Bus.
        wait_for(lambda: fake_desktop.items, 20, "the tray icon to register")
        assert not xdotool_windows(display, "^Frontdesk - ")  # --minimized: only the tray

        # The tooltip counts the demo's visitors once the app is logged in and has its snapshot (a message
        # written before that is history, not news, and is not announced).
        item = fake_desktop.items[0]
        wait_for(
            lambda: re.search(r"\b[1-9]\d* visitors? online", read_tooltip(fake_desktop.address, item)),
            60,
            "the tray tooltip to count online visitors",
        )

        text = f"Hello tray {new_id('x')}"
        visitor_url = server.replace("http://", "ws://") + "/ws/visitor?account=demo"

        async def chat() -> None:
            async with (
                await VisitorSocket.connect(visitor_url) as first,
                await VisitorSocket.connect(visitor_url) as second,
            ):
                await first.send(Identify(name="Tray Tester"))
                await second.send(Identify(name="Second Tester"))
                await first.send(VisitorChat(id=new_id("m"), text=text))
                note = await asyncio.to_thread(next_notification, fake_desktop, text, 30)
                await second.send(VisitorChat(id=new_id("m"), text=text + " too"))
                later = await asyncio.to_thread(next_notification, fake_desktop, text + " too", 30)
                assert note.summary == "Message from Tray Tester"
                assert later.summary == "Message from Second Tester"
                assert note.app_name == "Frontdesk"
                assert "default" in note.actions  # sent by Frontdesk itself, with an action to click
                # Clicking the older notification opens its own conversation, not the latest one's.
                fake_desktop.click(note)
                await asyncio.to_thread(
                    wait_for,
                    lambda: xdotool_windows(display, "^Conversation with Tray Tester"),
                    30,
                    "the conversation window",
                )
                assert not xdotool_windows(display, "^Conversation with Second Tester")

        try:
            asyncio.run(chat())
            # The click also brought the main window forward (a conversation tab puts its name first in the title).
            assert xdotool_windows(display, "Frontdesk - ")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- frontdesk output:\n{app.text()}") from None
    finally:
        rc = app.stop()
    assert rc == 0, app.text()


def read_tooltip(bus_address: str, item: str) -> str:
    """The tray icon's tooltip title and text, read over D-Bus the way a tray host reads it."""
    service = item.split("/", 1)[0]
    address = DBusAddress("/StatusNotifierItem", bus_name=service, interface="org.freedesktop.DBus.Properties")
    with open_dbus_connection(bus=bus_address) as conn:
        reply = conn.send_and_get_reply(
            new_method_call(address, "Get", "ss", ("org.kde.StatusNotifierItem", "ToolTip")), timeout=5
        )
    _signature, (_icon, _pixmaps, title, text) = reply.body[0]
    return f"{title}\n{text}"
