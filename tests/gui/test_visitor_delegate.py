"""The visitor list's delegate: it paints what Qt's own drawing of the same cells shows, from fresh texts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import msgspec
import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView
from pytestqt.qtbot import QtBot

from desktop.core.clock import ManualClock
from desktop.core.labels import avatar_hue
from desktop.core.ordering import Column
from desktop.core.store import VisitorStore
from desktop.integration.resources import state_icon
from desktop.ui.legend import StateIconProvider
from desktop.ui.style import DARK, HIGH_CONTRAST, LIGHT, ThemeController
from desktop.ui.visitor_delegate import VisitorDelegate
from desktop.ui.visitor_model import VisitorTableModel
from desktop.ui.visitor_table import configure_visitor_table
from protocol.messages import Visitor
from tests.unit.desktop.factory import NOW, changed, make_visitor, snapshot

pytestmark = pytest.mark.gui

LONG_NAME = "Maximiliane Wolkenstein-Oberhausen von Trapp"
Index = QModelIndex | QPersistentModelIndex


class QtDrawn(VisitorDelegate):
    """The same delegate with every cell on Qt's own path (QStyledItemDelegate.paint over the data() roles)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        QStyledItemDelegate.paint(self, painter, option, index)


class Counting(VisitorDelegate):
    """The real delegate, counting the cells it drew itself (one paint_cell call each)."""

    drawn = 0

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        Counting.drawn += 1
        super().paint(painter, option, index)


def visitors() -> list[Visitor]:
    """A new chat with a long name and page, text that looks like markup, a returning customer, no country."""
    return [
        make_visitor(
            1,
            name=LONG_NAME,
            current_title="A very long page title that cannot possibly fit into the current page column",
            in_chat=True,
            chat_status="unanswered",
            unread=1,
        ),
        make_visitor(2, name="Ülkü <b>bold</b> &amp; Co", country_code="AT", country="Austria", visit_count=4),
        make_visitor(3, customer=True, name="Grace", country_code="GB", country="United Kingdom"),
        make_visitor(4, chat_status="active", in_chat=True, chat_agent_name="Bo", country_code=None, country=None),
        *[make_visitor(n, last_activity_at=NOW - 900 - n) for n in range(5, 12)],
    ]


@pytest.fixture
def theme(qapp: QApplication) -> Iterator[ThemeController]:
    """The app's theme controller (light), removed afterwards so other tests see the default palette again."""
    controller = ThemeController(qapp, forced="light")
    yield controller
    controller.setParent(None)
    qapp.setPalette(qapp.style().standardPalette())


def build(
    qtbot: QtBot, delegate: type[VisitorDelegate] = VisitorDelegate
) -> tuple[VisitorStore, VisitorTableModel, QTableView]:
    """The real table configuration over a model of :func:`visitors`, with ``delegate`` painting it."""
    store, clock = VisitorStore(), ManualClock(NOW)
    store.apply(snapshot(visitors()))
    store.take_changes()
    model = VisitorTableModel(store, clock, StateIconProvider(state_icon))
    view = QTableView()
    qtbot.addWidget(view)
    configure_visitor_table(view, model)
    if delegate is not VisitorDelegate:
        view.setItemDelegate(delegate(model, 20, view))
    view.resize(1100, 420)
    view.show()
    qtbot.waitExposed(view)
    return store, model, view


def shot(view: QTableView) -> QImage:
    """The viewport as painted now (every cell)."""
    QApplication.processEvents()
    return view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def cell(view: QTableView, row: int, column: Column) -> QRect:
    """Where a cell is in the viewport."""
    return view.visualRect(view.model().index(row, column))


def colours(image: QImage, rect: QRect) -> set[int]:
    """The colours of an image's pixels in ``rect``."""
    return {
        image.pixel(x, y) for x in range(rect.left(), rect.right() + 1) for y in range(rect.top(), rect.bottom() + 1)
    }


def near(pixel: int, colour: str, tolerance: int = 6) -> bool:
    """A pixel within ``tolerance`` of a colour in each channel."""
    a, b = QColor(pixel), QColor(colour)
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= tolerance


def test_cells_look_exactly_as_qt_draws_them_in_every_theme(qtbot: QtBot, theme: ThemeController) -> None:
    ours = build(qtbot, Counting)[2]
    qts = build(qtbot, QtDrawn)[2]
    for view in (ours, qts):
        view.selectRow(2)  # the selected row and the focused cell go through Qt's path in both
        view.horizontalHeader().resizeSection(Column.NAME, 90)  # the long name elided
    for t in (LIGHT, DARK, HIGH_CONTRAST):
        theme.apply(t)
        Counting.drawn = 0
        mine = shot(ours)
        assert Counting.drawn > 60  # the delegate really drew (the offscreen grab paints every cell)
        assert mine == shot(qts), f"{t.name}: the delegate's cells differ from Qt's own drawing"


