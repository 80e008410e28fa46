"""The detail pane of the Visitors tab: the selected visitor as one card with sections, or what to do."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLayoutItem,
    QScrollArea,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.state import badges, flag_emoji, primary_state
from desktop.ui.legend import state_name
from desktop.ui.style import Theme, avatar_pixmap, card_sheet, current_theme, follow_theme
from desktop.ui.text import (
    author_text,
    country_name,
    display_name,
    format_clock,
    format_datetime,
    format_duration,
    message_state,
)
from protocol.messages import ChatMessage, Visitor

_TEXT_FLAGS = Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
AVATAR_PX = 44
TRAIL_ROWS = 8
"""Pages shown before the trail scrolls."""
CHAT_LINES = 6
"""The last messages shown in the card; the whole chat is in the conversation window."""


def _plain_label(*, wrap: bool = True, selectable: bool = True) -> QLabel:
    # Everything here comes from the visitor's browser or forms: never let Qt guess rich text.
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if wrap:
        # A long word (a URL) may be cut, but must not make the card wider than the pane and clip everything.
        label.setMinimumWidth(1)
    if selectable:
        label.setTextInteractionFlags(_TEXT_FLAGS)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


def _inert_tooltip(text: str) -> str:
    """A visitor-controlled URL as a tooltip: QToolTip guesses rich text, so escape it."""
    return "<p>" + html.escape(text) + "</p>"


class FlowLayout(QLayout):
    """Lays its items out in rows, wrapping to the next row when the width runs out (the chips)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        """Append an item (Qt calls this for addWidget)."""
        self._items.append(item)

    def count(self) -> int:
        """Number of items."""
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        """The item at ``index``, or None."""
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        """Remove and return the item at ``index``."""
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        """Never wider than it is given."""
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        """The height depends on how many rows the width allows."""
        return True

    def heightForWidth(self, width: int) -> int:
        """Height of the rows at ``width``."""
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        """Place the items in rows within ``rect``."""
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """As small as the widest item: the rest wraps."""
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        """The widest item."""
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        x, y, row_height = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x > rect.x() and x + hint.width() > rect.right() + 1:
                x, y, row_height = rect.x(), y + row_height + self._gap, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._gap
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y()


