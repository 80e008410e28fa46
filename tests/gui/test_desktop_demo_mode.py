"""Demo mode in-process: the app logs in to the demo account by itself and links the demo website."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from desktop.app import Frontdesk
from desktop.credentials import MemoryStore
from desktop.settings import Settings
from protocol.rules import Plan
from server.demo import start_demo, stop_demo
from server.simulator import TrafficConfig
from tests.fixtures.server import LiveServer
from tests.gui.conftest import QLoop

pytestmark = pytest.mark.gui


class UrlCatcher(QObject):
    """Receives the URLs the app asks the desktop to open (instead of starting a browser)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def test_demo_logs_in_by_itself_and_help_opens_the_demo_website(
    qloop: QLoop, live_server: LiveServer, settings: Settings
) -> None:
    info = start_demo(live_server.server, Plan.FREE, seed=1, traffic=TrafficConfig(initial_visitors=3, max_visits=3))
    before = settings.server_url
    app = Frontdesk(settings, MemoryStore(), demo=info, use_tray=False)
    catcher = UrlCatcher()
    # PySide6 takes the slot name as str at run time (its stubs say bytes, which it then refuses).
    QDesktopServices.setUrlHandler("http", catcher, "open")  # type: ignore[arg-type]
    try:
        app.start()
        assert app.login_dialog is None
        qloop.wait_until(lambda: app.session is not None and app.session.hello is not None, what="demo login")
        assert app.session is not None
        window = app.session.window
        assert "FREE" in window.windowTitle()
        assert info.demo_site_url in window.statusBar().currentMessage()
        qloop.wait_until(lambda: app.session is not None and app.session.model.rowCount() >= 1, what="demo visitors")
        assert window.demo_action.isVisible()
        window.demo_action.trigger()
        assert catcher.urls == [info.demo_site_url]
        assert settings.server_url == before  # the demo does not become the user's server
    finally:
        QDesktopServices.unsetUrlHandler("http")
        qloop.run(app.shutdown())
        stop_demo(info)