def test_a_long_name_is_elided_with_an_ellipsis(qtbot: QtBot, theme: ThemeController) -> None:
    store, model, view = build(qtbot)
    view.horizontalHeader().resizeSection(Column.NAME, 110)
    before = shot(view)
    row = model.row_of(make_visitor(1).id)
    rect = cell(view, row, Column.NAME)
    # What the cell must show: the name cut by Qt's own elision, ending in "…", drawn from a visitor named so.
    # The text's room: the cell less the avatar with its margins and the text's own margins (Qt's layout).
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1
    room = rect.width() - (20 + 2 * margin) - 2 * margin
    elided = QFontMetrics(view.font()).elidedText(LONG_NAME, Qt.TextElideMode.ElideRight, room)
    assert elided.endswith("…")
    assert elided != LONG_NAME
    visitor = store.visitors[make_visitor(1).id]
    store.apply(changed(11, msgspec.structs.replace(visitor, name=elided)))
    model.apply_changes(store.take_changes())
    after = shot(view)
    text_area = rect.adjusted(20 + 2 * margin, 0, 0, 0)  # the avatar's initials differ (they come from the name)
    assert after.copy(text_area) == before.copy(text_area)


def test_the_selected_row_is_painted_in_the_highlight_colour(qtbot: QtBot, theme: ThemeController) -> None:
    view = build(qtbot)[2]
    view.selectRow(1)
    image = shot(view)
    rect, other = cell(view, 1, Column.VISITS), cell(view, 3, Column.VISITS)
    # Fusion blends the highlight a little (#CDEBE7 is painted #D0EBE7): near it, and far from the base colour.
    assert near(image.pixel(rect.left() + 4, rect.top() + 2), LIGHT.highlight)
    assert not near(image.pixel(other.left() + 4, other.top() + 2), LIGHT.highlight)


def test_a_theme_switch_repaints_with_the_new_colours(qtbot: QtBot, theme: ThemeController) -> None:
    view = build(qtbot)[2]
    rect = cell(view, 0, Column.PAGE)
    light_image = shot(view)
    light = colours(light_image, rect)
    assert near(min(light, key=lightness), LIGHT.text, 24)  # the text's darkest pixels
    assert near(commonest(light_image, rect), LIGHT.base)
    theme.apply(DARK)
    dark_image = shot(view)
    dark = colours(dark_image, rect)
    assert near(max(dark, key=lightness), DARK.text, 24)  # light text on a dark background now
    assert near(commonest(dark_image, rect), DARK.base)
    assert dark_image == shot(build(qtbot, QtDrawn)[2])


def commonest(image: QImage, rect: QRect) -> int:
    """The most frequent pixel in ``rect`` (the background)."""
    xs, ys = range(rect.left(), rect.right() + 1), range(rect.top(), rect.bottom() + 1)
    return Counter(image.pixel(x, y) for x in xs for y in ys).most_common(1)[0][0]


def lightness(pixel: int) -> int:
    """HSL lightness of a pixel."""
    return QColor(pixel).lightness()


def test_a_changed_text_paints_the_new_text(qtbot: QtBot, theme: ThemeController) -> None:
    store, model, view = build(qtbot)
    reference_store, reference_model, reference = build(qtbot, QtDrawn)
    shot(view)  # every text laid out and cached
    for s in (store, reference_store):
        visitor = s.visitors[make_visitor(3).id]
        s.apply(changed(11, msgspec.structs.replace(visitor, current_title="Checkout", visit_count=12)))
    for s, m in ((store, model), (reference_store, reference_model)):
        m.apply_changes(s.take_changes())
    assert shot(view) == shot(reference)


def test_a_font_change_lays_the_texts_out_again(qtbot: QtBot, theme: ThemeController) -> None:
    view = build(qtbot)[2]
    reference = build(qtbot, QtDrawn)[2]
    shot(view)
    for v in (view, reference):
        font = QFont(v.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        v.setFont(font)
    assert shot(view) == shot(reference)


def test_the_avatar_and_the_state_icon_are_drawn(qtbot: QtBot, theme: ThemeController) -> None:
    view = build(qtbot)[2]
    image = shot(view)
    background = {QColor(LIGHT.base).rgb(), QColor(LIGHT.alt_base).rgb()}
    state = cell(view, 0, Column.STATE)
    assert len(colours(image, state) - background) > 10  # the new-chat icon
    name = cell(view, 0, Column.NAME)
    avatar = QRect(name.left(), name.top(), 30, name.height())
    hue = avatar_hue(make_visitor(1).id)
    hues = {QColor(p).hslHue() for p in colours(image, avatar) - background}
    assert any(abs(h - hue) <= 2 for h in hues if h >= 0)


def test_an_icon_size_change_moves_the_texts(qtbot: QtBot, theme: ThemeController) -> None:
    view = build(qtbot)[2]
    reference = build(qtbot, QtDrawn)[2]
    shot(view)
    for v in (view, reference):
        v.setIconSize(QSize(26, 26))
    assert shot(view) == shot(reference)


def test_a_right_to_left_list_is_mirrored_as_qt_mirrors_it(qtbot: QtBot, theme: ThemeController) -> None:
    view = build(qtbot)[2]
    reference = build(qtbot, QtDrawn)[2]
    shot(view)
    for v in (view, reference):
        v.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    assert shot(view) == shot(reference)


def test_caches_smaller_than_a_screen_still_paint_every_cell(
    qtbot: QtBot, theme: ThemeController, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(VisitorDelegate, "TEXTS", 3)  # generations turn over many times per paint
    monkeypatch.setattr(VisitorDelegate, "AVATARS", 2)
    view = build(qtbot)[2]
    reference = build(qtbot, QtDrawn)[2]
    first = shot(view)
    assert first == shot(reference)
    assert shot(view) == first
