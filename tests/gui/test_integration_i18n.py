"""Translations: the German UI shows the seed article's labels, plural forms are right, Qt's own texts too."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QTableView
from pytestqt.qtbot import QtBot

from desktop.core.clock import ManualClock
from desktop.core.filters import VisitorFilter
from desktop.core.store import VisitorStore
from desktop.integration.i18n import TRANSLATOR_NAME, install_translators, resolve_language
from desktop.integration.resources import state_icon
from desktop.net.client import AgentClient
from desktop.session import ClientActions
from desktop.ui.conversation import ConversationManager
from desktop.ui.legend import StateIconProvider
from desktop.ui.main_window import MainWindow
from desktop.ui.visitor_model import VisitorTableModel
from protocol.messages import Snapshot, Visitor

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
translate = QCoreApplication.translate

# The seed article's German labels of the Visitors tab.
SEED_FILTERS = {
    VisitorFilter.ALL: "Alles",
    VisitorFilter.ACTIVE: "Aktiv",
    VisitorFilter.IN_CHAT: "Im Chat",
    VisitorFilter.CUSTOMERS: "Kunden",
    VisitorFilter.AUTO_MESSAGED: "Automatisch benachrichtigt",
    VisitorFilter.BLOCKED: "Gesperrt",
}


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The test QApplication, back in English (and its default locale) afterwards."""
    locale = QLocale()
    yield qapp
    install_translators(qapp, "en")
    QLocale.setDefault(locale)


def test_german_translator_gives_the_seed_labels(app: QApplication) -> None:
    assert install_translators(app, "de") == "de"
    english = ["All", "Active", "In chat", "Customers", "Auto-messaged", "Blocked"]
    assert [translate("FilterBar", text) for text in english] == list(SEED_FILTERS.values())
    assert translate("MainWindow", "Visitors") == "Besucher"
    assert translate("VisitorsTab", "Open conversation") == "Konversation öffnen"


def test_texts_outside_a_qobject_class_are_translated_in_the_context_qt_asks_for(app: QApplication) -> None:
    install_translators(app, "de")
    # desktop/ui/text.py's helpers translate in "Frontdesk"; app.py calls window.tr() on the MainWindow.
    assert translate("Frontdesk", "delivered") == "zugestellt"
    assert translate("Frontdesk", "Automatic message") == "Automatische Nachricht"
    assert translate("MainWindow", "Demo website: %1 - open it in a browser and chat with yourself.").startswith(
        "Demo-Website: %1"
    )


def test_plural_forms_in_german_and_english(app: QApplication) -> None:
    install_translators(app, "de")
    assert translate("MainWindow", "%n unread chat(s)", "", 1) == "1 ungelesener Chat"
    assert translate("MainWindow", "%n unread chat(s)", "", 3) == "3 ungelesene Chats"
    assert translate("Notifier", "%n new visitor(s)", "", 1) == "1 neuer Besucher"
    assert translate("Notifier", "%n new visitor(s)", "", 2) == "2 neue Besucher"
    install_translators(app, "en")
    assert translate("MainWindow", "%n unread chat(s)", "", 1) == "1 unread chat"
    assert translate("MainWindow", "%n unread chat(s)", "", 3) == "3 unread chats"
    assert translate("Notifier", "%n new visitor(s)", "", 0) == "0 new visitors"


def test_qt_own_texts_come_in_german_too(app: QApplication) -> None:
    install_translators(app, "de")
    # QDialogButtonBox's standard buttons and QLineEdit's context menu are Qt's, from qtbase_de.qm.
    assert translate("QPlatformTheme", "Cancel") == "Abbrechen"
    assert translate("QLineEdit", "&Undo") == "&Rückgängig"


def test_switching_back_to_english_removes_the_german_translators(app: QApplication) -> None:
    install_translators(app, "de")
    assert len(app.findChildren(QTranslator, TRANSLATOR_NAME)) == 2
    install_translators(app, "en")
    assert translate("FilterBar", "Customers") == "Customers"
    assert translate("QPlatformTheme", "Cancel") == "Cancel"


@pytest.mark.parametrize(
    ("setting", "system", "expected"),
    [
        (None, ["de-DE", "en-US"], "de"),
        ("system", ["fr-FR", "de-AT"], "de"),
        ("", ["fr-FR"], "en"),
        ("en", ["de-DE"], "en"),
        ("de", ["en-US"], "de"),
        ("de_CH", ["en-US"], "de"),
    ],
)
def test_language_follows_the_system_unless_chosen(setting: str | None, system: list[str], expected: str) -> None:
    assert resolve_language(setting, system) == expected


