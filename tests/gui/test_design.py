"""The design: German fits at the default window size, labels follow the UI language, themes keep contrast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QStyle
from pytestqt.qtbot import QtBot

from desktop.core.clock import ManualClock
from desktop.core.filters import VisitorFilter
from desktop.core.ordering import Column
from desktop.core.state import VisitorState
from desktop.core.store import VisitorStore
from desktop.core.team import ChatBucket
from desktop.integration.i18n import install_translators
from desktop.integration.resources import state_icon
from desktop.net.client import AgentClient
from desktop.session import ClientActions
from desktop.ui.chats_panel import ChatsPanel
from desktop.ui.conversation import ConversationManager
from desktop.ui.legend import StateIconProvider
from desktop.ui.login import LoginDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.style import (
    DARK,
    HIGH_CONTRAST,
    HIGH_CONTRAST_DARK,
    LIGHT,
    Theme,
    ThemeController,
    choose_theme,
    make_palette,
)
from desktop.ui.visitor_model import VisitorTableModel
from tests.unit.desktop.factory import NOW, make_visitor, snapshot

pytestmark = pytest.mark.gui

THEMES = [LIGHT, DARK, HIGH_CONTRAST, HIGH_CONTRAST_DARK]


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The test QApplication, back in English (and its default locale) afterwards."""
    locale = QLocale()
    yield qapp
    install_translators(qapp, "en")
    QLocale.setDefault(locale)


def _window(qtbot: QtBot) -> MainWindow:
    store, clock = VisitorStore(), ManualClock(NOW)
    store.apply(
        snapshot(
            [
                make_visitor(1, country_code="DE", country="Germany", city="Berlin"),
                make_visitor(2, country_code="AT", country="Austria", name="Ada Lovelace", customer=True),
                make_visitor(3, country_code="GB", country="United Kingdom", auto_messaged=True, visit_count=4),
            ]
        )
    )
    store.take_changes()
    icons = StateIconProvider(state_icon)
    model = VisitorTableModel(store, clock, icons)
    # A real client object that is never started: the window only keeps it for later actions.
    actions = ClientActions(AgentClient("http://127.0.0.1:9", "unused-token", store))
    conversations = ConversationManager(store, actions, clock)
    window = MainWindow(store, model, actions, conversations=conversations, clock=clock, icons=icons)
    qtbot.addWidget(window)
    return window


def _cells(window: MainWindow, column: Column) -> set[str]:
    model = window.visitors.model
    return {str(model.index(row, column).data()) for row in range(model.rowCount())}


def test_german_header_and_button_texts_fit_at_the_default_window_size(app: QApplication, qtbot: QtBot) -> None:
    install_translators(app, "de")
    window = _window(qtbot)
    window.show()
    qtbot.waitExposed(window)
    tab = window.visitors
    assert tab.select_visitor(make_visitor(1).id)
    header = tab.table.horizontalHeader()
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    arrow = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, None, header)
    titles = [str(tab.model.headerData(c, Qt.Orientation.Horizontal)) for c in range(tab.model.columnCount())]
    assert "Status" in titles  # German, not English
    for column, title in enumerate(titles):
        # Text, margins on both sides and the sort arrow (every section can become the sorted one).
        needed = header.fontMetrics().horizontalAdvance(title) + 3 * margin + arrow
        assert header.sectionSize(column) >= needed, f"{title!r}: {header.sectionSize(column)} < {needed} px"
    buttons = [b for b in window.findChildren(QAbstractButton) if b.isVisible() and b.text()]
    assert len(buttons) >= 8  # six filters, open, ban
    for button in buttons:
        text = button.text().replace("&", "")
        needed = button.fontMetrics().horizontalAdvance(text)
        assert button.width() > needed, f"{text!r}: {button.width()} <= {needed} px"
        assert button.visibleRegion().boundingRect().width() == button.width(), f"{text!r} is covered"


