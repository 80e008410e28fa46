"""The Chats panel on a real store: it builds its list again only when something it shows changed."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.core.clock import ManualClock
from desktop.core.store import VisitorStore
from desktop.core.team import ChatBucket
from desktop.integration.i18n import install_translators
from desktop.ui.chats_panel import ChatsPanel
from protocol.messages import History, MessageAdded, VisitorActivity, VisitorPatch
from tests.unit.desktop.factory import NOW, make_visitor, message, snapshot, visitor_id

pytestmark = pytest.mark.gui

ME = 7


class Feed:
    """A store fed with deltas in seq order, each batch handed to the panel as the dispatcher would."""

    def __init__(self, store: VisitorStore, panel: ChatsPanel) -> None:
        self.store, self.panel = store, panel

    def apply(self, *events: VisitorPatch | VisitorActivity | MessageAdded) -> None:
        for event in events:
            self.store.apply(msgspec.structs.replace(event, seq=self.store.seq + 1))
        self.panel.on_changes(self.store.take_changes())


@pytest.fixture
def panel(qapp: QApplication, qtbot: QtBot) -> Iterator[tuple[ChatsPanel, VisitorStore, ManualClock, Feed]]:
    install_translators(qapp, "en")
    store, clock = VisitorStore(), ManualClock(NOW)
    visitors = [make_visitor(n) for n in range(20)]
    visitors[1] = make_visitor(1, name="Ada", chat_status="unanswered", in_chat=True)
    visitors[2] = make_visitor(2, name="Grace", chat_status="unanswered", in_chat=True)
    visitors[3] = make_visitor(3, name="Zoë", chat_status="active", in_chat=True, chat_agent_id=3, chat_agent_name="Bo")
    visitors[4] = make_visitor(4, name="Linus", chat_status="active", in_chat=True, chat_agent_id=ME)
    store.apply(snapshot(visitors))
    for n, at in ((1, NOW - 90), (2, NOW - 30)):
        store.apply(MessageAdded(seq=store.seq + 1, message=message(n, 0, at=at)))
    chats = ChatsPanel(store, clock)
    qtbot.addWidget(chats)
    chats.stop()  # the test ticks by hand
    chats.me = ME
    chats.show_bucket(ChatBucket.ALL_OPEN)
    chats.on_changes(store.take_changes())
    yield chats, store, clock, Feed(store, chats)
    install_translators(qapp, "en")


def texts(panel: ChatsPanel) -> list[str]:
    return [panel.list.item(i).text() for i in range(panel.list.count())]


def test_unrelated_updates_build_nothing_and_a_change_to_an_open_chat_rebuilds(
    panel: tuple[ChatsPanel, VisitorStore, ManualClock, Feed],
) -> None:
    chats, _store, _clock, feed = panel
    assert chats.ids() == [visitor_id(1), visitor_id(2), visitor_id(4), visitor_id(3)]  # longest waiting first
    assert texts(chats)[0] == "Ada · waiting 1:30"
    assert chats.buttons[ChatBucket.ALL_OPEN].text() == "&All open (4)"
    chats.list.setCurrentRow(2)
    item, rebuilds = chats.list.item(2), chats.rebuilds
    # A flood of visitor updates: page views and activity of others, and of open chats too (nothing shown).
    feed.apply(
        *(VisitorPatch(visitor_id=visitor_id(n), current_url=f"https://shop.example/{n}") for n in range(20)),
        *(VisitorActivity(visitor_id=visitor_id(n), at=NOW + 1) for n in range(20)),
    )
    assert chats.rebuilds == rebuilds
    assert chats.list.item(2) is item
    assert chats.list.currentItem() is item
    # A change the panel shows that moves nothing: the line changes in place.
    feed.apply(VisitorPatch(visitor_id=visitor_id(4), unread=2))
    assert (chats.rebuilds, chats.edits) == (rebuilds, 1)
    assert chats.list.item(2) is item
    assert texts(chats)[2] == "Linus · 2 unread"
    # One that moves the chat (a new name sorts it after Zoë): the list is built again, the current item kept.
    feed.apply(VisitorPatch(visitor_id=visitor_id(4), name="Zygmunt", label="Zygmunt"))
    assert chats.rebuilds == rebuilds + 1
    assert chats.ids() == [visitor_id(1), visitor_id(2), visitor_id(3), visitor_id(4)]
    assert texts(chats)[3] == "Zygmunt · 2 unread"
    assert chats.ids()[chats.list.currentRow()] == visitor_id(4)  # still the current item
    # A chat that closes leaves; one that opens comes; a message starts a wait.
    feed.apply(VisitorPatch(visitor_id=visitor_id(3), chat_status="closed", in_chat=False))
    assert visitor_id(3) not in chats.ids()
    assert chats.buttons[ChatBucket.ALL_OPEN].text() == "&All open (3)"
    feed.apply(
        VisitorPatch(visitor_id=visitor_id(5), chat_status="unanswered", in_chat=True),
        MessageAdded(message=message(5, 0, at=NOW - 10)),
    )
    assert chats.ids() == [visitor_id(1), visitor_id(2), visitor_id(5), visitor_id(4)]
    assert chats.buttons[ChatBucket.UNASSIGNED].text() == "&Unassigned (3)"
    # A colleague takes a waiting chat: its line shows them in place, and the counts follow.
    edits = chats.edits
    feed.apply(VisitorPatch(visitor_id=visitor_id(5), chat_agent_id=3, chat_agent_name="Bo"))
    assert chats.edits == edits + 1
    assert texts(chats)[2] == "Visitor 000005 · waiting 10 s · [BO] Bo"
    assert chats.buttons[ChatBucket.UNASSIGNED].text() == "&Unassigned (2)"


def test_the_waiting_times_tick_in_place_and_a_loaded_history_reorders(
    panel: tuple[ChatsPanel, VisitorStore, ManualClock, Feed],
) -> None:
    chats, store, clock, _feed = panel
    item, rebuilds = chats.list.item(0), chats.rebuilds
    clock.advance(75)
    chats.tick()
    assert chats.rebuilds == rebuilds
    assert chats.list.item(0) is item
    assert texts(chats)[:2] == ["Ada · waiting 2:45", "Grace · waiting 1:45"]
    # A history from the server (no change batch) shows Grace waited longer: the order follows at the tick.
    store.apply(History(ref="r", visitor_id=visitor_id(2), messages=[message(2, 1, at=NOW - 301)]))
    chats.tick()
    assert chats.rebuilds == rebuilds + 1
    assert chats.ids()[:2] == [visitor_id(2), visitor_id(1)]
    assert texts(chats)[0] == "Grace · waiting 6:15"


def test_the_agent_and_the_language_rebuild_the_list(
    qapp: QApplication, panel: tuple[ChatsPanel, VisitorStore, ManualClock, Feed]
) -> None:
    chats, _store, _clock, _feed = panel
    chats.show_bucket(ChatBucket.MINE)
    assert chats.ids() == [visitor_id(4)]
    chats.me = 3
    assert chats.ids() == [visitor_id(3)]
    install_translators(qapp, "de")
    qapp.processEvents()
    assert chats.buttons[ChatBucket.MINE].text() == "&Meine (1)"
