"""Two real agents' apps (AgentSession, real widgets) against a real server: alerts, take-over, auto-away, panel."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.core.clock import system_clock
from desktop.core.team import ChatBucket
from desktop.integration.idle import IdleProbe
from desktop.integration.resources import app_icon, state_icon
from desktop.session import AgentSession
from desktop.settings import Settings
from desktop.ui.legend import StateIconProvider
from desktop.ui.tray import Tray
from protocol.messages import AgentsOnline, Identify, VisitorChat
from protocol.rules import Plan
from tests.fixtures.clients import VisitorSocket, new_id
from tests.fixtures.server import DEFAULT_PASSWORD, LiveServer, Tenant
from tests.gui.conftest import QLoop
from tests.gui.recording import RecordingAdapter

pytestmark = pytest.mark.gui


@dataclass
class FakeIdle:
    """An idle source the test moves by hand (the real ones read the system)."""

    seconds: float = 0.0
    name: str = "test idle source"

    async def idle_seconds(self) -> float | None:
        return self.seconds

    async def close(self) -> None:
        pass


@dataclass
class Agent:
    session: AgentSession
    adapter: RecordingAdapter
    rings: list[int]


Start = Callable[..., Agent]


@pytest.fixture
def tenant(live_server: LiveServer) -> Tenant:
    tenant = live_server.create_account(Plan.PRO, name="Team shop")
    live_server.add_agent(tenant.account_id, "jonas@team.example", DEFAULT_PASSWORD, "Jonas")
    return tenant


@pytest.fixture
def start(qloop: QLoop, live_server: LiveServer, settings: Settings) -> Iterator[Start]:
    sessions: list[AgentSession] = []

    def make(email: str, *, idle: FakeIdle | None = None, tray: Tray | None = None) -> Agent:
        adapter = RecordingAdapter()
        rings: list[int] = []
        session = AgentSession(
            live_server.http_url,
            email,
            live_server.login(email, DEFAULT_PASSWORD),
            settings=settings,
            clock=system_clock,
            icons=StateIconProvider(state_icon),
            adapter=adapter,
            tray=tray,
            idle=IdleProbe(idle) if idle is not None else IdleProbe(None, "none in tests"),
        )
        session.alerts._ring = lambda: rings.append(1)  # count the sound instead of beeping
        sessions.append(session)
        session.start(show=False)
        qloop.wait_until(lambda: session.store.team.supported, what="the team from the server")
        return Agent(session, adapter, rings)

    yield make
    for session in sessions:
        qloop.run(session.close())


T = TypeVar("T")


def qloop_call(qloop: QLoop, fn: Callable[[], T]) -> T:
    """Call ``fn`` on the running loop (as a menu action does in the app) and return what it returns."""
    out: list[T] = []
    qloop.do(lambda: out.append(fn()))
    return out[0]


def waiting_of(tray: Tray) -> int:
    """Read through a call, so the type checker does not narrow it across the waits."""
    return tray.waiting


def blinking(tray: Tray) -> bool:
    """Read through a call (see ``waiting_of``)."""
    return tray.blinking


def status_of(agent: Agent) -> str:
    """Read through a call (see ``waiting_of``)."""
    return agent.session.status


async def drain(socket: VisitorSocket) -> None:
    """Read what the visitor's socket received until it is quiet for 0.3 s (kept in ``socket.events``)."""
    with contextlib.suppress(TimeoutError):
        while True:
            await socket.recv(0.3)


def waiting_visitor(qloop: QLoop, live_server: LiveServer, tenant: Tenant, text: str = "Hello?") -> VisitorSocket:
    socket = qloop.run(VisitorSocket.connect(live_server.visitor_url(tenant.account_key)))
    qloop.run(socket.send(VisitorChat(id=new_id(), text=text)))
    return socket


def test_a_waiting_chat_keeps_alerting_until_a_colleague_takes_it(
    qloop: QLoop, live_server: LiveServer, tenant: Tenant, settings: Settings, start: Start
) -> None:
    settings.alert_repeat_seconds = 1
    settings.sound = True
    tray = Tray(app_icon())
    anna = start(tenant.agent_email, tray=tray)
    jonas = start("jonas@team.example")
    socket = waiting_visitor(qloop, live_server, tenant, "Do you ship to Austria?")
    key = f"chat:{socket.visitor_id}"
    qloop.wait_until(lambda: key in anna.adapter.sticky, what="a notification that stays")
    title, body, _key = next(n for n in anna.adapter.shown if n[2] == key)
    assert title.startswith("Message from ")
    assert body == "Do you ship to Austria?"
    assert waiting_of(tray) == 1
    assert blinking(tray)
    qloop.wait_until(lambda: len(anna.rings) >= 3, what="the sound repeating")
    jonas.session.chats.show_bucket(ChatBucket.UNASSIGNED)
    qloop.wait_until(lambda: socket.visitor_id in jonas.session.chats.ids(), what="listed as unassigned")
    qloop.do(jonas.session.take_chat, socket.visitor_id)
    qloop.wait_until(lambda: key in anna.adapter.withdrawn, what="the notification withdrawn")
    qloop.wait_until(lambda: waiting_of(tray) == 0, what="the tray badge cleared")
    assert not blinking(tray)
    rang = len(anna.rings)
    qloop.spin(2.5)
    assert len(anna.rings) == rang  # silent once a colleague has it
    qloop.wait_until(lambda: socket.visitor_id in jonas.session.conversations.dialogs, what="Jonas's conversation")
    qloop.run(socket.ws.close())


