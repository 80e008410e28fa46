"""Conversations as tabs of the main window (real AgentSession, real server): open once, pop out, close."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QListWidgetItem

from desktop.core.clock import system_clock
from desktop.core.filters import VisitorFilter
from desktop.core.team import ChatBucket
from desktop.integration.i18n import install_translators
from desktop.integration.idle import IdleProbe
from desktop.integration.resources import state_icon
from desktop.session import AgentSession
from desktop.settings import Settings
from desktop.ui.chats_panel import VISITOR_ROLE
from desktop.ui.conversation import ConversationDialog
from desktop.ui.legend import StateIconProvider
from protocol.messages import ChatClosed, Identify, VisitorChat
from protocol.rules import Plan
from tests.fixtures.clients import VisitorSocket, new_id
from tests.fixtures.server import DEFAULT_PASSWORD, LiveServer
from tests.gui.conftest import QLoop

pytestmark = pytest.mark.gui

NAME = "Ada <b>&</b> Co"
"""Markup and an ampersand: the tab shows them as typed (no bold, no mnemonic)."""
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def session(qloop: QLoop, live_server: LiveServer, settings: Settings) -> Iterator[AgentSession]:
    tenant = live_server.create_account(Plan.PRO, name="Tab shop")
    s = AgentSession(
        live_server.http_url,
        tenant.agent_email,
        live_server.login(tenant.agent_email, DEFAULT_PASSWORD),
        settings=settings,
        clock=system_clock,
        icons=StateIconProvider(state_icon),
        adapter=None,
        idle=IdleProbe(None, "none in tests"),
    )
    s.setProperty("account_key", tenant.account_key)
    s.start(show=True)
    qloop.wait_until(lambda: s.store.team.supported, what="the team from the server")
    yield s
    qloop.run(s.close())


def panel_item(session: AgentSession, visitor_id: str) -> QListWidgetItem:
    """The Chats panel's row for a visitor."""
    rows = session.chats.list
    return next(rows.item(i) for i in range(rows.count()) if rows.item(i).data(VISITOR_ROLE) == visitor_id)


def activate_in_panel(qloop: QLoop, session: AgentSession, visitor_id: str) -> None:
    """Enter on a visitor's row of the Chats panel.

    The row is looked up while the loop runs: a batch applied before the call may rebuild the list, and
    an item taken earlier would be gone by then.
    """
    qloop.do(lambda: session.chats.list.itemActivated.emit(panel_item(session, visitor_id)))


def tab_text(session: AgentSession, visitor_id: str) -> str:
    """The conversation's tab label ("" when it is not a tab)."""
    index = session.conversations.tab_index(visitor_id)
    return session.window.tabs.tabText(index) if index >= 0 else ""