class FactsGrid(QWidget):
    """Facts as two aligned columns: the name muted on the left, the value (plain, selectable) on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 2, 0, 2)
        self._grid.setHorizontalSpacing(12)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        self._rows: list[tuple[QLabel, QLabel]] = []

    def set_facts(self, facts: Sequence[tuple[str, str]]) -> None:
        """Show ``(name, value)`` pairs; labels are reused, so a ticking value does not rebuild the grid."""
        while len(self._rows) < len(facts):
            key = _plain_label(wrap=False, selectable=False)
            key.setObjectName("muted")
            value = _plain_label()
            row = len(self._rows)
            self._grid.addWidget(key, row, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            self._grid.addWidget(value, row, 1)
            self._rows.append((key, value))
        for index, (key, value) in enumerate(self._rows):
            shown = index < len(facts)
            key.setVisible(shown)
            value.setVisible(shown)
            if shown:
                for label, text in zip((key, value), facts[index], strict=True):
                    if label.text() != text:
                        label.setText(text)

    def key_width(self) -> int:
        """Width the widest shown name needs."""
        return max((k.sizeHint().width() for k, _v in self._rows if not k.isHidden()), default=0)

    def align_keys(self, width: int) -> None:
        """Start the values at ``width``, so the sections of the card line up."""
        self._grid.setColumnMinimumWidth(0, width)

    def text(self) -> str:
        """The facts shown, one "name: value" a line (for tests and accessibility)."""
        return "\n".join(f"{k.text()}: {v.text()}" for k, v in self._rows if not k.isHidden())


class EmptyState(QWidget):
    """What the pane shows with no visitor selected: what to do next."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = _plain_label(selectable=False)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.hint = _plain_label(selectable=False)
        self.hint.setObjectName("muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addStretch(2)
        self.retranslate()

    def retranslate(self) -> None:
        """Texts in the UI's language."""
        self.title.setText(self.tr("No visitor selected"))
        self.hint.setText(
            self.tr(
                "Pick someone in the list to see who they are, which pages they read and what they wrote. "
                "Press Enter to open a conversation."
            )
        )


class DetailPane(QStackedWidget):
    """Identity and custom variables, page trail with time per page, visit, device, location and recent chat."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPane")
        self._trail_rows: list[tuple[str, str, str, str]] | None = None
        self._trail_visitor: str | None = None
        self._avatar_key: tuple[str, str, str, float] | None = None
        self._visitor: Visitor | None = None
        self._now = 0.0
        self._messages: Sequence[ChatMessage] = ()

        self.empty = EmptyState()
        self.card = QFrame()
        self.card.setObjectName("card")
        self._build_header()
        self._build_sections()
        card_layout = QVBoxLayout(self.card)
        card_layout.setContentsMargins(16, 14, 16, 14)
        card_layout.setSpacing(4)
        card_layout.addLayout(self._header_layout)
        card_layout.addWidget(self.chips_row)
        for widget in self._section_widgets:
            card_layout.addWidget(widget)
        card_layout.addStretch(1)
        self.facts = QScrollArea()
        self.facts.setObjectName("cardScroll")
        self.facts.setWidgetResizable(True)
        # The card is as wide as the pane: long texts wrap, chips flow onto a second row.
        self.facts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.facts.setFrameShape(QFrame.Shape.NoFrame)
        self.facts.setWidget(self.card)
        self.addWidget(self.empty)
        self.addWidget(self.facts)
        self.retranslate()
        follow_theme(self.restyle)
        self.show_visitor(None, 0.0, ())

    # ------------------------------------------------------------ building

    def _build_header(self) -> None:
        self.avatar = _plain_label(wrap=False, selectable=False)
        self.avatar.setFixedSize(QSize(AVATAR_PX, AVATAR_PX))
        self.title_label = _plain_label()
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title_label.setFont(font)
        self.subtitle_label = _plain_label()
        self.subtitle_label.setObjectName("muted")
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.title_label)
        names.addWidget(self.subtitle_label)
        self._header_layout = QHBoxLayout()
        self._header_layout.setSpacing(12)
        self._header_layout.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignTop)
        self._header_layout.addLayout(names, 1)
        self.chips_row = QWidget()
        self._chips_layout = FlowLayout(self.chips_row)
        self._chips_layout.setContentsMargins(0, 6, 0, 2)
        self.chips: list[QLabel] = []

    def _section(self, body: QWidget) -> tuple[QLabel, QWidget]:
        title = _plain_label(wrap=False, selectable=False)
        title.setObjectName("sectionTitle")
        rule = QFrame()
        rule.setObjectName("rule")
        rule.setFrameShape(QFrame.Shape.HLine)
        self._section_widgets += [rule, title, body]
        return title, body

    def _build_sections(self) -> None:
        self._section_widgets: list[QWidget] = []
        self.identity_label = FactsGrid()
        self.visit_label = FactsGrid()
        self.device_label = FactsGrid()
        self.location_label = FactsGrid()
        self.chat = _plain_label()
        self.trail = QTreeWidget()
        self.trail.setRootIsDecorated(False)
        self.trail.setFrameShape(QFrame.Shape.NoFrame)
        self.trail.setUniformRowHeights(True)
        # The page title takes the room; time and clock are as wide as their texts.
        self.trail.header().setStretchLastSection(False)
        self.trail.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.trail.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.trail.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        # Most wanted first: who it is, what they wrote, then the visit and the pages; device and place last.
        self.identity_title, _ = self._section(self.identity_label)
        self.chat_title, _ = self._section(self.chat)
        self.visit_title, _ = self._section(self.visit_label)
        self.trail_title, _ = self._section(self.trail)
        self.device_title, _ = self._section(self.device_label)
        self.location_title, _ = self._section(self.location_label)

    def retranslate(self) -> None:
        """Section titles in the UI's language; the facts follow with the next refresh."""
        self.setAccessibleName(self.tr("Visitor details"))
        self.identity_title.setText(self.tr("Contact"))
        self.visit_title.setText(self.tr("Visit"))
        self.trail_title.setText(self.tr("Pages"))
        self.device_title.setText(self.tr("Device"))
        self.location_title.setText(self.tr("Location"))
        self.chat_title.setText(self.tr("Recent messages"))
        self.trail.setHeaderLabels([self.tr("Page"), self.tr("Time on page"), self.tr("At")])
        self.trail.setAccessibleName(self.tr("Page trail"))
        self.chat.setAccessibleName(self.tr("Chat history"))
        self.empty.retranslate()
        self._trail_rows = None

    def restyle(self, theme: Theme) -> None:
        """Card colours and chips for ``theme``."""
        self.setStyleSheet(card_sheet(theme))
        self._avatar_key = None
        if self._visitor is not None:
            self._fill_header(self._visitor, self._now)

    def changeEvent(self, event: QEvent) -> None:
        """A language switch re-translates the section titles."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    # ------------------------------------------------------------ filling

    def show_visitor(self, visitor: Visitor | None, now: float, messages: Sequence[ChatMessage]) -> None:
        """Fill the card for ``visitor``, or show the empty state (None: nothing selected)."""
        self._visitor, self._now, self._messages = visitor, now, messages
        if visitor is None:
            self.setCurrentWidget(self.empty)
            self.title_label.clear()
            self._trail_rows = None
            self._trail_visitor = None
            return
        self.setCurrentWidget(self.facts)
        self._fill_header(visitor, now)
        self._fill_identity(visitor)
        self._fill_visit(visitor, now)
        self._fill_device(visitor)
        self._fill_location(visitor)
        self._fill_trail(visitor, now)
        self._fill_chat(visitor, messages)
        grids = (self.identity_label, self.visit_label, self.device_label, self.location_label)
        width = max(grid.key_width() for grid in grids)
        for grid in grids:
            grid.align_keys(width)

    def _set_text(self, label: QLabel, text: str) -> None:
        # Called every second: an unchanged text must not relayout the card.
        if label.text() != text:
            label.setText(text)

    def _fill_header(self, v: Visitor, now: float) -> None:
        name = display_name(v)
        self._set_text(self.title_label, name)
        where = v.current_title or v.current_url or ""
        self._set_text(self.subtitle_label, " · ".join(p for p in (self._place(v), where) if p))
        ratio = self.devicePixelRatioF()
        key = (v.id, name, "", ratio)
        if key != self._avatar_key:
            self.avatar.setPixmap(avatar_pixmap(v.id, name, AVATAR_PX, ratio, current_theme()))
            self._avatar_key = key
        states = [primary_state(v, now)] + [s for s in badges(v, now) if s is not primary_state(v, now)]
        wanted = [(str(s.value), state_name(s, v)) for s in states]
        if [(c.property("chip"), c.text()) for c in self.chips] != wanted:
            for chip in self.chips:
                chip.deleteLater()
            self.chips = []
            for value, text in wanted:
                chip = QLabel(text)
                chip.setTextFormat(Qt.TextFormat.PlainText)
                chip.setProperty("chip", value)
                self._chips_layout.addWidget(chip)
                self.chips.append(chip)
            self.chips_row.setAccessibleName(", ".join(text for _value, text in wanted))

    def _place(self, v: Visitor) -> str:
        flag = flag_emoji(v.country_code) if v.country_code else ""
        place = ", ".join(p for p in (v.city, country_name(v)) if p)
        return f"{flag} {place}".strip()

    def _fill_identity(self, v: Visitor) -> None:
        unknown = self.tr("unknown")
        facts = [
            (self.tr("Name"), v.name or unknown),
            (self.tr("E-mail"), v.email or unknown),
            (self.tr("Phone"), v.phone or unknown),
            (self.tr("Customer"), self.tr("yes") if v.customer else self.tr("no")),
            (self.tr("Visitor id"), v.id),
        ]
        facts.extend(sorted(v.custom.items()))
        facts.extend(self._bot_facts(v))
        self.identity_label.set_facts(facts)

    def _bot_facts(self, v: Visitor) -> list[tuple[str, str]]:
        """The visitor's bot conversation: which bot, how it stands (its answers are the fields above)."""
        if v.bot is None:
            return []
        status = {
            "running": self.tr("talking now"),
            "handed_over": self.tr("handed over to the team"),
            "closed": self.tr("closed the chat"),
            "stopped": self.tr("stopped by an agent"),
        }[v.bot.status]
        return [(self.tr("Bot"), self.tr("%1 (%2)").replace("%1", v.bot.flow_name).replace("%2", status))]

    def _fill_visit(self, v: Visitor, now: float) -> None:
        end = v.left_at if (not v.online and v.left_at) else now
        facts = [
            (self.tr("Visits"), str(v.visit_count)),
            (self.tr("Time on site"), format_duration(end - v.visit_started_at)),
            (self.tr("First seen"), format_datetime(v.first_seen_at)),
            (self.tr("Last activity"), format_clock(v.last_activity_at)),
            (self.tr("Referrer"), v.referrer or self.tr("direct")),
            (self.tr("Status"), self.tr("online") if v.online else self.tr("left")),
        ]
        if v.session_only:
            facts.append(
                (self.tr("Consent"), self.tr("Session only: no consent to be remembered; forgotten when they leave"))
            )
        self.visit_label.set_facts(facts)

    def _fill_device(self, v: Visitor) -> None:
        unknown = self.tr("unknown")
        self.device_label.set_facts(
            [
                (self.tr("Browser"), v.browser or unknown),
                (self.tr("System"), v.os or unknown),
                (self.tr("Device"), v.device or unknown),
                (self.tr("Language"), v.language or unknown),
            ]
        )

    def _fill_location(self, v: Visitor) -> None:
        facts = [(self.tr("Place"), self._place(v) or self.tr("unknown"))]
        if v.timezone:
            facts.append((self.tr("Time zone"), v.timezone))
        self.location_label.set_facts(facts)

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
            self._fit_trail(len(items))
        self._trail_rows = rows
        self._trail_visitor = v.id

    def _fit_trail(self, rows: int) -> None:
        # As tall as its rows (up to TRAIL_ROWS, then it scrolls): no empty box under a short trail.
        row = self.trail.sizeHintForRow(0) if rows else self.trail.fontMetrics().height() + 4
        header = self.trail.header().sizeHint().height()
        self.trail.setFixedHeight(header + row * max(1, min(rows, TRAIL_ROWS)) + 2 * self.trail.frameWidth() + 2)

    def _fill_chat(self, v: Visitor, messages: Sequence[ChatMessage]) -> None:
        lines = []
        for m in messages[-CHAT_LINES:]:
            state = message_state(m)
            suffix = f" ({state})" if state else ""
            lines.append(f"{format_clock(m.sent_at)}  {author_text(m, v)}{suffix}: {m.text}")
        self._set_text(self.chat, "\n".join(lines) if lines else self.tr("No messages yet."))
