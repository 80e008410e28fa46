"""The bot editor against a real server: list, step forms, check, save, preview, import/export, FREE plan."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.net.bots import BotClient
from desktop.ui.bot_editor import BotEditor
from desktop.ui.detail import DetailPane
from desktop.ui.text import author_text
from protocol.bots.flow import BotRun
from protocol.messages import ChatMessage, Visitor
from protocol.rules import Plan
from tests.fixtures.server import LiveServer
from tests.gui.conftest import QLoop
from tests.gui.test_desktop_app import AppFactory, logged_in, make_app

__all__ = ["make_app"]

pytestmark = pytest.mark.gui


def editor_for(qloop: QLoop, qtbot: QtBot, live_server: LiveServer, plan: Plan = Plan.PRO) -> tuple[BotEditor, str]:
    tenant = live_server.create_account(plan)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    editor = BotEditor(BotClient(live_server.http_url, token), can_edit=plan is not Plan.FREE, reason="needs a plan")
    qtbot.addWidget(editor)
    editor.show()
    qloop.wait_until(editor.refresh().done)
    return editor, token


def stored_bots(live_server: LiveServer, token: str) -> list[dict[str, object]]:
    response = httpx.get(f"{live_server.http_url}/api/v1/bots/", headers={"Authorization": f"Bearer {token}"})
    result: list[dict[str, object]] = response.json()
    return result


def test_build_a_flow_with_the_forms_preview_it_and_save_it(
    qloop: QLoop, qtbot: QtBot, live_server: LiveServer
) -> None:
    editor, token = editor_for(qloop, qtbot, live_server)
    assert editor.flow_list.count() == 0
    editor.name_edit.setText("Night shift")
    # The blank flow: hello (message) -> handover. Insert a question between them.
    editor.add_step("question")
    form = editor.step_form
    assert form.kind_label.text() == "question"
    form.text_edit.setPlainText("Sales or support?")
    form.store_edit.setText("topic")
    form.replies_edit.setPlainText("Sales -> handover\nSupport")
    assert len(editor.check()) == 2
    problems = [editor.problem_list.item(i).text() for i in range(editor.problem_list.count())]
    assert "Step question: quick reply 'Support' leads nowhere; choose the step that follows" in problems
    assert "Step question: never reached from the start step 'hello'; link it or remove it" in problems

    form.replies_edit.setPlainText("Sales -> handover\nSupport -> handover")
    editor.step_list.setCurrentRow(0)  # leaving the step applies its form
    assert editor.step_form.id_edit.text() == "hello"
    editor.step_form.next_combo.setCurrentText("question")
    editor.step_list.setCurrentRow(1)
    editor.step_form.text_edit.setPlainText("Thanks! Connecting you about {topic}")
    assert editor.check() == []
    assert editor.status_label.text() == "No problems: the bot can be saved."

    editor.run_preview()
    pane = editor.preview_pane
    assert [b.text() for b in pane.reply_buttons] == ["Sales", "Support"]
    QTest.mouseClick(pane.reply_buttons[1], Qt.MouseButton.LeftButton)
    transcript = pane.transcript.toPlainText()
    assert "Bot: Sales or support?" in transcript
    assert "Visitor: Support" in transcript
    assert "· Thanks! Connecting you about Support" in transcript
    assert "Handed over" in transcript
    assert pane.reply_buttons == []
    assert not pane.answer_edit.isEnabled()

    qloop.run(editor.save())
    assert editor.status_label.text() == "Saved."
    saved = stored_bots(live_server, token)
    assert [b["spec"]["name"] for b in saved] == ["Night shift"]  # type: ignore[index]
    assert editor.flow_list.count() == 1
    assert editor.flow_id == saved[0]["id"]


def test_a_mistake_in_a_step_form_keeps_the_user_on_that_step(
    qloop: QLoop, qtbot: QtBot, live_server: LiveServer
) -> None:
    editor, token = editor_for(qloop, qtbot, live_server)
    editor.add_step("condition")
    editor.step_form.branches_edit.setPlainText("weather=sunny -> handover")
    editor.step_list.setCurrentRow(0)
    assert editor.step_list.currentRow() == 2, "the broken step stays selected"
    problems = [editor.problem_list.item(i).text() for i in range(editor.problem_list.count())]
    assert problems[0].startswith("Step condition: branch on line 1: 'weather=sunny' is not a condition")
    qloop.run(editor.save())
    assert stored_bots(live_server, token) == [], "nothing is saved while a form has a mistake"


def test_preview_asks_again_and_an_agent_can_take_over(qloop: QLoop, qtbot: QtBot, live_server: LiveServer) -> None:
    editor, _ = editor_for(qloop, qtbot, live_server)
    editor.add_step("ask")
    form = editor.step_form
    form.text_edit.setPlainText("Your e-mail?")
    form.store_edit.setText("email")
    form.expect_combo.setCurrentText("email")
    form.next_combo.setCurrentText("handover")
    editor.step_list.setCurrentRow(0)
    editor.step_form.next_combo.setCurrentText("ask")
    editor.run_preview()
    pane = editor.preview_pane
    QTest.keyClicks(pane.answer_edit, "not an address")
    QTest.keyClick(pane.answer_edit, Qt.Key.Key_Return)
    assert "That does not look like an e-mail address" in pane.transcript.toPlainText()
    QTest.mouseClick(pane.take_over_button, Qt.MouseButton.LeftButton)
    assert pane.transcript.toPlainText().endswith("An agent took over; the bot stopped.")
    assert not pane.answer_edit.isEnabled()


def test_export_and_import_a_file(qloop: QLoop, qtbot: QtBot, live_server: LiveServer, tmp_path: Path) -> None:
    editor, token = editor_for(qloop, qtbot, live_server)
    editor.name_edit.setText("Exported")
    path = tmp_path / "bot.json"
    qloop.run(editor.export_file(path))
    exported = json.loads(path.read_text())
    assert exported["format"] == "frontdesk-bot"
    assert exported["flow"]["name"] == "Exported"
    assert stored_bots(live_server, token) == [], "export writes a file, nothing else"

    qloop.run(editor.import_file(path))
    assert [b["spec"]["name"] for b in stored_bots(live_server, token)] == ["Exported"]  # type: ignore[index]
    assert editor.flow_list.count() == 1

    exported["flow"]["steps"] = []
    path.write_text(json.dumps(exported))
    task = editor._spawn(editor.import_file(path))
    qloop.wait_until(task.done)
    problems = [editor.problem_list.item(i).text() for i in range(editor.problem_list.count())]
    assert problems[0].startswith("the flow does not fit the schema")
    assert len(stored_bots(live_server, token)) == 1, "an invalid file adds nothing"


def test_a_free_account_sees_why_it_cannot_save(qloop: QLoop, qtbot: QtBot, live_server: LiveServer) -> None:
    editor, token = editor_for(qloop, qtbot, live_server, Plan.FREE)
    assert editor.banner.isVisible()
    assert editor.banner.text() == "needs a plan"
    assert not editor.save_button.isEnabled()
    assert editor.save_button.toolTip() == "needs a plan"
    # The server is the authority: a save that gets through anyway is refused with the reason.
    task = editor._spawn(editor.save())
    qloop.wait_until(task.done)
    assert editor.status_label.text().startswith("bots need the STANDARD or PRO plan")
    assert stored_bots(live_server, token) == []


def test_agents_see_the_bot_and_its_lines_in_the_details(qapp: QApplication) -> None:
    visitor = Visitor(
        id="visitor01", label="Ada", first_seen_at=0, visit_started_at=0, last_activity_at=0, name="Ada",
        custom={"topic": "Sales"}, bot=BotRun(flow_id=1, flow_name="Night desk", status="running"),
    )  # fmt: skip
    said = ChatMessage(id="bot-0001-0000", visitor_id="visitor01", author="bot", text="Hi!", sent_at=0,
                       agent_name="Night desk", replies=("Sales", "Support"))  # fmt: skip
    pane = DetailPane()
    pane.show_visitor(visitor, 0.0, [said])
    identity = pane.identity_label.text()
    assert "topic: Sales" in identity
    assert "Bot: Night desk (talking now)" in identity
    assert "Bot Night desk" in pane.chat.text()
    assert author_text(said, visitor) == "Bot Night desk"


def test_file_bots_opens_the_editor_and_mirrors_the_plan(
    qloop: QLoop, make_app: AppFactory, live_server: LiveServer
) -> None:
    tenant = live_server.create_account(Plan.FREE)
    app = logged_in(qloop, make_app, live_server, tenant)
    assert app.session is not None
    qloop.do(app.session.window.bots_action.trigger)
    editor = app.bot_editor
    assert editor is not None
    qloop.wait_until(lambda: editor.isVisible() and editor.pending == 0, what="the editor with the account's bots")
    assert not editor.save_button.isEnabled()
    assert editor.banner.text() == "Bots need the STANDARD or PRO plan; you can look, not change."
    editor.close()
