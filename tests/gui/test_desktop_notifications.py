"""Which events notify, what the notification says, and what clicking it does - against a real server.

The notifications go to a recording subclass of NotificationAdapter (the qutebrowser pattern); the real
D-Bus path of the adapter is covered by tests/e2e/test_desktop_tray.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import msgspec
import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication

from desktop.app import Frontdesk
from desktop.credentials import MemoryStore
from desktop.integration.i18n import install_translators
from desktop.settings import NotifyRule, Settings
from desktop.ui.tray import notification_safe, wants_visitor
from protocol.bots.flow import FlowSpec
from protocol.messages import Identify, Visitor, VisitorChat
from protocol.rules import Plan
from server.bots.store import BotStore
from tests.fixtures.clients import VisitorSocket, new_id
from tests.fixtures.server import LiveServer, Tenant
from tests.gui.conftest import QLoop
from tests.gui.recording import RecordingAdapter

pytestmark = pytest.mark.gui


@pytest.fixture
def adapter() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
def session_app(
    qloop: QLoop, settings: Settings, live_server: LiveServer, adapter: RecordingAdapter
) -> Iterator[tuple[Frontdesk, Tenant]]:
    """A logged-in app (PRO) with its notifications recorded; the window stays hidden (as in the tray)."""
    tenant = live_server.create_account(Plan.PRO)
    settings.server_url = live_server.http_url
    settings.last_email = tenant.agent_email
    credentials = MemoryStore()
    credentials.set_token(
        live_server.http_url, tenant.agent_email, live_server.login(tenant.agent_email, tenant.agent_password)
    )
    app = Frontdesk(settings, credentials, use_tray=False, notifications=adapter, start_minimized=True)
    app.start()
    qloop.wait_until(lambda: app.session is not None and app.session.hello is not None, what="hello")
    assert app.session is not None
    app.session.window.hide()  # no tray here, so start_minimized showed it; the agent is elsewhere
    try:
        yield app, tenant
    finally:
        qloop.run(app.shutdown())


def connect(qloop: QLoop, live_server: LiveServer, tenant: Tenant) -> VisitorSocket:
    return qloop.run(VisitorSocket.connect(live_server.visitor_url(tenant.account_key)))


def test_visitors_already_there_are_not_news_but_arrivals_are(
    qloop: QLoop, live_server: LiveServer, adapter: RecordingAdapter, settings: Settings
) -> None:
    tenant = live_server.create_account(Plan.PRO)
    early = connect(qloop, live_server, tenant)
    settings.server_url = live_server.http_url
    settings.last_email = tenant.agent_email
    credentials = MemoryStore()
    credentials.set_token(
        live_server.http_url, tenant.agent_email, live_server.login(tenant.agent_email, tenant.agent_password)
    )
    app = Frontdesk(settings, credentials, use_tray=False, notifications=adapter)
    try:
        app.start()
        qloop.wait_until(lambda: app.session is not None and app.session.model.rowCount() == 1, what="snapshot")
        assert adapter.shown == []  # the snapshot is not announced
        late = connect(qloop, live_server, tenant)
        qloop.wait_until(lambda: adapter.shown, what="arrival notification")
        title, _body, key = adapter.shown[-1]
        assert title == "New visitor on your website"
        assert key == f"visitor:{late.visitor_id}"

        # Clicking it selects that visitor.
        assert app.session is not None
        adapter.click(key)
        assert app.session.window.isVisible()
        assert app.session.window.visitors.current_visitor() is not None
        assert app.session.window.visitors.current_visitor().id == late.visitor_id  # type: ignore[union-attr]

        settings.notify_rule = NotifyRule.OFF
        count = len(adapter.shown)
        third = connect(qloop, live_server, tenant)
        qloop.wait_until(lambda: app.session is not None and app.session.model.rowCount() == 3, what="third")
        assert len(adapter.shown) == count
        for s in (early, late, third):
            qloop.run(s.ws.close())
    finally:
        qloop.run(app.shutdown())


def test_visitor_message_notifies_when_nobody_looks_and_click_opens_the_conversation(
    qloop: QLoop, live_server: LiveServer, adapter: RecordingAdapter, session_app: tuple[Frontdesk, Tenant]
) -> None:
    app, tenant = session_app
    assert app.session is not None
    socket = connect(qloop, live_server, tenant)
    qloop.run(socket.send(Identify(name="<b>Eve</b>")))
    qloop.wait_until(
        lambda: getattr(app.session.store.visitors.get(socket.visitor_id), "name", None) == "<b>Eve</b>",  # type: ignore[union-attr]
        what="identified",
    )
    adapter.shown.clear()
    qloop.run(socket.send(VisitorChat(id=new_id("m"), text="Need help with <i>my order</i> & returns")))
    qloop.wait_until(lambda: any(key.startswith("chat:") for _t, _b, key in adapter.shown), what="chat notification")
    title, body, key = next(n for n in adapter.shown if n[2].startswith("chat:"))
    # Markup characters from the visitor are made inert for notification servers that parse markup.
    assert title == "Message from ‹b›Eve‹/b›"
    assert body == "Need help with ‹i›my order‹/i› ＆ returns"
    assert key == f"chat:{socket.visitor_id}"

    adapter.click(key)
    qloop.wait_until(lambda: socket.visitor_id in app.session.conversations.dialogs, what="conversation opened")  # type: ignore[union-attr]
    dialog = app.session.conversations.dialogs[socket.visitor_id]
    qloop.wait_until(lambda: any("my order" in t for t in dialog.message_texts()), what="history shown")
    assert app.session.window.isVisible()
    # Looking at the conversation reads it: the unread count goes back to zero in the list and status bar.
    store, window = app.session.store, app.session.window
    qloop.wait_until(dialog.isActiveWindow, what="conversation focused")
    qloop.wait_until(lambda: store.visitors[socket.visitor_id].unread == 0, what="marked read")
    qloop.wait_until(lambda: window.unread_label.text().startswith("0 unread"), what="status bar unread count")
    qloop.run(socket.ws.close())


def _visitor(*, visit_count: int = 1, customer: bool = False) -> Visitor:
    now = time.time()
    return Visitor(
        id="v" + "a" * 10,
        label="Visitor aaaa",
        first_seen_at=now,
        visit_started_at=now,
        last_activity_at=now,
        visit_count=visit_count,
        customer=customer,
    )


def test_notification_rules() -> None:
    first, returning, customer = _visitor(), _visitor(visit_count=3), _visitor(customer=True)
    assert [wants_visitor(NotifyRule.EVERY, v) for v in (first, returning, customer)] == [True, True, True]
    assert [wants_visitor(NotifyRule.RETURNING, v) for v in (first, returning, customer)] == [False, True, False]
    assert [wants_visitor(NotifyRule.CUSTOMERS, v) for v in (first, returning, customer)] == [False, False, True]
    assert [wants_visitor(NotifyRule.OFF, v) for v in (first, returning, customer)] == [False, False, False]


def test_notification_text_is_inert_and_short() -> None:
    assert notification_safe("<img src=x>&amp;") == "‹img src=x›＆amp;"
    assert len(notification_safe("x" * 1000)) == 200
    assert notification_safe("a\n\n b\tc") == "a b c"


def test_answers_to_a_bot_stay_quiet_and_the_hand_over_notifies(
    qloop: QLoop, live_server: LiveServer, adapter: RecordingAdapter, session_app: tuple[Frontdesk, Tenant]
) -> None:
    app, tenant = session_app
    assert app.session is not None
    flow = {
        "name": "Night desk",
        "trigger": {"kind": "first_message"},
        "start": "name",
        "steps": [
            {"id": "name", "kind": "ask", "text": "Your name?", "store": "name", "next": "team"},
            {"id": "team", "kind": "hand_over"},
        ],
    }

    async def add() -> None:
        await BotStore(live_server.server.services.engine).add(tenant.account_id, msgspec.convert(flow, FlowSpec))

    live_server.call(add)
    socket = connect(qloop, live_server, tenant)
    store = app.session.store
    qloop.wait_until(lambda: socket.visitor_id in store.visitors, what="listed")
    qloop.do(app.session.dispatcher.flush)  # the arrival is announced now, not in a calm-traffic batch later
    adapter.shown.clear()
    qloop.run(socket.send(VisitorChat(id=new_id("m"), text="Hello?")))
    qloop.wait_until(lambda: getattr(store.visitors[socket.visitor_id].bot, "status", None) == "running", what="bot")
    shown_after_first = len(adapter.shown)  # the first message may be announced: it came before the bot
    qloop.run(socket.send(VisitorChat(id=new_id("m"), text="Ada")))
    qloop.wait_until(lambda: any(t.endswith("waits for an agent") for t, _b, _k in adapter.shown), what="hand-over")
    titles = [t for t, _b, _k in adapter.shown[shown_after_first:]]
    assert titles == ["Ada waits for an agent"], "the answer to the bot is not announced"
    assert adapter.shown[-1][1:] == ("Connecting you to our team", f"chat:{socket.visitor_id}")
    qloop.run(socket.ws.close())


def test_an_arrival_names_the_country_in_the_ui_language(
    qloop: QLoop, live_server: LiveServer, adapter: RecordingAdapter, session_app: tuple[Frontdesk, Tenant]
) -> None:
    app, tenant = session_app
    assert app.session is not None
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    locale = QLocale()
    install_translators(qt_app, "de")
    try:
        # Vienna's time zone: the server says "Austria"; a German UI says "Österreich".
        socket = qloop.run(VisitorSocket.connect(live_server.visitor_url(tenant.account_key), timezone="Europe/Vienna"))
        qloop.wait_until(lambda: any(k == f"visitor:{socket.visitor_id}" for _t, _b, k in adapter.shown), what="news")
        title, body, _key = next(n for n in adapter.shown if n[2] == f"visitor:{socket.visitor_id}")
        assert app.session.store.visitors[socket.visitor_id].country == "Austria"
        assert title == "Neuer Besucher auf Ihrer Website"
        assert body.split(" · ") == [f"Besucher {socket.visitor_id[-6:]}", "Shop", "Österreich"]
        qloop.run(socket.ws.close())
    finally:
        install_translators(qt_app, "en")
        QLocale.setDefault(locale)
