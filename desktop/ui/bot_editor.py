"""The bot editor for admins: a list of flows, a form per step, JSON import/export and a preview."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import msgspec
import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.bots import (
    STEP_KINDS,
    BotBackend,
    BotBackendError,
    FormError,
    Preview,
    blank_flow,
    format_branches,
    format_conditions,
    format_replies,
    new_step,
    parse_branches,
    parse_conditions,
    parse_replies,
    step_kind,
    unique_step_id,
)
from protocol.bots.engine import Facts
from protocol.bots.flow import (
    Ask,
    Check,
    Choose,
    Flow,
    FlowExport,
    FlowSpec,
    Problem,
    Step,
    Trigger,
)
from protocol.bots.validate import problems

log = logging.getLogger(__name__)
_USER_ROLE = Qt.ItemDataRole.UserRole
_TRIGGERS = ("chat_opened_offline", "first_message", "rule")
_EXPECT = ("text", "email", "phone")


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class StepForm(QWidget):
    """The fields of one step; which rows show depends on the step's kind."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.id_edit = QLineEdit()
        self.id_edit.setMaxLength(40)
        self.kind_label = _plain_label()
        self.text_edit = QPlainTextEdit()
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setPlaceholderText(self.tr("What the bot says; {variable} inserts an answer"))
        self.next_combo = QComboBox()
        self.next_combo.setEditable(True)
        self.store_edit = QLineEdit()
        self.store_edit.setPlaceholderText(self.tr("name, email, phone or your own variable"))
        self.expect_combo = QComboBox()
        self.expect_combo.addItems(_EXPECT)
        self.retry_edit = QLineEdit()
        self.retry_edit.setPlaceholderText(self.tr("Asked again when the answer does not fit"))
        self.replies_edit = QPlainTextEdit()
        self.replies_edit.setTabChangesFocus(True)
        self.replies_edit.setPlaceholderText(self.tr("One quick reply a line: Label -> next step"))
        self.branches_edit = QPlainTextEdit()
        self.branches_edit.setTabChangesFocus(True)
        self.branches_edit.setPlaceholderText(self.tr("One branch a line: agents_online=yes; page_contains=/x -> step"))
        self.otherwise_combo = QComboBox()
        self.otherwise_combo.setEditable(True)
        self.form = QFormLayout(self)
        self.form.addRow(self.tr("Kind:"), self.kind_label)
        self.form.addRow(self.tr("Step &id:"), self.id_edit)
        self.form.addRow(self.tr("&Text:"), self.text_edit)
        self.form.addRow(self.tr("&Quick replies:"), self.replies_edit)
        self.form.addRow(self.tr("&Branches:"), self.branches_edit)
        self.form.addRow(self.tr("&Otherwise:"), self.otherwise_combo)
        self.form.addRow(self.tr("&Store answer in:"), self.store_edit)
        self.form.addRow(self.tr("&Expect:"), self.expect_combo)
        self.form.addRow(self.tr("&Retry text:"), self.retry_edit)
        self.form.addRow(self.tr("&Next step:"), self.next_combo)
        self._kind = "message"

    def _show(self, widget: QWidget, visible: bool) -> None:
        self.form.setRowVisible(widget, visible)

    def load(self, step: Step, step_ids: list[str]) -> None:
        """Show ``step``; ``step_ids`` fill the next-step choices."""
        self._kind = step_kind(step)
        self.kind_label.setText(self._kind)
        self.id_edit.setText(step.id)
        for combo in (self.next_combo, self.otherwise_combo):
            combo.clear()
            combo.addItem("")
            combo.addItems(step_ids)
        text = getattr(step, "text", None) or ""
        self.text_edit.setPlainText(text)
        self.next_combo.setCurrentText(getattr(step, "next", None) or "")
        self.store_edit.setText(getattr(step, "store", None) or "")
        self.expect_combo.setCurrentText(step.expect if isinstance(step, Ask) else "text")
        self.retry_edit.setText(step.retry_text or "" if isinstance(step, Ask) else "")
        self.replies_edit.setPlainText(format_replies(step.replies) if isinstance(step, Choose) else "")
        self.branches_edit.setPlainText(format_branches(step.branches) if isinstance(step, Check) else "")
        self.otherwise_combo.setCurrentText(step.otherwise or "" if isinstance(step, Check) else "")
        kind = self._kind
        self._show(self.text_edit, kind != "condition")
        self._show(self.replies_edit, kind == "question")
        self._show(self.branches_edit, kind == "condition")
        self._show(self.otherwise_combo, kind == "condition")
        self._show(self.store_edit, kind in ("question", "ask"))
        self._show(self.expect_combo, kind == "ask")
        self._show(self.retry_edit, kind == "ask")
        self._show(self.next_combo, kind in ("message", "ask"))

    def read(self) -> Step:
        """The step as the form shows it; raises FormError with what to change."""
        kind = self._kind
        body: dict[str, Any] = {"kind": kind, "id": self.id_edit.text().strip()}
        text = self.text_edit.toPlainText().strip()
        if kind in ("message", "question", "ask") or (kind in ("hand_over", "close") and text):
            body["text"] = text
        if kind in ("message", "ask"):
            body["next"] = self.next_combo.currentText().strip() or None
        if kind in ("question", "ask"):
            body["store"] = self.store_edit.text().strip() or None
        if kind == "ask":
            body["expect"] = self.expect_combo.currentText()
            body["retry_text"] = self.retry_edit.text().strip() or None
        if kind == "question":
            body["replies"] = msgspec.to_builtins(parse_replies(self.replies_edit.toPlainText()))
        if kind == "condition":
            body["branches"] = msgspec.to_builtins(parse_branches(self.branches_edit.toPlainText()))
            body["otherwise"] = self.otherwise_combo.currentText().strip() or None
        try:
            step: Step = msgspec.convert(body, Step)
            return step
        except msgspec.ValidationError as exc:
            raise FormError(f"the step is not valid: {exc}") from None