def test_an_unknown_language_is_refused_and_changes_nothing(app: QApplication) -> None:
    install_translators(app, "de")
    with pytest.raises(ValueError, match="no 'fr' translation; choose one of system, en, de"):
        install_translators(app, "fr")
    assert translate("FilterBar", "Customers") == "Kunden"


def test_main_window_built_in_german_shows_the_seed_labels(app: QApplication, qtbot: QtBot) -> None:
    install_translators(app, "de")
    store, clock = VisitorStore(), ManualClock(1_700_000_000.0)
    icons = StateIconProvider(state_icon)
    model = VisitorTableModel(store, clock, icons)
    # A real client object that is never started: the window only keeps it for later actions.
    actions = ClientActions(AgentClient("http://127.0.0.1:9", "unused-token", store))
    conversations = ConversationManager(store, actions, clock)
    window = MainWindow(store, model, actions, conversations=conversations, clock=clock, icons=icons)
    qtbot.addWidget(window)
    buttons = window.visitors.filters.buttons
    # The buttons carry live counts: "Kunden (0)".
    labels = {f: re.sub(r" \(\d+\)$", "", button.text()) for f, button in buttons.items()}
    assert {f: labels[f] for f in SEED_FILTERS} == SEED_FILTERS
    assert labels[VisitorFilter.WITH_BOT] == "Mit Bot", "the bots' filter comes after the seed article's"
    assert window.visitors.open_button.text() == "Konversation öffnen"
    assert window.tabs.tabText(window.tabs.indexOf(window.visitors)) == "Besucher"


def test_catalogues_are_complete_and_compiled() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "update_translations.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"run packaging/update_translations.py and translate:\n{result.stderr}"


def shown_model(qtbot: QtBot, store: VisitorStore, visitors: list[Visitor]) -> VisitorTableModel:
    """A model over ``visitors`` in a view (a language change reaches the model through the view)."""
    store.apply(Snapshot(seq=1, reason="initial", visitors=visitors))
    store.take_changes()
    model = VisitorTableModel(store, ManualClock(1_700_000_000.0), StateIconProvider(state_icon))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    model.attach_view(view)
    return model


def test_search_finds_countries_by_their_name_in_the_ui_language_after_a_switch(
    app: QApplication, qtbot: QtBot
) -> None:
    install_translators(app, "en")
    store = VisitorStore()
    germany = Visitor(
        id="visitor-germany",
        label="",
        first_seen_at=0,
        visit_started_at=0,
        last_activity_at=0,
        country_code="DE",
        country="Germany",
    )
    france = msgspec.structs.replace(germany, id="visitor-france", country_code="FR", country="France")
    model = shown_model(qtbot, store, [germany, france])
    model.set_search("Deutschland")
    assert model.rowCount() == 0  # the server names countries in English
    install_translators(app, "de")
    qtbot.waitUntil(lambda: model.rowCount() == 1)  # the view's LanguageChange reaches the model
    assert model.visitor_at(0) == germany
    model.set_search("Frankreich")
    assert model.visitor_at(0) == store.visitors["visitor-france"]
    model.set_search("Deutschland")
    install_translators(app, "en")
    qtbot.waitUntil(lambda: model.rowCount() == 0)
    model.set_search("Germany")
    assert model.rowCount() == 1


def test_search_finds_an_anonymous_visitor_by_its_label_in_the_ui_language(app: QApplication, qtbot: QtBot) -> None:
    install_translators(app, "en")
    store = VisitorStore()
    anonymous = Visitor(
        id="v-abcSdf9rh", label="Visitor Sdf9rh", first_seen_at=0, visit_started_at=0, last_activity_at=0
    )
    named = msgspec.structs.replace(anonymous, id="v-abc000002", name="Ada Lovelace", label="Ada Lovelace")
    model = shown_model(qtbot, store, [anonymous, named])
    model.set_search("Besucher Sdf9rh")
    assert model.rowCount() == 0  # the server's labels are English
    install_translators(app, "de")
    qtbot.waitUntil(lambda: model.rowCount() == 1)  # the view's LanguageChange reaches the model
    assert model.visitor_at(0) == anonymous
    assert model.index(0, 1).data() == "Besucher Sdf9rh"  # as the list shows it
    model.set_search("Besucher")
    assert model.rowCount() == 1  # Ada is listed by her name
    install_translators(app, "en")
    qtbot.waitUntil(lambda: model.rowCount() == 0)
    model.set_search("Visitor Sdf9rh")
    assert model.rowCount() == 1