def test_take_over_is_asked_first_and_the_colleague_is_told(
    qloop: QLoop, live_server: LiveServer, tenant: Tenant, start: Start
) -> None:
    anna = start(tenant.agent_email)
    jonas = start("jonas@team.example")
    socket = waiting_visitor(qloop, live_server, tenant)
    qloop.wait_until(lambda: socket.visitor_id in anna.session.store.visitors, what="listed")
    qloop.do(anna.session.take_chat, socket.visitor_id)
    store = jonas.session.store
    qloop.wait_until(
        # .get: Jonas's store may not list the visitor yet (Anna's did); a KeyError would end the wait.
        lambda: getattr(store.visitors.get(socket.visitor_id), "chat_agent_id", None) == anna.session.me,
        what="Anna holds the chat",
    )
    # Jonas sees who holds it in his Chats panel, and opening asks before taking over.
    jonas.session.chats.show_bucket(ChatBucket.ALL_OPEN)
    qloop.wait_until(lambda: socket.visitor_id in jonas.session.chats.ids(), what="in Jonas's Chats panel")
    qloop.do(jonas.session.request_conversation, store.visitors[socket.visitor_id])
    qloop.wait_until(lambda: _question(jonas.session) is not None, what="the take-over question")
    question = _question(jonas.session)
    assert question is not None
    anna_name = anna.session.hello.agent.name  # type: ignore[union-attr]
    assert question.text() == f"{anna_name} is chatting with this visitor. Take over?"
    qloop.do(question.button(QMessageBox.StandardButton.Yes).click)
    qloop.wait_until(lambda: socket.visitor_id in jonas.session.conversations.dialogs, what="Jonas's conversation")
    qloop.wait_until(
        lambda: any("took over your chat" in body for _t, body, _k in anna.adapter.shown), what="Anna is told"
    )
    qloop.wait_until(
        lambda: anna.session.store.visitors[socket.visitor_id].chat_agent_id == jonas.session.me,
        what="the record follows",
    )
    qloop.run(socket.ws.close())


def _question(session: AgentSession) -> QMessageBox | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible() and widget.parent() is session.window:
            return widget
    return None


def test_auto_away_from_the_idle_time_changes_what_visitors_are_told(
    qloop: QLoop, live_server: LiveServer, tenant: Tenant, settings: Settings, start: Start
) -> None:
    settings.auto_away_minutes = 5
    idle = FakeIdle(seconds=3)
    anna = start(tenant.agent_email, idle=idle)
    socket = qloop.run(VisitorSocket.connect(live_server.visitor_url(tenant.account_key)))
    assert socket.welcome.agents_online is True
    idle.seconds = 301  # five minutes without input
    qloop.do(anna.session.poll_idle)
    qloop.wait_until(lambda: anna.session.status == "away", what="auto-away")
    assert anna.session.status_box.currentText() == "Away (idle)"
    assert qloop.run(socket.wait_for(AgentsOnline)).online is False
    qloop.wait_until(
        lambda: anna.session.store.team.members[anna.session.me].status == "away",  # type: ignore[index]
        what="colleagues see Away",
    )
    idle.seconds = 0.5  # the agent is back
    qloop.do(anna.session.poll_idle)
    assert qloop.run(socket.wait_for(AgentsOnline)).online is True
    assert status_of(anna) == "online"
    # A manual Away is never undone by input.
    qloop.do(anna.session.choose_status, "away")
    assert qloop.run(socket.wait_for(AgentsOnline)).online is False
    qloop.do(anna.session.poll_idle)
    qloop.spin(0.5)
    assert status_of(anna) == "away"
    assert settings.status == "away"
    # Auto-away switched off in the settings: applies at once, idle time no longer changes the status.
    qloop.do(anna.session.choose_status, "online")
    assert qloop.run(socket.wait_for(AgentsOnline)).online is True
    settings.auto_away_minutes = 0
    qloop.do(anna.session.settings_changed)
    idle.seconds = 100_000
    qloop.do(anna.session.poll_idle)
    qloop.spin(0.5)
    assert status_of(anna) == "online"
    qloop.run(socket.ws.close())


