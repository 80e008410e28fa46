"""The desktop app against a real server: login, the visitor list, filters, plan gating, chat, ban.

Everything here is real: the server on port 0, visitors as real widget websockets, the agent client on the
qasync loop, real Qt widgets. Only the system keyring is replaced by an in-memory backend (there is no
Secret Service on a test machine) and the tray is off (tests/e2e/test_desktop_tray.py covers it on D-Bus).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.app import Frontdesk
from desktop.core.clock import ManualClock
from desktop.core.filters import VisitorFilter
from desktop.credentials import open_credential_store
from desktop.integration.appid import APP_ID
from desktop.session import ClientActions
from desktop.settings import Settings
from desktop.ui.actions import ActionError
from desktop.ui.login import LoginDialog
from desktop.ui.main_window import VisitorsTab
from protocol.messages import (
    AgentTypingToVisitor,
    Banned,
    ChatClosed,
    Identify,
    Read,
    VisitorChat,
    VisitorMessage,
    VisitorTyping,
)
from protocol.rules import Plan
from tests.fixtures.clients import VisitorSocket, new_id
from tests.fixtures.server import LiveServer, Tenant
from tests.gui.conftest import MemoryKeyring, QLoop

pytestmark = pytest.mark.gui

HTML_NAME = "<b>bold</b><img src='file:///etc/passwd'>"
HTML_TITLE = "<i>Sale</i><img src='file:///etc/hostname'>"
HTML_URL = "https://shop.example/?q=<img src=x onerror=alert(1)>"
HTML_TEXT = "<a href='https://evil.example'>click</a> <script>alert(1)</script>"

AppFactory = Callable[..., Frontdesk]


@pytest.fixture
def make_app(
    qloop: QLoop, settings: Settings, memory_keyring: MemoryKeyring, live_server: LiveServer
) -> Iterator[AppFactory]:
    """Build Frontdesk instances sharing one settings file and one keyring; shut them down afterwards."""
    apps: list[Frontdesk] = []
    settings.server_url = live_server.http_url

    def make(**kwargs: object) -> Frontdesk:
        app = Frontdesk(settings, open_credential_store(APP_ID, memory_keyring), use_tray=False, **kwargs)  # type: ignore[arg-type]
        apps.append(app)
        return app

    yield make
    for app in apps:
        qloop.run(app.shutdown())


def logged_in(
    qloop: QLoop, make_app: AppFactory, live_server: LiveServer, tenant: Tenant, **kwargs: object
) -> Frontdesk:
    """A Frontdesk started with a stored token for the tenant's agent (the silent-login path)."""
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    app = make_app(**kwargs)
    app.settings.last_email = tenant.agent_email
    app.credentials.set_token(live_server.http_url, tenant.agent_email, token)
    app.start()
    qloop.wait_until(lambda: app.session is not None and app.session.hello is not None, what="hello")
    return app


def login_dialog_of(app: Frontdesk) -> LoginDialog | None:
    """The app's login dialog (a function, so type narrowing does not outlive an await)."""
    return app.login_dialog


def tab_of(app: Frontdesk) -> VisitorsTab:
    assert app.session is not None
    return app.session.window.visitors


def visitor(qloop: QLoop, live_server: LiveServer, tenant: Tenant, **kwargs: object) -> VisitorSocket:
    """A real widget connection for the tenant."""
    return qloop.run(VisitorSocket.connect(live_server.visitor_url(tenant.account_key), **kwargs))  # type: ignore[arg-type]


def identify(qloop: QLoop, socket: VisitorSocket, name: str, email: str = "") -> None:
    qloop.run(socket.send(Identify(name=name, email=email)))


def listed(app: Frontdesk, visitor_id: str) -> bool:
    """Whether the visitor is in the list the agent sees (the model applied the store's batch)."""
    return app.session is not None and app.session.model.row_of(visitor_id) >= 0


# ---------------------------------------------------------------- login