class PreviewPane(QGroupBox):
    """Runs the flow being edited with the pure engine: a transcript, quick-reply buttons and an answer box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Preview"))
        self.preview: Preview | None = None
        self.transcript = QPlainTextEdit()
        self.transcript.setReadOnly(True)
        self.transcript.setAccessibleName(self.tr("Preview transcript"))
        self.replies_box = QHBoxLayout()
        self.answer_edit = QLineEdit()
        self.answer_edit.setPlaceholderText(self.tr("Answer as the visitor and press Enter"))
        self.answer_edit.returnPressed.connect(self._answer)
        self.page_edit = QLineEdit("https://shop.example/")
        self.page_edit.setAccessibleName(self.tr("Page of the previewed visitor"))
        self.online_check = QCheckBox(self.tr("Agents online"))
        self.returning_check = QCheckBox(self.tr("Returning"))
        self.customer_check = QCheckBox(self.tr("Customer"))
        self.restart_button = QPushButton(self.tr("&Run from the start"))
        self.take_over_button = QPushButton(self.tr("Take o&ver"))
        self.take_over_button.clicked.connect(self._take_over)
        facts = QHBoxLayout()
        facts.addWidget(self.page_edit, 1)
        for check in (self.online_check, self.returning_check, self.customer_check):
            facts.addWidget(check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restart_button)
        buttons.addWidget(self.take_over_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(facts)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(self.replies_box)
        layout.addWidget(self.answer_edit)
        layout.addLayout(buttons)
        self.reply_buttons: list[QPushButton] = []

    def facts(self) -> Facts:
        """The visitor the preview pretends to be."""
        return Facts(
            page_url=self.page_edit.text(),
            agents_online=self.online_check.isChecked(),
            returning=self.returning_check.isChecked(),
            customer=self.customer_check.isChecked(),
        )

    def run(self, spec: FlowSpec) -> None:
        """Start ``spec`` from its start step."""
        self.preview = Preview(spec, facts=self.facts())
        self.preview.begin()
        self._render()

    def _answer(self) -> None:
        text = self.answer_edit.text().strip()
        if self.preview is None or not text:
            return
        self.answer_edit.clear()
        self.preview.facts = self.facts()
        self.preview.answer(text)
        self._render()

    def choose(self, index: int) -> None:
        """Press the quick reply at ``index``."""
        if self.preview is not None:
            self.preview.facts = self.facts()
            self.preview.choose(index)
            self._render()

    def _take_over(self) -> None:
        if self.preview is not None and self.preview.running:
            self.preview.take_over()
            self._render()

    def _render(self) -> None:
        assert self.preview is not None
        who = {"bot": self.tr("Bot") + ": ", "visitor": self.tr("Visitor") + ": ", "system": "· "}
        self.transcript.setPlainText("\n".join(who[line.author] + line.text for line in self.preview.lines))
        for button in self.reply_buttons:
            self.replies_box.removeWidget(button)
            button.deleteLater()
        self.reply_buttons = []
        for index, label in enumerate(self.preview.replies):
            # QPushButton shows its text as plain text; a mnemonic '&' in a label is escaped.
            button = QPushButton(label.replace("&", "&&"))
            button.clicked.connect(lambda _=False, i=index: self.choose(i))
            self.replies_box.addWidget(button)
            self.reply_buttons.append(button)
        running = self.preview.running
        self.answer_edit.setEnabled(running)
        self.take_over_button.setEnabled(running)


class BotEditor(QDialog):
    """Lists the account's bots and edits one at a time; ``saved`` after the server stored a bot."""

    saved = Signal(int)

    def __init__(
        self, backend: BotBackend, *, can_edit: bool = True, reason: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Bots"))
        self._backend = backend
        self._can_edit = can_edit
        self._tasks: set[asyncio.Task[Any]] = set()
        self.flows: list[Flow] = []
        self.flow_id: int | None = None
        self.spec: FlowSpec = blank_flow()
        self.steps: list[Step] = list(self.spec.steps)
        self._row = -1

        self.banner = _plain_label(reason)
        self.banner.setVisible(not can_edit)
        self.banner.setStyleSheet("background: #fdf2e9; padding: 6px;")
        self.flow_list = QListWidget()
        self.flow_list.setAccessibleName(self.tr("Bots"))
        self.flow_list.currentRowChanged.connect(self._flow_selected)
        self.new_button = QPushButton(self.tr("&New"))
        self.new_button.clicked.connect(self.new_flow)
        self.delete_button = QPushButton(self.tr("&Delete"))
        self.delete_button.clicked.connect(lambda: self._spawn(self.delete_current()))
        self.import_button = QPushButton(self.tr("&Import…"))
        self.import_button.clicked.connect(self._choose_import)
        self.export_button = QPushButton(self.tr("E&xport…"))
        self.export_button.clicked.connect(self._choose_export)

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(200)
        self.enabled_check = QCheckBox(self.tr("Enabled"))
        self.repeat_check = QCheckBox(self.tr("Run again each time the trigger fires"))
        self.trigger_combo = QComboBox()
        for kind, text in (
            ("chat_opened_offline", self.tr("Visitor opens the chat and nobody is online")),
            ("first_message", self.tr("Visitor's first message")),
            ("rule", self.tr("Conditions of automatic messages")),
        ):
            self.trigger_combo.addItem(text, kind)
        self.conditions_edit = QLineEdit()
        self.conditions_edit.setPlaceholderText(self.tr("time_on_page_at_least=30; url_contains=/pricing"))
        self.start_combo = QComboBox()
        self.step_list = QListWidget()
        self.step_list.setAccessibleName(self.tr("Steps"))
        self.step_list.currentRowChanged.connect(self._step_selected)
        self.kind_combo = QComboBox()
        self.kind_combo.addItems(STEP_KINDS)
        self.add_step_button = QPushButton(self.tr("&Add step"))
        self.add_step_button.clicked.connect(lambda: self.add_step(self.kind_combo.currentText()))
        self.remove_step_button = QPushButton(self.tr("&Remove step"))
        self.remove_step_button.clicked.connect(self.remove_step)
        self.step_form = StepForm()
        self.apply_button = QPushButton(self.tr("A&pply step"))
        self.apply_button.clicked.connect(self.apply_step)
        self.problem_list = QListWidget()
        self.problem_list.setAccessibleName(self.tr("Problems"))
        self.status_label = _plain_label()
        self.validate_button = QPushButton(self.tr("&Check"))
        self.validate_button.clicked.connect(self.check)
        self.save_button = QPushButton(self.tr("&Save"))
        self.save_button.clicked.connect(lambda: self._spawn(self.save()))
        self.preview_pane = PreviewPane()
        self.preview_pane.restart_button.clicked.connect(self.run_preview)
        for widget in (self.save_button, self.delete_button, self.import_button):
            widget.setEnabled(can_edit)
            if not can_edit:
                widget.setToolTip(reason)

        left = QVBoxLayout()
        left.addWidget(self.flow_list, 1)
        for button in (self.new_button, self.delete_button, self.import_button, self.export_button):
            left.addWidget(button)
        flow_form = QFormLayout()
        flow_form.addRow(self.tr("&Name:"), self.name_edit)
        flow_form.addRow("", self.enabled_check)
        flow_form.addRow(self.tr("&Trigger:"), self.trigger_combo)
        flow_form.addRow(self.tr("C&onditions:"), self.conditions_edit)
        flow_form.addRow("", self.repeat_check)
        flow_form.addRow(self.tr("S&tart step:"), self.start_combo)
        step_buttons = QHBoxLayout()
        step_buttons.addWidget(self.kind_combo)
        step_buttons.addWidget(self.add_step_button)
        step_buttons.addWidget(self.remove_step_button)
        middle = QVBoxLayout()
        middle.addLayout(flow_form)
        middle.addWidget(self.step_list, 1)
        middle.addLayout(step_buttons)
        right = QVBoxLayout()
        right.addWidget(self.step_form, 1)
        right.addWidget(self.apply_button)
        right.addWidget(self.problem_list)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.validate_button)
        bottom.addWidget(self.save_button)
        columns = QSplitter()
        for layout in (left, middle, right):
            holder = QWidget()
            holder.setLayout(layout)
            columns.addWidget(holder)
        columns.addWidget(self.preview_pane)
        outer = QVBoxLayout(self)
        outer.addWidget(self.banner)
        outer.addWidget(columns, 1)
        outer.addLayout(bottom)
        self.resize(1300, 640)
        self._show_spec()

    # ------------------------------------------------------------ tasks

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if t.cancelled() or not shiboken6.isValid(self):
                return
            exc = t.exception()
            if isinstance(exc, BotBackendError):
                self.show_problems(exc.problems, exc.message)
            elif exc is not None:
                log.error("bot editor request failed", exc_info=exc)
                self.status_label.setText(self.tr("Something went wrong; see the log."))

        task.add_done_callback(done)
        return task

    @property
    def pending(self) -> int:
        """Requests still running (tests wait for zero)."""
        return len(self._tasks)

    def refresh(self) -> asyncio.Task[None]:
        """Load the account's bots from the server."""
        return self._spawn(self._load())

    async def _load(self, select: int | None = None) -> None:
        self.flows = await self._backend.list_flows()
        self.flow_list.blockSignals(True)
        self.flow_list.clear()
        for flow in self.flows:
            item = QListWidgetItem(flow.spec.name + ("" if flow.spec.enabled else self.tr(" (off)")))
            item.setData(_USER_ROLE, flow.id)
            self.flow_list.addItem(item)
        self.flow_list.blockSignals(False)
        target = select if select is not None else self.flow_id
        rows = [i for i, f in enumerate(self.flows) if f.id == target]
        if rows:
            self.flow_list.setCurrentRow(rows[0])
        elif self.flows and self.flow_id is None:
            self.flow_list.setCurrentRow(0)

    # ------------------------------------------------------------ flows

    def _flow_selected(self, row: int) -> None:
        if not 0 <= row < len(self.flows):
            return
        flow = self.flows[row]
        self.flow_id = flow.id
        self.spec = flow.spec
        self.steps = list(flow.spec.steps)
        self._show_spec()

    def new_flow(self) -> None:
        """Start a new bot from a small valid flow."""
        self.flow_list.clearSelection()
        self.flow_id = None
        self.spec = blank_flow()
        self.steps = list(self.spec.steps)
        self._show_spec()

    def _show_spec(self) -> None:
        spec = self.spec
        self.name_edit.setText(spec.name)
        self.enabled_check.setChecked(spec.enabled)
        self.repeat_check.setChecked(spec.repeat)
        self.trigger_combo.setCurrentIndex(self.trigger_combo.findData(spec.trigger.kind))
        self.conditions_edit.setText(format_conditions(spec.trigger, skip=("kind",)))
        self._row = -1
        self._fill_steps(0)
        self.start_combo.setCurrentText(spec.start)
        self.problem_list.clear()
        self.status_label.clear()

    def _fill_steps(self, select: int) -> None:
        ids = [s.id for s in self.steps]
        start = self.start_combo.currentText()
        self.start_combo.clear()
        self.start_combo.addItems(ids)
        if start in ids:
            self.start_combo.setCurrentText(start)
        self.step_list.blockSignals(True)
        self.step_list.clear()
        for step in self.steps:
            self.step_list.addItem(f"{step.id}  ·  {step_kind(step)}")
        self.step_list.blockSignals(False)
        self._row = -1
        if self.steps:
            self.step_list.setCurrentRow(min(max(select, 0), len(self.steps) - 1))

    def _step_selected(self, row: int) -> None:
        if row == self._row:
            return
        if self._row >= 0 and not self.apply_step():
            # Keep the user on the step whose form has a mistake.
            self.step_list.blockSignals(True)
            self.step_list.setCurrentRow(self._row)
            self.step_list.blockSignals(False)
            return
        self._row = row
        if 0 <= row < len(self.steps):
            self.step_form.load(self.steps[row], [s.id for s in self.steps])

    def apply_step(self) -> bool:
        """Take the step form into the flow; False (and the reason shown) when the form has a mistake."""
        row = self._row
        if not 0 <= row < len(self.steps):
            return True
        try:
            step = self.step_form.read()
        except FormError as exc:
            self.show_problems([Problem(step=self.steps[row].id, message=str(exc))], self.tr("Fix the step first."))
            return False
        old_id = self.steps[row].id
        self.steps[row] = step
        item = self.step_list.item(row)
        if item is not None:
            item.setText(f"{step.id}  ·  {step_kind(step)}")
        if step.id != old_id:
            ids = [s.id for s in self.steps]
            start = self.start_combo.currentText()
            self.start_combo.clear()
            self.start_combo.addItems(ids)
            self.start_combo.setCurrentText(step.id if start == old_id else start)
        return True

    def add_step(self, kind: str) -> None:
        """Append a step of ``kind`` and select it."""
        if not self.apply_step():
            return
        step = new_step(kind, unique_step_id({s.id for s in self.steps}, kind))
        self.steps.append(step)
        self._fill_steps(len(self.steps) - 1)

    def remove_step(self) -> None:
        """Remove the selected step (links to it then show up as problems)."""
        row = self.step_list.currentRow()
        if 0 <= row < len(self.steps) and len(self.steps) > 1:
            del self.steps[row]
            self._row = -1
            self._fill_steps(row)

    def current_spec(self) -> FlowSpec:
        """The flow as the forms show it; raises FormError with what to change."""
        if not self.apply_step():
            raise FormError(self.tr("Fix the step first."))
        kind = self.trigger_combo.currentData()
        trigger = parse_conditions(self.conditions_edit.text(), Trigger, kind=kind)
        body = {
            "name": self.name_edit.text().strip(),
            "trigger": msgspec.to_builtins(trigger),
            "start": self.start_combo.currentText(),
            "steps": msgspec.to_builtins(self.steps),
            "enabled": self.enabled_check.isChecked(),
            "repeat": self.repeat_check.isChecked(),
        }
        try:
            return msgspec.convert(body, FlowSpec)
        except msgspec.ValidationError as exc:
            raise FormError(f"the bot is not valid: {exc}") from None

    def check(self) -> list[Problem]:
        """Validate the flow in the app (the same checks the server makes) and list the problems."""
        try:
            found = problems(self.current_spec())
        except FormError as exc:
            found = [Problem(step=None, message=str(exc))]
        self.show_problems(found, self.tr("No problems: the bot can be saved.") if not found else "")
        return found

    def show_problems(self, found: list[Problem], status: str = "") -> None:
        """List problems, each with the step it names."""
        self.problem_list.clear()
        for problem in found:
            where = self.tr("Step %1: ").replace("%1", problem.step) if problem.step else ""
            self.problem_list.addItem(where + problem.message)
        self.status_label.setText(status or self.tr("%n problem(s) to fix.", "", len(found)))

    async def save(self) -> None:
        """Store the flow on the server (it checks again and enforces the plan)."""
        try:
            spec = self.current_spec()
        except FormError as exc:
            self.show_problems([Problem(step=None, message=str(exc))])
            return
        if problems(spec):
            self.check()
            return
        flow = await self._backend.save_flow(self.flow_id, spec)
        self.flow_id = flow.id
        await self._load(select=flow.id)
        self.status_label.setText(self.tr("Saved."))
        self.saved.emit(flow.id)

    async def delete_current(self) -> None:
        """Delete the selected bot on the server."""
        if self.flow_id is None:
            self.new_flow()
            return
        await self._backend.delete_flow(self.flow_id)
        self.new_flow()
        await self._load()
        self.status_label.setText(self.tr("Deleted."))

    # ------------------------------------------------------------ import, export, preview

    def _file_dialog(self, accept: QFileDialog.AcceptMode) -> QFileDialog:
        # open() with a signal, never exec(): a nested loop would starve the qasync tasks.
        dialog = QFileDialog(self, self.tr("Bot file"), "", self.tr("Bot files (*.json)"))
        dialog.setAcceptMode(accept)
        dialog.setDefaultSuffix("json")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        return dialog

    def _choose_import(self) -> None:
        dialog = self._file_dialog(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self._spawn(self.import_file(Path(path))))
        dialog.open()

    def _choose_export(self) -> None:
        dialog = self._file_dialog(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(f"{self.name_edit.text().strip() or 'bot'}.json")
        dialog.fileSelected.connect(lambda path: self._spawn(self.export_file(Path(path))))
        dialog.open()

    async def import_file(self, path: Path) -> None:
        """Add a bot from a JSON file (the server validates it and lists every problem)."""
        try:
            body = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            self.show_problems(
                [], self.tr("Cannot read %1: %2").replace("%1", str(path)).replace("%2", exc.strerror or "")
            )
            return
        flow = await self._backend.import_flow(body)
        await self._load(select=flow.id)
        self.status_label.setText(self.tr("Imported %1.").replace("%1", flow.spec.name))

    async def export_file(self, path: Path) -> None:
        """Write the flow as the forms show it to a JSON file (importable here or on another server)."""
        try:
            spec = self.current_spec()
        except FormError as exc:
            self.show_problems([Problem(step=None, message=str(exc))])
            return
        body = msgspec.json.format(msgspec.json.encode(FlowExport(flow=spec)))
        try:
            await asyncio.to_thread(path.write_bytes, body)
        except OSError as exc:
            self.show_problems(
                [], self.tr("Cannot write %1: %2").replace("%1", str(path)).replace("%2", exc.strerror or "")
            )
            return
        self.status_label.setText(self.tr("Exported to %1.").replace("%1", str(path)))

    def run_preview(self) -> None:
        """Run the flow as the forms show it in the preview pane."""
        found = self.check()
        if found:
            return
        self.preview_pane.run(self.current_spec())