@pytest.mark.parametrize("language", ["en", "de"])
def test_chats_panel_buttons_fit_their_text_at_the_default_window_size(
    app: QApplication, qtbot: QtBot, language: str
) -> None:
    install_translators(app, language)
    window = _window(qtbot)
    panel = ChatsPanel(VisitorStore(), ManualClock(NOW), window)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, panel)
    window.show()
    qtbot.waitExposed(window)
    panel.refresh()
    app.processEvents()
    assert panel.buttons[ChatBucket.MINE].text() == {"en": "&Mine (0)", "de": "&Meine (0)"}[language]
    for button in panel.buttons.values():
        text = button.text().replace("&", "")
        needed = button.fontMetrics().horizontalAdvance(text)
        assert button.width() > needed, f"{text!r}: {button.width()} <= {needed} px"
        assert button.visibleRegion().boundingRect().width() == button.width(), f"{text!r} is covered"
    # Even a dock dragged to its narrowest keeps the labels whole (its minimum follows the texts).
    window.resizeDocks([panel], [1], Qt.Orientation.Horizontal)
    app.processEvents()
    for button in panel.buttons.values():
        text = button.text().replace("&", "")
        assert button.width() > button.fontMetrics().horizontalAdvance(text), f"{text!r} cut in a narrow dock"


def test_visitor_labels_countries_and_texts_follow_a_language_switch(app: QApplication, qtbot: QtBot) -> None:
    install_translators(app, "en")
    window = _window(qtbot)
    tab = window.visitors
    assert tab.select_visitor(make_visitor(1).id)
    assert f"Visitor {make_visitor(1).id[-6:]}" in _cells(window, Column.NAME)
    assert "Germany, Berlin" in _cells(window, Column.LOCATION)
    assert tab.detail.title_label.text() == f"Visitor {make_visitor(1).id[-6:]}"
    model = tab.model
    titles: list[tuple[int, int]] = []
    model.headerDataChanged.connect(lambda _o, first, last: titles.append((first, last)))
    assert model.headerData(Column.STATE, Qt.Orientation.Horizontal) == "State"
    state_tip = model.index(tab.model.row_of(make_visitor(1).id), Column.STATE).data(Qt.ItemDataRole.ToolTipRole)

    install_translators(app, "de")  # at run time: Qt posts LanguageChange to every widget
    app.processEvents()
    assert model.headerData(Column.STATE, Qt.Orientation.Horizontal) == "Status"
    assert titles, "the header was told its titles changed"
    german_tip = model.index(tab.model.row_of(make_visitor(1).id), Column.STATE).data(Qt.ItemDataRole.ToolTipRole)
    assert german_tip != state_tip, "the state tooltip follows the language"
    assert f"Besucher {make_visitor(1).id[-6:]}" in _cells(window, Column.NAME)
    assert {"Deutschland, Berlin", "Österreich"} <= _cells(window, Column.LOCATION)
    assert "Ada Lovelace" in _cells(window, Column.NAME)  # a name stays a name
    assert tab.detail.title_label.text() == f"Besucher {make_visitor(1).id[-6:]}"
    assert tab.detail.identity_title.text() == "Kontakt"
    assert tab.filters.buttons[next(iter(tab.filters.buttons))].text().startswith("Alles (")
    assert window.visitors_menu.title() == "Be&sucher"
    assert tab.current_visitor() is not None  # the rebuild kept the selection
    assert tab.current_visitor().id == make_visitor(1).id  # type: ignore[union-attr]

    install_translators(app, "en")
    app.processEvents()
    assert "Austria" in _cells(window, Column.LOCATION)
    assert model.headerData(Column.STATE, Qt.Orientation.Horizontal) == "State"


def test_detail_pane_shows_what_to_do_without_a_selection(app: QApplication, qtbot: QtBot) -> None:
    install_translators(app, "en")
    window = _window(qtbot)
    detail = window.visitors.detail
    assert detail.currentWidget() is detail.empty
    assert "Pick someone" in detail.empty.hint.text()
    window.visitors.select_visitor(make_visitor(3).id)
    assert detail.currentWidget() is detail.facts
    chips = [chip.text() for chip in detail.chips]
    assert chips[0] == "Auto-messaged"  # the primary state first, in the legend's words
    assert "Returning (4)" in chips


def test_status_line_goes_when_its_action_finished(app: QApplication, qtbot: QtBot) -> None:
    window = _window(qtbot)
    window.show_status("Opening the conversation with Ada…")
    window.clear_status("Something else")
    assert window.statusBar().currentMessage() == "Opening the conversation with Ada…"
    window.clear_status("Opening the conversation with Ada…")
    assert window.statusBar().currentMessage() == ""
    window.visitors.statusMessage.emit("Opening the conversation with Bob…")
    window.visitors.statusMessage.emit("The server refused")  # a later line replaces it
    window.visitors.statusFinished.emit("Opening the conversation with Bob…")
    assert window.statusBar().currentMessage() == "The server refused"