def test_login_keeps_only_the_token_and_the_next_start_is_silent(
    qloop: QLoop,
    qtbot: QtBot,
    make_app: AppFactory,
    live_server: LiveServer,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    tenant = live_server.create_account(Plan.PRO)
    app = make_app()
    app.start()
    dialog = app.login_dialog
    assert dialog is not None
    assert dialog.isVisible()
    dialog.email_edit.setText(tenant.agent_email)
    dialog.password_edit.setText(tenant.agent_password)
    dialog.login_button.click()
    qloop.wait_until(lambda: app.session is not None and app.session.hello is not None, what="hello")
    assert app.session is not None
    assert app.session.window.isVisible()
    assert not dialog.isVisible()
    assert dialog.password_edit.text() == ""

    # The keyring holds one token under the app id; the password is nowhere.
    assert list(memory_keyring.secrets) == [(APP_ID, f"{live_server.http_url} {tenant.agent_email}")]
    token = next(iter(memory_keyring.secrets.values()))
    assert token
    assert token != tenant.agent_password
    app.settings.sync()
    stored = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*.ini"))
    assert tenant.agent_password not in stored
    assert token not in stored
    narrow = max(900, app.session.window.minimumSizeHint().width() + 10)
    assert narrow < 1180  # the default is 1200; the window must be able to shrink below it
    app.session.window.resize(narrow, 600)
    qloop.run(app.shutdown())
    assert app.settings.window_geometry  # the window comes back where it was

    again = make_app()
    again.start()
    assert again.login_dialog is None  # silent: no dialog at all
    qloop.wait_until(lambda: again.session is not None and again.session.hello is not None, what="silent hello")
    assert again.session is not None
    assert again.session.hello is not None
    assert again.session.hello.agent.email == tenant.agent_email
    assert again.session.window.size().width() < narrow + 20  # not the default 1200 (X11 may adjust a little)

    # Logout revokes the token on the server and forgets it here.
    qloop.run(again.logout())
    assert memory_keyring.secrets == {}
    shown = login_dialog_of(again)
    assert shown is not None
    assert shown.isVisible()
    revoked = make_app()
    revoked.settings.last_email = tenant.agent_email
    revoked.credentials.set_token(live_server.http_url, tenant.agent_email, token)
    revoked.start()
    qloop.wait_until(lambda: revoked.login_dialog is not None and revoked.login_dialog.isVisible(), what="re-login")
    assert revoked.login_dialog is not None
    assert "log in again" in revoked.login_dialog.error_label.text()
    assert memory_keyring.secrets == {}


def test_login_errors_are_clear_and_change_nothing(
    qloop: QLoop, qtbot: QtBot, make_app: AppFactory, live_server: LiveServer, memory_keyring: MemoryKeyring
) -> None:
    tenant = live_server.create_account(Plan.PRO)
    app = make_app()
    app.start()
    dialog = app.login_dialog
    assert dialog is not None
    dialog.email_edit.setText(tenant.agent_email)
    dialog.password_edit.setText("not the password")
    dialog.login_button.click()
    qloop.wait_until(lambda: dialog.error_label.isVisible() and dialog.login_button.isEnabled(), what="error")
    wrong_password = dialog.error_label.text()
    assert "password" in wrong_password.lower()

    dialog.url_edit.setText("http://127.0.0.1:9")  # discard port: nothing listens
    dialog.password_edit.setText(tenant.agent_password)
    dialog.login_button.click()
    qloop.wait_until(
        lambda: dialog.error_label.text() != wrong_password and dialog.login_button.isEnabled(), what="error"
    )
    assert dialog.error_label.isVisible()

    dialog.url_edit.setText("not a url")
    dialog.login_button.click()
    assert "http://" in dialog.error_label.text()
    assert app.session is None
    assert memory_keyring.secrets == {}


def test_no_keyring_says_so_on_the_login_dialog(qloop: QLoop, settings: Settings, live_server: LiveServer) -> None:
    settings.server_url = live_server.http_url
    no_keyring: KeyringBackend = fail.Keyring()  # type: ignore[no-untyped-call]
    app = Frontdesk(settings, open_credential_store(APP_ID, no_keyring), use_tray=False)
    try:
        app.start()
        assert app.login_dialog is not None
        assert app.login_dialog.notice_label.isVisible()
        assert "memory" in app.login_dialog.notice_label.text()
    finally:
        qloop.run(app.shutdown())


# ---------------------------------------------------------------- the list


def test_snapshot_filters_counts_and_search_through_the_ui(
    qloop: QLoop, qtbot: QtBot, make_app: AppFactory, live_server: LiveServer
) -> None:
    tenant = live_server.create_account(Plan.PRO)
    plain = visitor(qloop, live_server, tenant, page="https://shop.example/tea", title="Green tea")
    ada = visitor(qloop, live_server, tenant, title="Checkout")
    identify(qloop, ada, "Ada Lovelace", "ada@example.com")
    html = visitor(qloop, live_server, tenant)
    identify(qloop, html, HTML_NAME)
    ids = {plain.visitor_id, ada.visitor_id, html.visitor_id}

    app = logged_in(qloop, make_app, live_server, tenant)
    tab = tab_of(app)
    model = tab.model
    qloop.wait_until(lambda: model.counts[VisitorFilter.CUSTOMERS] == 2 and model.rowCount() == 3, what="snapshot")
    assert {model.visitor_at(r).id for r in range(3)} == ids  # type: ignore[union-attr]
    buttons = tab.filters.buttons
    assert buttons[VisitorFilter.ALL].text().endswith("(3)")
    assert buttons[VisitorFilter.ACTIVE].text().endswith("(3)")
    assert buttons[VisitorFilter.CUSTOMERS].text().endswith("(2)")
    assert buttons[VisitorFilter.IN_CHAT].text().endswith("(0)")
    assert buttons[VisitorFilter.BLOCKED].text().endswith("(0)")

    buttons[VisitorFilter.CUSTOMERS].click()
    assert model.rowCount() == 2
    assert {model.visitor_at(r).id for r in range(2)} == {ada.visitor_id, html.visitor_id}  # type: ignore[union-attr]
    buttons[VisitorFilter.BLOCKED].click()
    assert model.rowCount() == 0
    buttons[VisitorFilter.ALL].click()
    assert model.rowCount() == 3

    QTest.keyClicks(tab.search, "lovelace")
    qloop.wait_until(lambda: model.rowCount() == 1, what="search")
    assert model.visitor_at(0).id == ada.visitor_id  # type: ignore[union-attr]
    tab.search.clear()
    QTest.keyClicks(tab.search, "green tea")
    qloop.wait_until(lambda: model.rowCount() == 1, what="search by page title")
    assert model.visitor_at(0).id == plain.visitor_id  # type: ignore[union-attr]
    tab.search.clear()
    assert model.rowCount() == 3

    # A new visitor shows up live, and the counts follow.
    late = visitor(qloop, live_server, tenant)
    qloop.wait_until(lambda: model.rowCount() == 4, what="live arrival")
    assert buttons[VisitorFilter.ALL].text().endswith("(4)")
    assert app.session is not None
    window = app.session.window
    qloop.wait_until(lambda: window.online_label.text().startswith("4 "), what="4 online in the status bar")
    qloop.run(late.ws.close())
    for s in (plain, ada, html):
        qloop.run(s.ws.close())
    # Closed pages stay listed for a grace period but no longer count as online.
    qloop.wait_until(lambda: window.online_label.text().startswith("0 "), what="0 online in the status bar")
    assert model.rowCount() == 4


def test_keyboard_and_accessibility(qloop: QLoop, make_app: AppFactory, live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    app = logged_in(qloop, make_app, live_server, tenant)
    assert app.session is not None
    window = app.session.window
    tab = window.visitors
    assert tab.search.accessibleName()
    assert tab.search.maxLength() <= 200
    assert tab.table.accessibleName()
    assert tab.open_button.accessibleName()
    for number, (f, button) in enumerate(tab.filters.buttons.items(), start=1):
        assert button.accessibleName()
        shortcut = tab.filters.shortcuts[f]
        assert shortcut.key().toString() == f"Alt+{number}"
        shortcut.activated.emit()  # what the key press does
        assert button.isChecked()
        assert tab.model.current_filter is f
    assert window.find_action.shortcut().toString() == "Ctrl+F"
    window.find_action.trigger()
    qloop.wait_until(tab.search.hasFocus, what="search focused by Ctrl+F")
    assert [s.toString() for s in tab.open_action.shortcuts()][:1] == ["Return"]


def test_active_turns_inactive_as_time_passes(qloop: QLoop, make_app: AppFactory, live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    socket = visitor(qloop, live_server, tenant)
    clock = ManualClock(time.time())
    app = logged_in(qloop, make_app, live_server, tenant, clock=clock)
    tab = tab_of(app)
    qloop.wait_until(lambda: tab.model.counts[VisitorFilter.ACTIVE] == 1, what="active visitor")
    clock.advance(11 * 60)  # no event arrives; only time passes
    assert app.session is not None
    app.session.window.tick()
    assert tab.model.counts[VisitorFilter.ACTIVE] == 0
    assert tab.filters.buttons[VisitorFilter.ACTIVE].text().endswith("(0)")
    qloop.run(socket.ws.close())


# ---------------------------------------------------------------- plan gating and chat


def test_free_plan_shows_open_conversation_disabled_and_the_server_refuses(
    qloop: QLoop, make_app: AppFactory, live_server: LiveServer
) -> None:
    tenant = live_server.create_account(Plan.FREE)
    socket = visitor(qloop, live_server, tenant)
    app = logged_in(qloop, make_app, live_server, tenant)
    tab = tab_of(app)
    qloop.wait_until(lambda: listed(app, socket.visitor_id), what="visitor listed")
    assert tab.select_visitor(socket.visitor_id)
    assert not tab.open_button.isEnabled()
    assert not tab.open_action.isEnabled()
    assert "STANDARD and PRO" in tab.open_button.toolTip()
    assert "STANDARD and PRO" in tab.reason_label.text()

    # The UI is not the only guard: asking anyway is refused by the server, and the refusal is shown.
    assert app.session is not None
    with pytest.raises(ActionError) as refused:
        qloop.run(ClientActions(app.session.client).open_conversation(socket.visitor_id))
    assert refused.value.code == "plan_required"
    visitor_record = app.session.store.visitors[socket.visitor_id]
    tab.request_conversation(visitor_record)
    qloop.wait_until(lambda: getattr(tab, "error_box", None) is not None and tab.error_box.isVisible(), what="error")
    assert tab.error_box.text() == refused.value.message
    assert socket.visitor_id not in app.session.conversations.dialogs
    qloop.run(socket.ws.close())


def test_pro_conversation_reaches_the_visitor_both_ways_as_plain_text(
    qloop: QLoop, qtbot: QtBot, make_app: AppFactory, live_server: LiveServer
) -> None:
    tenant = live_server.create_account(Plan.PRO)
    socket = visitor(qloop, live_server, tenant, title=HTML_TITLE, page=HTML_URL)
    identify(qloop, socket, HTML_NAME)
    app = logged_in(qloop, make_app, live_server, tenant)
    assert app.session is not None
    tab = tab_of(app)
    qloop.wait_until(
        lambda: listed(app, socket.visitor_id) and app.session.store.visitors[socket.visitor_id].name == HTML_NAME,  # type: ignore[union-attr]
        what="named visitor",
    )
    assert tab.select_visitor(socket.visitor_id)

    # Visitor HTML stays literal in the table and the detail pane.
    row = tab.model.row_of(socket.visitor_id)
    shown = {str(tab.model.index(row, c).data()) for c in range(tab.model.columnCount())}
    assert HTML_NAME in shown
    assert tab.detail.title_label.text() == HTML_NAME
    assert tab.detail.title_label.textFormat() == Qt.TextFormat.PlainText
    assert HTML_NAME in tab.detail.identity_label.text()
    for label in tab.detail.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()
    # The trail is fetched when the visitor is selected (records in the list leave it out).
    qloop.wait_until(lambda: tab.detail.trail.topLevelItem(0) is not None, what="trail fetched")
    page = tab.detail.trail.topLevelItem(0)
    assert page is not None
    assert page.text(0) == HTML_TITLE  # item views draw plain text
    assert "<img" not in page.toolTip(0)  # tooltips guess rich text, so the URL is escaped there
    assert "&lt;img" in page.toolTip(0)

    assert tab.open_button.isEnabled()
    # Enter in the list opens the conversation (the button and the context menu share the action).
    tab.table.setFocus()
    qloop.do(QTest.keyClick, tab.table, Qt.Key.Key_Return)
    conversations = app.session.conversations
    qloop.wait_until(lambda: socket.visitor_id in conversations.dialogs, what="conversation opened")
    dialog = conversations.dialogs[socket.visitor_id]
    assert not dialog.isModal()

    qloop.do(QTest.keyClicks, dialog.input, "Hello from Frontdesk")
    typing = qloop.run(socket.wait_for(AgentTypingToVisitor))
    assert typing.typing
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qloop.do(QTest.keyClicks, dialog.input, "second line")
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_Return)
    received = qloop.run(socket.wait_for(VisitorMessage))
    assert received.message.text == "Hello from Frontdesk\nsecond line"
    assert dialog.input.toPlainText() == ""
    qloop.wait_until(
        lambda: any("Hello from Frontdesk" in t and "delivered" in t for t in dialog.message_texts()),
        what="own message delivered",
    )
    qloop.run(socket.send(Read()))
    qloop.wait_until(
        lambda: any("Hello from Frontdesk" in t and " · read\n" in t for t in dialog.message_texts()),
        what="own message read",
    )

    qloop.run(socket.send(VisitorTyping(typing=True)))
    qloop.wait_until(lambda: dialog.typing_label.text() == f"{HTML_NAME} is typing…", what="visitor typing shown")
    qloop.run(socket.send(VisitorChat(id=new_id("m"), text=HTML_TEXT)))
    qloop.wait_until(lambda: any(HTML_TEXT in t for t in dialog.message_texts()), what="visitor message shown")
    assert dialog.typing_label.text() == ""
    # The visitor's words appear as the exact characters typed, never as markup.
    assert any(t.endswith("\n" + HTML_TEXT) for t in dialog.message_texts())
    # Esc closes the conversation window; the conversation itself goes on.
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_Escape)
    qloop.wait_until(lambda: socket.visitor_id not in conversations.dialogs, what="conversation closed")
    qloop.run(socket.ws.close())


def test_ban_asks_first_then_bans(qloop: QLoop, qtbot: QtBot, make_app: AppFactory, live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)  # banning needs no plan
    socket = visitor(qloop, live_server, tenant)
    app = logged_in(qloop, make_app, live_server, tenant)
    assert app.session is not None
    tab = tab_of(app)
    qloop.wait_until(lambda: listed(app, socket.visitor_id), what="visitor listed")
    assert tab.select_visitor(socket.visitor_id)

    tab.ban_button.click()
    box = tab.ban_box
    assert box.isVisible()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qloop.spin(0.3)  # nothing to await: cancelling must send nothing
    assert not app.session.store.visitors[socket.visitor_id].banned

    tab.ban_button.click()
    tab.ban_box.button(QMessageBox.StandardButton.Yes).click()
    banned = qloop.run(socket.wait_for(Banned))
    assert banned.message
    qloop.wait_until(lambda: app.session.store.visitors[socket.visitor_id].banned, what="banned in the list")  # type: ignore[union-attr]
    qloop.wait_until(lambda: tab.model.counts[VisitorFilter.BLOCKED] == 1, what="blocked count")
    # A banned visitor whose pages closed is listed under Blocked, where the agent can lift the ban.
    tab.filters.buttons[VisitorFilter.BLOCKED].click()
    assert tab.select_visitor(socket.visitor_id)
    assert tab.ban_button.text().startswith("Unban")
    tab.ban_button.click()
    tab.ban_box.button(QMessageBox.StandardButton.Yes).click()
    store = app.session.store
    qloop.wait_until(lambda: not getattr(store.visitors.get(socket.visitor_id), "banned", False), what="unbanned")
    qloop.wait_until(lambda: tab.model.counts[VisitorFilter.BLOCKED] == 0, what="blocked count back to 0")


def test_end_conversation_closes_it_for_the_visitor(
    qloop: QLoop, make_app: AppFactory, live_server: LiveServer
) -> None:
    tenant = live_server.create_account(Plan.STANDARD)
    socket = visitor(qloop, live_server, tenant)
    app = logged_in(qloop, make_app, live_server, tenant)
    assert app.session is not None
    tab = tab_of(app)
    qloop.wait_until(lambda: listed(app, socket.visitor_id), what="visitor listed")
    assert tab.select_visitor(socket.visitor_id)
    assert tab.open_button.isEnabled()  # STANDARD allows proactive chat too
    tab.open_button.click()
    conversations = app.session.conversations
    qloop.wait_until(lambda: socket.visitor_id in conversations.dialogs, what="conversation opened")
    store = app.session.store
    qloop.wait_until(lambda: store.visitors[socket.visitor_id].in_chat, what="in chat")

    # A second conversation opens beside the first as another tab: several at once, none modal.
    other = visitor(qloop, live_server, tenant)
    qloop.wait_until(lambda: listed(app, other.visitor_id), what="second visitor listed")
    assert tab.select_visitor(other.visitor_id)
    tab.open_button.click()
    qloop.wait_until(lambda: other.visitor_id in conversations.dialogs, what="second conversation opened")
    assert conversations.tab_index(socket.visitor_id) > 0
    assert conversations.tab_index(other.visitor_id) > 0
    assert app.session.window.tabs.currentWidget() is conversations.dialogs[other.visitor_id]

    conversations.dialogs[socket.visitor_id].end_button.click()
    qloop.run(socket.wait_for(ChatClosed))
    qloop.wait_until(lambda: socket.visitor_id not in conversations.dialogs, what="tab closed")
    qloop.wait_until(lambda: not store.visitors[socket.visitor_id].in_chat, what="chat ended in the list")
    assert other.visitor_id in conversations.dialogs
    qloop.run(socket.ws.close())
    qloop.run(other.ws.close())


def test_status_bar_follows_the_connection(qloop: QLoop, make_app: AppFactory, live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    app = logged_in(qloop, make_app, live_server, tenant)
    assert app.session is not None
    label = app.session.window.connection_label
    qloop.wait_until(lambda: label.text() == "Online", what="online")
    live_server.server.stop()  # the server goes away under the app
    qloop.wait_until(lambda: "reconnecting" in label.text(), what="reconnecting shown")