def test_presence_of_a_colleague_shows_beside_the_list(
    qloop: QLoop, live_server: LiveServer, tenant: Tenant, start: Start
) -> None:
    anna = start(tenant.agent_email)
    jonas = start("jonas@team.example")
    socket = qloop.run(VisitorSocket.connect(live_server.visitor_url(tenant.account_key)))
    for session in (anna.session, jonas.session):
        qloop.wait_until(lambda s=session: s.model.row_of(socket.visitor_id) >= 0, what="listed")  # type: ignore[misc]
    # Selecting happens on the running loop, as a click does in the app.
    qloop.wait_until(lambda: anna.session.model.row_of(socket.visitor_id) >= 0, what="listed")
    qloop.do(anna.session.window.visitors.select_visitor, socket.visitor_id)
    qloop.do(jonas.session.window.visitors.select_visitor, socket.visitor_id)
    anna_name = anna.session.hello.agent.name  # type: ignore[union-attr]
    qloop.wait_until(
        lambda: jonas.session.chats.presence_label.text() == f"{anna_name} is viewing", what="Anna is viewing"
    )
    assert jonas.session.presence_line(socket.visitor_id) == f"{anna_name} is viewing"
    qloop.run(socket.ws.close())


def test_canned_responses_notes_and_transfer_from_the_app(
    qloop: QLoop, qtbot: QtBot, live_server: LiveServer, tenant: Tenant, start: Start
) -> None:
    anna = start(tenant.agent_email)
    jonas = start("jonas@team.example")
    # An admin adds a canned response in the app; every agent gets it.
    canned = qloop_call(qloop, anna.session.show_canned)
    canned.shortcut_edit.setText("shipping")
    canned.text_edit.setPlainText("Hi {visitor_name}, we ship in 3 days. - {agent_name}")
    qloop.do(canned.save_button.click)
    qloop.wait_until(lambda: [c.shortcut for c in jonas.session.store.team.canned] == ["shipping"], what="pushed")
    canned.close()

    socket = qloop.run(VisitorSocket.connect(live_server.visitor_url(tenant.account_key)))
    qloop.run(socket.send(Identify(name="Ada")))
    qloop.run(socket.send(VisitorChat(id=new_id(), text="When do you ship?")))
    qloop.wait_until(
        lambda: getattr(anna.session.store.visitors.get(socket.visitor_id), "name", None) == "Ada", what="Ada"
    )
    qloop.do(anna.session.take_chat, socket.visitor_id)
    qloop.wait_until(lambda: socket.visitor_id in anna.session.conversations.dialogs, what="conversation")
    dialog = anna.session.conversations.dialogs[socket.visitor_id]
    picker = anna.session.pickers[socket.visitor_id]
    qloop.do(dialog.input.setPlainText, "/sh")
    assert picker.shown == ["shipping"]
    qloop.do(QTest.keyClick, dialog.input, Qt.Key.Key_Return)  # inserts, does not send "/sh"
    anna_name = anna.session.hello.agent.name  # type: ignore[union-attr]
    assert dialog.input.toPlainText() == f"Hi Ada, we ship in 3 days. - {anna_name}"
    assert picker.shown == []

    # A note, seen by the colleague, never by the visitor.
    qloop.wait_until(lambda: anna.session.model.row_of(socket.visitor_id) >= 0, what="listed")
    qloop.do(anna.session.window.visitors.select_visitor, socket.visitor_id)
    notes = qloop_call(qloop, anna.session.show_notes)
    assert notes is not None
    notes.edit.setText("Asked about order A-1042 yesterday")
    qloop.do(notes.add_button.click)
    qloop.wait_until(lambda: notes.texts() == [f"{anna_name}: Asked about order A-1042 yesterday"], what="shown")
    qloop.wait_until(lambda: jonas.session.store.team.notes_for(socket.visitor_id), what="the colleague has it")

    # Transfer to Jonas with a note: he is alerted and holds the chat.
    qloop.wait_until(lambda: anna.session.store.team.online_colleagues(anna.session.me), what="Jonas Online")
    transfer = qloop_call(qloop, anna.session.show_transfer)
    assert transfer is not None
    assert transfer.colleague_combo.currentText() == "Jonas"
    transfer.note_edit.setText("Wants express shipping")
    qloop.do(transfer.buttons.button(QDialogButtonBox.StandardButton.Ok).click)
    key = f"chat:{socket.visitor_id}"
    qloop.wait_until(lambda: key in jonas.adapter.sticky, what="Jonas alerted")
    title, body, _key = next(n for n in jonas.adapter.shown if n[2] == key and "handed" in n[0])
    assert title == f"{anna_name} handed you the chat with Ada"
    assert body == "Wants express shipping"
    qloop.wait_until(
        lambda: jonas.session.store.visitors[socket.visitor_id].chat_agent_id == jonas.session.me, what="his now"
    )
    qloop.run(drain(socket))
    assert [e for e in socket.events if "A-1042" in repr(e)] == []
    qloop.run(socket.ws.close())