def _luminance(color: QColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.red()) + 0.7152 * channel(color.green()) + 0.0722 * channel(color.blue())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("theme", THEMES, ids=[t.name for t in THEMES])
def test_text_and_chips_are_readable_in_every_theme(qapp: QApplication, theme: Theme) -> None:
    palette = make_palette(theme)
    for fg, bg in (
        (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
        (QPalette.ColorRole.Text, QPalette.ColorRole.AlternateBase),
        (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
        (QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
        (QPalette.ColorRole.PlaceholderText, QPalette.ColorRole.Base),
    ):
        assert contrast(palette.color(fg), palette.color(bg)) >= 4.5, (fg, bg)
    assert contrast(QColor(theme.accent_text), QColor(theme.accent)) >= 4.5
    assert contrast(QColor(theme.bubble_agent_text), QColor(theme.bubble_agent)) >= 4.5
    for bubble in (theme.bubble_visitor, theme.bubble_auto):
        assert contrast(QColor(theme.text), QColor(bubble)) >= 4.5
        assert contrast(QColor(theme.muted), QColor(bubble)) >= 4.5
    assert set(theme.chips) == set(VisitorState)
    for state, (chip_bg, chip_fg) in theme.chips.items():
        assert contrast(QColor(chip_fg), QColor(chip_bg)) >= 4.5, state
    if theme.high_contrast:
        assert contrast(QColor(theme.text), QColor(theme.base)) >= 7


def test_the_system_scheme_and_contrast_choose_the_theme() -> None:
    assert choose_theme(Qt.ColorScheme.Unknown, False) is LIGHT
    assert choose_theme(Qt.ColorScheme.Light, False) is LIGHT
    assert choose_theme(Qt.ColorScheme.Dark, False) is DARK
    assert choose_theme(Qt.ColorScheme.Light, True) is HIGH_CONTRAST
    assert choose_theme(Qt.ColorScheme.Dark, True) is HIGH_CONTRAST_DARK


def test_a_theme_change_restyles_the_open_windows(app: QApplication, qtbot: QtBot) -> None:
    controller = ThemeController(app, forced="light")
    try:
        window = _window(qtbot)
        tab = window.visitors
        assert LIGHT.accent in tab.filters.styleSheet()
        controller.apply(DARK)  # what a change of the system's colour scheme does
        assert app.palette().color(QPalette.ColorRole.Base) == QColor(DARK.base)
        assert DARK.accent in tab.filters.styleSheet()
        assert DARK.base in tab.detail.styleSheet()
        assert DARK.accent in tab.open_button.styleSheet()
        assert tab.avatars.theme is DARK
    finally:
        controller.setParent(None)  # the next tests see no controller (and light colours) again
        app.setPalette(app.style().standardPalette())


def test_an_empty_list_says_why_and_what_to_do(app: QApplication, qtbot: QtBot) -> None:
    install_translators(app, "en")
    window = _window(qtbot)
    window.show()
    qtbot.waitExposed(window)
    tab = window.visitors
    assert not tab.empty_label.isVisible()
    tab.search.setText("nobody-like-this")
    assert tab.empty_label.isVisible()
    assert "nobody-like-this" in tab.empty_label.text()
    tab.search.clear()
    assert not tab.empty_label.isVisible()
    tab.filters.choose(VisitorFilter.BLOCKED)
    assert tab.empty_label.isVisible()
    assert "Alt+1" in tab.empty_label.text()


def test_the_login_error_takes_its_colour_from_the_theme(app: QApplication, qtbot: QtBot) -> None:
    controller = ThemeController(app, forced="light")
    try:
        dialog = LoginDialog("", "")
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.show_error("Wrong password")
        for theme in THEMES:
            controller.apply(theme)  # what a change of the system's scheme or contrast does
            dialog.error_label.ensurePolished()
            shown = dialog.error_label.palette().color(QPalette.ColorRole.WindowText)
            assert shown == QColor(theme.danger), theme.name
            assert contrast(shown, app.palette().color(QPalette.ColorRole.Window)) >= 4.5, theme.name
    finally:
        controller.setParent(None)
        app.setPalette(app.style().standardPalette())
