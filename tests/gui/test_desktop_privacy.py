"""The desktop app mirrors roles and privacy against a real server: export, erasure, retention, session-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from protocol.messages import Banned, VisitorChat
from protocol.rules import Plan
from tests.fixtures.clients import VisitorSocket, new_id
from tests.fixtures.server import DEFAULT_PASSWORD, LiveServer, Tenant
from tests.gui.conftest import QLoop
from tests.gui.test_desktop_app import AppFactory, identify, listed, logged_in, make_app, tab_of, visitor

__all__ = ["make_app"]

pytestmark = pytest.mark.gui


def test_a_plain_agent_sees_why_export_and_erasure_are_unavailable(
    qloop: QLoop, make_app: AppFactory, live_server: LiveServer
) -> None:
    tenant = live_server.create_account(Plan.PRO)
    email = f"plain-{new_id()}@example.com"
    live_server.add_agent(tenant.account_id, email, DEFAULT_PASSWORD)
    socket = visitor(qloop, live_server, tenant)
    plain = Tenant(**{**tenant.__dict__, "agent_email": email})
    app = logged_in(qloop, make_app, live_server, plain)
    tab = tab_of(app)
    qloop.wait_until(lambda: listed(app, socket.visitor_id), what="visitor listed")
    assert tab.select_visitor(socket.visitor_id)
    for action in (tab.export_action, tab.erase_action):
        assert not action.isEnabled()
        assert "Only an admin" in action.toolTip()
    qloop.run(socket.ws.close())


def test_an_admin_exports_then_erases_a_visitor_after_confirming(
    qloop: QLoop, make_app: AppFactory, live_server: LiveServer, tmp_path: Path
) -> None:
    tenant = live_server.create_account(Plan.PRO)
    socket = visitor(qloop, live_server, tenant)
    identify(qloop, socket, "Grace Hopper", "grace@example.com")
    qloop.run(socket.send(VisitorChat(id=new_id("m"), text="about my order")))
    app = logged_in(qloop, make_app, live_server, tenant)
    assert app.session is not None
    store = app.session.store
    tab = tab_of(app)
    qloop.wait_until(
        lambda: getattr(store.visitors.get(socket.visitor_id), "name", None) == "Grace Hopper", what="named"
    )
    qloop.wait_until(lambda: listed(app, socket.visitor_id), what="visitor listed")
    assert tab.select_visitor(socket.visitor_id)
    assert tab.export_action.isEnabled()

    tab.export_action.trigger()
    target = tmp_path / "grace.json"
    tab.export_dialog.fileSelected.emit(str(target))
    tab.export_dialog.close()
    qloop.wait_until(target.exists, what="export written")
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert [m["text"] for m in exported["stored"]["messages"]] == ["about my order"]

    tab.erase_action.trigger()
    tab.erase_box.button(QMessageBox.StandardButton.Cancel).click()
    qloop.spin(0.3)  # nothing to await: cancelling must send nothing
    assert store.visitors[socket.visitor_id].name == "Grace Hopper"
    tab.erase_action.trigger()
    tab.erase_box.button(QMessageBox.StandardButton.Yes).click()
    qloop.wait_until(lambda: store.visitors[socket.visitor_id].name is None, what="the visitor became anonymous")
    assert store.visitors[socket.visitor_id].custom == {}

    # Help > About this account shows how long data is kept.
    window = app.session.window
    qloop.run(app.show_account())
    assert "chat messages: 365 days" in window.account_box.text()
    window.account_box.close()
    qloop.run(socket.ws.close())


def test_a_ban_can_cover_the_visitors_address(qloop: QLoop, make_app: AppFactory, live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)
    socket = visitor(qloop, live_server, tenant)
    app = logged_in(qloop, make_app, live_server, tenant)
    tab = tab_of(app)
    qloop.wait_until(lambda: listed(app, socket.visitor_id), what="visitor listed")
    assert tab.select_visitor(socket.visitor_id)
    tab.ban_button.click()
    cover = tab.ban_box.checkBox()
    assert cover is not None
    assert cover.isEnabled()
    cover.setChecked(True)
    tab.ban_box.button(QMessageBox.StandardButton.Yes).click()
    qloop.run(socket.wait_for(Banned))
    # A fresh browser from the same address (no stored id) is refused too.
    with pytest.raises(ConnectionRefusedError):
        qloop.run(VisitorSocket.connect(live_server.visitor_url(tenant.account_key)))
