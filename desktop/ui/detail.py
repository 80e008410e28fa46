"""The detail pane of the Visitors tab: everything known about the selected visitor, as plain text."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.state import flag_emoji
from desktop.ui.text import author_text, display_name, format_clock, format_datetime, format_duration, message_state
from protocol.messages import ChatMessage, Visitor

_TEXT_FLAGS = Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard


def _plain_label() -> QLabel:
    # Everything here comes from the visitor's browser or forms: never let Qt guess rich text.
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(_TEXT_FLAGS)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


def _inert_tooltip(text: str) -> str:
    """A visitor-controlled URL as a tooltip: QToolTip guesses rich text, so escape it."""
    return "<p>" + html.escape(text) + "</p>"


class DetailPane(QSplitter):
    """Identity and custom variables, page trail with time per page, visits, referrer, device, location, chat."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setAccessibleName(self.tr("Visitor details"))
        self._trail_rows: list[tuple[str, str, str, str]] | None = None
        self._trail_visitor: str | None = None
        self.facts = QScrollArea()
        self.facts.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)

        self.title_label = _plain_label()
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title_label.setFont(font)
        layout.addWidget(self.title_label)

        self.identity_label = _plain_label()
        self.visit_label = _plain_label()
        self.device_label = _plain_label()
        self.location_label = _plain_label()
        for title, label in (
            (self.tr("Identity"), self.identity_label),
            (self.tr("Visit"), self.visit_label),
            (self.tr("Device"), self.device_label),
            (self.tr("Location"), self.location_label),
        ):
            box = QGroupBox(title)
            box_layout = QVBoxLayout(box)
            box_layout.addWidget(label)
            layout.addWidget(box)

        trail_box = QGroupBox(self.tr("Pages"))
        trail_layout = QVBoxLayout(trail_box)
        self.trail = QTreeWidget()
        self.trail.setHeaderLabels([self.tr("Page"), self.tr("Time on page"), self.tr("At")])
        self.trail.setRootIsDecorated(False)
        self.trail.setAccessibleName(self.tr("Page trail"))
        self.trail.setMinimumHeight(90)
        self.trail.setMaximumHeight(170)
        trail_layout.addWidget(self.trail)
        layout.addWidget(trail_box)

        layout.addStretch(1)
        self.facts.setWidget(body)
        # The chat history stays in view below the facts, whatever their length.
        chat_box = QGroupBox(self.tr("Chat history"))
        chat_layout = QVBoxLayout(chat_box)
        self.chat = QPlainTextEdit()  # plain text by construction
        self.chat.setReadOnly(True)
        self.chat.setAccessibleName(self.tr("Chat history"))
        chat_layout.addWidget(self.chat)
        self.addWidget(self.facts)
        self.addWidget(chat_box)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 1)
        self.setChildrenCollapsible(False)
        self.show_visitor(None, 0.0, ())

    def show_visitor(self, visitor: Visitor | None, now: float, messages: Sequence[ChatMessage]) -> None:
        """Fill the pane for ``visitor`` (None: nothing selected)."""
        if visitor is None:
            self.title_label.setText(self.tr("Select a visitor to see the details."))
            for label in (self.identity_label, self.visit_label, self.device_label, self.location_label):
                label.clear()
            self.trail.clear()
            self._trail_rows = None
            self.chat.clear()
            return
        self.title_label.setText(display_name(visitor))
        self._fill_identity(visitor)
        self._fill_visit(visitor, now)
        self._fill_device(visitor)
        self._fill_location(visitor)
        self._fill_trail(visitor, now)
        self._fill_chat(visitor, messages)

    def _fill_identity(self, v: Visitor) -> None:
        unknown = self.tr("unknown")
        lines = [
            self.tr("Name: %1").replace("%1", v.name or unknown),
            self.tr("E-mail: %1").replace("%1", v.email or unknown),
            self.tr("Phone: %1").replace("%1", v.phone or unknown),
            self.tr("Customer: %1").replace("%1", self.tr("yes") if v.customer else self.tr("no")),
            self.tr("Visitor id: %1").replace("%1", v.id),
        ]
        lines.extend(f"{key}: {value}" for key, value in sorted(v.custom.items()))
        lines.extend(self._bot_lines(v))
        self.identity_label.setText("\n".join(lines))

    def _bot_lines(self, v: Visitor) -> list[str]:
        """The visitor's bot conversation: which bot, how it stands (its answers are the fields above)."""
        if v.bot is None:
            return []
        status = {
            "running": self.tr("talking now"),
            "handed_over": self.tr("handed over to the team"),
            "closed": self.tr("closed the chat"),
            "stopped": self.tr("stopped by an agent"),
        }[v.bot.status]
        return [self.tr("Bot: %1 (%2)").replace("%1", v.bot.flow_name).replace("%2", status)]

    def _fill_visit(self, v: Visitor, now: float) -> None:
        end = v.left_at if (not v.online and v.left_at) else now
        lines = [
            self.tr("%n visit(s)", "", v.visit_count),
            self.tr("Time on site: %1").replace("%1", format_duration(end - v.visit_started_at)),
            self.tr("First seen: %1").replace("%1", format_datetime(v.first_seen_at)),
            self.tr("Last activity: %1").replace("%1", format_clock(v.last_activity_at)),
            self.tr("Referrer: %1").replace("%1", v.referrer or self.tr("direct")),
            self.tr("Status: %1").replace("%1", self.tr("online") if v.online else self.tr("left")),
        ]
        if v.banned:
            lines.append(self.tr("Banned"))
        if v.auto_messaged:
            lines.append(self.tr("Received an automatic message"))
        if v.session_only:
            lines.append(self.tr("Session only: no consent to be remembered; forgotten when they leave"))
        self.visit_label.setText("\n".join(lines))

    def _fill_device(self, v: Visitor) -> None:
        unknown = self.tr("unknown")
        lines = [
            self.tr("Browser: %1").replace("%1", v.browser or unknown),
            self.tr("System: %1").replace("%1", v.os or unknown),
            self.tr("Device: %1").replace("%1", v.device or unknown),
            self.tr("Language: %1").replace("%1", v.language or unknown),
        ]
        self.device_label.setText("\n".join(lines))

    def _fill_location(self, v: Visitor) -> None:
        flag = flag_emoji(v.country_code) if v.country_code else ""
        place = ", ".join(p for p in (v.city, v.country) if p) or self.tr("unknown")
        lines = [f"{flag} {place}".strip()]
        if v.timezone:
            lines.append(self.tr("Time zone: %1").replace("%1", v.timezone))
        self.location_label.setText("\n".join(lines))

    def _fill_trail(self, v: Visitor, now: float) -> None:
        pages = v.pages
        end = v.left_at if (not v.online and v.left_at) else now
        rows = []
        for index, page in enumerate(pages):
            until = pages[index + 1].at if index + 1 < len(pages) else end
            rows.append((page.title or page.url, format_duration(until - page.at), format_clock(page.at), page.url))
        if self._trail_rows is not None and self._trail_visitor == v.id and len(self._trail_rows) == len(rows):
            # Same visitor, same pages: only times tick; update in place so scrolling and selection stay.
            for index, (row, old) in enumerate(zip(rows, self._trail_rows, strict=True)):
                if row != old:
                    item = self.trail.topLevelItem(index)
                    if item is None:
                        continue
                    for column in range(3):
                        item.setText(column, row[column])
                    item.setToolTip(0, _inert_tooltip(row[3]))
        else:
            self.trail.clear()
            items = []
            for title, spent, at, url in rows:
                # QTreeWidgetItem text is drawn as plain text by the default delegate.
                item = QTreeWidgetItem([title, spent, at])
                item.setToolTip(0, _inert_tooltip(url))
                items.append(item)
            self.trail.addTopLevelItems(items)
        self._trail_rows = rows
        self._trail_visitor = v.id

    def _fill_chat(self, v: Visitor, messages: Sequence[ChatMessage]) -> None:
        lines = []
        for m in messages:
            state = message_state(m)
            suffix = f" ({state})" if state else ""
            lines.append(f"[{format_clock(m.sent_at)}] {author_text(m, v)}{suffix}: {m.text}")
        text = "\n".join(lines) if lines else self.tr("No messages yet.")
        if self.chat.toPlainText() != text:
            self.chat.setPlainText(text)
            self.chat.verticalScrollBar().setValue(self.chat.verticalScrollBar().maximum())