def test_a_chat_opens_as_one_tab_pops_out_and_back_and_closing_it_keeps_the_chat(
    qloop: QLoop, live_server: LiveServer, session: AgentSession, settings: Settings
) -> None:
    key = str(session.property("account_key"))
    socket = qloop.run(VisitorSocket.connect(live_server.visitor_url(key)))
    qloop.run(socket.send(Identify(name=NAME)))
    qloop.run(socket.send(VisitorChat(id=new_id(), text="Hello?")))
    vid = socket.visitor_id
    session.chats.show_bucket(ChatBucket.UNASSIGNED)
    qloop.wait_until(lambda: vid in session.chats.ids(), what="listed as unassigned")
    qloop.wait_until(lambda: session.store.visitors[vid].name == NAME, what="the name")
    tabs = session.window.tabs
    conversations = session.conversations

    # Opening from the panel answers the chat and opens it as a tab beside the Visitors tab.
    status = session.window.statusBar()
    lines: list[str] = []
    status.messageChanged.connect(lines.append)
    activate_in_panel(qloop, session, vid)
    qloop.wait_until(lambda: vid in conversations.dialogs, what="conversation opened")
    dialog = conversations.dialogs[vid]
    assert conversations.tab_index(vid) == 1
    assert lines[0] == f"Opening the conversation with {NAME}…"
    assert status.currentMessage() == ""  # the action finished: the line does not linger beside the tab
    status.messageChanged.disconnect(lines.append)
    assert tabs.currentWidget() is dialog
    qloop.wait_until(lambda: session.store.visitors[vid].chat_agent_id == session.me, what="held by me")
    qloop.wait_until(lambda: tab_text(session, vid) == "Ada <b>&&</b> Co", what="read: plain name, no marker")

    # The canned-response picker works in the tab, and its Esc closes the list, not the tab.
    canned = session.show_canned()
    canned.shortcut_edit.setText("shipping")
    canned.text_edit.setPlainText("Hi {visitor_name}, we ship in 3 days.")
    qloop.do(canned.save_button.click)
    qloop.wait_until(lambda: [c.shortcut for c in session.store.team.canned] == ["shipping"], what="saved")
    canned.close()
    picker = session.pickers[vid]
    qloop.do(dialog.input.setPlainText, "/sh")
    assert picker.shown == ["shipping"]
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_Escape)
    assert picker.shown == []
    assert conversations.tab_index(vid) == 1
    qloop.do(dialog.input.setPlainText, "/sh")
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_Return)
    assert dialog.input.toPlainText() == f"Hi {NAME}, we ship in 3 days."
    qloop.do(dialog.input.clear)

    # Ctrl+Tab and Ctrl+PgDown switch tabs from the keyboard.
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentWidget() is session.window.visitors
    qloop.do(QTest.keyClick, session.window.visitors.table, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentWidget() is dialog

    # A message while the Visitors tab is in front: the tab is marked unread; looking at it reads it.
    qloop.do(tabs.setCurrentWidget, session.window.visitors)
    qloop.run(socket.send(VisitorChat(id=new_id(), text="Still there?")))
    qloop.wait_until(lambda: tab_text(session, vid).startswith("● "), what="unread marker")
    assert tab_text(session, vid).endswith("(1)")

    # Selecting the chat again (now under My chats) focuses the same tab: never shown twice.
    session.chats.show_bucket(ChatBucket.MINE)
    qloop.wait_until(lambda: vid in session.chats.ids(), what="listed as mine")
    activate_in_panel(qloop, session, vid)
    qloop.wait_until(lambda: tabs.currentWidget() is dialog, what="the same tab in front")
    assert conversations.dialogs == {vid: dialog}
    assert tabs.count() == 2
    qloop.wait_until(lambda: session.store.visitors[vid].unread == 0, what="read once in front")
    qloop.wait_until(lambda: not tab_text(session, vid).startswith("● "), what="marker gone")

    # Pop out into a window of its own, and back into a tab.
    qloop.do(dialog.pop_button.click)
    assert dialog.isWindow()
    assert dialog.isVisible()
    assert conversations.tab_index(vid) == -1
    assert tabs.count() == 1
    assert dialog.windowTitle() == f"Conversation with {NAME}"
    activate_in_panel(qloop, session, vid)
    assert conversations.dialogs == {vid: dialog}
    assert dialog.isWindow()
    qloop.do(dialog.pop_button.click)
    assert not dialog.isWindow()
    assert tabs.currentWidget() is dialog
    assert "Still there?" in dialog.message_texts()[-1]

    # Closing the tab closes the view only: the chat stays open and held.
    qloop.do(tabs.tabCloseRequested.emit, conversations.tab_index(vid))
    qloop.wait_until(lambda: vid not in conversations.dialogs, what="tab closed")
    assert tabs.count() == 1
    with contextlib.suppress(TimeoutError):
        while True:
            qloop.run(socket.recv(0.5))
    assert not [e for e in socket.events if isinstance(e, ChatClosed)]
    visitor = session.store.visitors[vid]
    assert visitor.chat_status == "active"
    assert visitor.chat_agent_id == session.me

    # With the setting off, a conversation opens in a window of its own.
    settings.conversations_in_tabs = False
    session.settings_changed()
    activate_in_panel(qloop, session, vid)
    qloop.wait_until(lambda: vid in conversations.dialogs, what="opened again")
    assert conversations.dialogs[vid].isWindow()
    assert tabs.count() == 1
    qloop.run(socket.ws.close())


def activate(qloop: QLoop, session: AgentSession) -> None:
    """The main window in front with the keyboard (shortcuts work only in the active window)."""
    window = session.window

    def active() -> bool:
        if not window.isActiveWindow():
            window.activateWindow()  # again once the window is mapped (Xvfb has no window manager to do it)
        return window.isActiveWindow()

    qloop.wait_until(active, what="the window active")


def test_alt_numbers_switch_the_chat_lists_in_the_panel_and_the_filters_in_the_visitors_tab(
    qloop: QLoop, session: AgentSession
) -> None:
    panel, tab = session.chats, session.window.visitors

    def filter_now() -> VisitorFilter:
        return tab.model.current_filter

    def bucket_now() -> ChatBucket:
        return panel.bucket

    activate(qloop, session)
    assert bucket_now() is ChatBucket.MINE
    assert filter_now() is VisitorFilter.ALL
    qloop.do(panel.focus_list)  # Ctrl+Shift+C
    for key, bucket in ((Qt.Key.Key_2, ChatBucket.UNASSIGNED), (Qt.Key.Key_3, ChatBucket.ALL_OPEN)):
        qloop.do(QTest.keyClick, panel.list, key, Qt.KeyboardModifier.AltModifier)
        assert bucket_now() is bucket
        assert panel.buttons[bucket].isChecked()
    assert filter_now() is VisitorFilter.ALL, "the visitor filter stays where it was"
    assert panel.buttons[ChatBucket.MINE].toolTip().endswith("(Alt+1)")

    # In the Visitors tab the same keys choose the visitor filters; the chat list stays.
    qloop.do(tab.table.setFocus)
    qloop.do(QTest.keyClick, tab.table, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert filter_now() is VisitorFilter.ACTIVE
    assert bucket_now() is ChatBucket.ALL_OPEN
    qloop.do(panel.list.setFocus)
    qloop.do(QTest.keyClick, panel.list, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert bucket_now() is ChatBucket.MINE
    assert filter_now() is VisitorFilter.ACTIVE


def test_ctrl_w_closes_the_conversation_tab_in_front_and_ctrl_shift_w_the_window(
    qloop: QLoop, live_server: LiveServer, session: AgentSession
) -> None:
    key = str(session.property("account_key"))
    socket = qloop.run(VisitorSocket.connect(live_server.visitor_url(key)))
    qloop.run(socket.send(VisitorChat(id=new_id(), text="Hello?")))
    vid = socket.visitor_id
    window, tabs, conversations = session.window, session.window.tabs, session.conversations
    assert not window.close_tab_action.isEnabled()  # the Visitors tab is in front: nothing to close but the window
    assert window.close_action.shortcut().toString() == "Ctrl+W"
    session.chats.show_bucket(ChatBucket.ALL_OPEN)  # listed there before and after the first open

    def open_chat() -> ConversationDialog:
        qloop.wait_until(lambda: vid in session.chats.ids(), what="listed as open")
        activate_in_panel(qloop, session, vid)
        qloop.wait_until(lambda: vid in conversations.dialogs, what="conversation opened")
        return conversations.dialogs[vid]

    dialog = open_chat()
    activate(qloop, session)
    assert tabs.currentWidget() is dialog
    # The menu says what the keys do now.
    assert window.close_tab_action.isEnabled()
    assert window.close_tab_action.shortcut().toString() == "Ctrl+W"
    assert window.close_action.shortcut().toString() == "Ctrl+Shift+W"

    # Ctrl+W closes the conversation tab in front; the window stays and the chat goes on.
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qloop.wait_until(lambda: vid not in conversations.dialogs, what="tab closed")
    assert window.isVisible()
    assert tabs.count() == 1
    assert tabs.currentWidget() is window.visitors
    assert session.store.visitors[vid].chat_status == "active"
    assert not window.close_tab_action.isEnabled()
    assert window.close_action.shortcut().toString() == "Ctrl+W"

    # A conversation popped out into a window of its own closes with Ctrl+W too.
    dialog = open_chat()
    qloop.do(dialog.pop_button.click)
    assert dialog.isWindow()
    qloop.wait_until(dialog.isActiveWindow, what="the conversation window active")
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qloop.wait_until(lambda: vid not in conversations.dialogs, what="conversation window closed")
    assert window.isVisible()

    # Ctrl+Shift+W closes the window (to the tray) and leaves the tab.
    dialog = open_chat()
    assert conversations.tab_index(vid) == 1
    activate(qloop, session)
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_W, CTRL_SHIFT)
    assert not window.isVisible()
    assert conversations.tab_index(vid) == 1
    qloop.run(socket.ws.close())


def test_ctrl_w_on_the_visitors_tab_closes_the_window(qloop: QLoop, session: AgentSession) -> None:
    window = session.window
    activate(qloop, session)
    qloop.do(window.visitors.table.setFocus)
    qloop.do(QTest.keyClick, window.visitors.table, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


@pytest.mark.parametrize(
    ("language", "close_tab", "close_window"),
    [
        ("en", "Close &tab", "&Close window"),
        ("de", "&Tab schließen", "Fenster &schließen"),
    ],
)
def test_the_close_entries_of_the_file_menu_are_translated(
    qloop: QLoop, session: AgentSession, language: str, close_tab: str, close_window: str
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    locale = QLocale()
    install_translators(app, language)
    try:
        app.processEvents()
        assert session.window.close_tab_action.text() == close_tab
        assert session.window.close_action.text() == close_window
    finally:
        install_translators(app, "en")
        QLocale.setDefault(locale)
