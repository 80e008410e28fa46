"""The visitor table model: rows, filters, search, sort, counts, ticking Active, incremental updates."""

from __future__ import annotations

import random
from typing import Any

import pytest
from PySide6 import QtGui
from PySide6.QtCore import QEvent, QLocale, QPersistentModelIndex, QPointF, Qt
from PySide6.QtGui import QColor, QEnterEvent, QIcon, QKeyEvent, QMouseEvent, QPixmap
from PySide6.QtWidgets import QApplication, QPushButton, QTableView, QWidget

from desktop.core.clock import Deadline, ManualClock
from desktop.core.filters import Search, VisitorFilter, count_filters, matches_filter, search_text
from desktop.core.ordering import Column, sort_key
from desktop.core.state import VisitorState, primary_state
from desktop.core.store import Changes, VisitorStore
from desktop.ui.dispatcher import StoreDispatcher
from desktop.ui.reorder_hold import CALM_MS
from desktop.ui.visitor_model import VISITOR_ID_ROLE, VisitorTableModel
from protocol.messages import MessageAdded, Typing, Visitor
from protocol.rules import ACTIVE_WINDOW_SECONDS
from tests.unit.desktop.factory import NOW, activity, changed, left, make_visitor, message, snapshot, visitor_id

pytestmark = pytest.mark.gui

DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
DECORATION = Qt.ItemDataRole.DecorationRole
IDLE_AT = NOW - ACTIVE_WINDOW_SECONDS - 1


class Icons:
    """Distinct icons per state, recording which states were asked for."""

    def __init__(self) -> None:
        self.made: dict[VisitorState, QIcon] = {}

    def __call__(self, state: VisitorState) -> QIcon:
        pixmap = QPixmap(8, 8)
        pixmap.fill(QColor.fromHsv(list(VisitorState).index(state) * 30, 200, 200))
        icon = self.made[state] = QIcon(pixmap)
        return icon


def mixed_visitors() -> list[Visitor]:
    """A list covering every state and filter."""
    return [
        make_visitor(0, name="Ada Lovelace", email="ada@example.org"),
        make_visitor(1, last_activity_at=IDLE_AT, visit_started_at=NOW - 4000),
        make_visitor(2, chat_status="active", in_chat=True, chat_agent_name="Bo", country_code="FR", country="France"),
        make_visitor(3, chat_status="unanswered", in_chat=True, unread=1),
        make_visitor(4, customer=True, name="Grace", visit_count=3, referrer="https://search.example/?q=boots"),
        make_visitor(5, auto_messaged=True, browser="Firefox", os="Linux", device="desktop"),
        make_visitor(6, banned=True, online=False),
        make_visitor(7, online=False, left_at=NOW - 2),
        make_visitor(8, current_title="Checkout", current_url="https://shop.example/checkout"),
        make_visitor(9, visit_count=2, last_activity_at=NOW - ACTIVE_WINDOW_SECONDS + 30),
    ]


def build(visitors: list[Visitor] | None = None, seq: int = 10) -> tuple[VisitorStore, ManualClock, VisitorTableModel]:
    store = VisitorStore()
    clock = ManualClock(NOW)
    store.apply(snapshot(mixed_visitors() if visitors is None else visitors, seq=seq))
    model = VisitorTableModel(store, clock, Icons())
    store.take_changes()
    return store, clock, model


def shown_ids(model: VisitorTableModel) -> list[str]:
    return [model.index(r, 0).data(VISITOR_ID_ROLE) for r in range(model.rowCount())]


def expected_ids(
    store: VisitorStore,
    now: float,
    f: VisitorFilter = VisitorFilter.ALL,
    search: str = "",
    column: Column = Column.STATE,
    descending: bool = False,
) -> list[str]:
    """The rows computed from scratch with the pure core (countries searched in the UI's language too)."""
    query, locale = Search(search), QLocale().name()
    chosen = [
        v for v in store.visitors.values() if matches_filter(f, v, now) and query.matches_text(search_text(v, locale))
    ]
    chosen.sort(key=lambda v: sort_key(column, v, now), reverse=descending)
    return [v.id for v in chosen]


def test_model_passes_the_model_tester(qapp: QApplication, qtmodeltester: Any) -> None:
    _store, _clock, model = build()
    qtmodeltester.check(model, force_py=False)


def test_default_order_and_cells(qapp: QApplication) -> None:
    store, _clock, model = build()
    assert shown_ids(model) == expected_ids(store, NOW)
    assert shown_ids(model)[:2] == [visitor_id(3), visitor_id(2)]  # new chat, then chatting
    row = model.row_of(visitor_id(2))
    cells = [model.index(row, c).data(DISPLAY) for c in Column]
    assert cells[Column.NAME] == f"Visitor {visitor_id(2)[-6:]}"  # built from the id in the UI language
    assert cells[Column.LOCATION] == "France"
    assert not model.index(row, Column.LOCATION).data(DECORATION).isNull()  # the flag, a cached icon
    assert cells[Column.PAGE] == "Product 2"
    assert cells[Column.TIME_ON_SITE] == "01:02"
    assert cells[Column.VISITS] == "1"
    assert cells[Column.AGENT] == "Bo"
    assert model.index(row, Column.PAGE).data(TOOLTIP) == "https://shop.example/p/2"
    assert model.index(row, Column.STATE).data(TOOLTIP).startswith("Chatting")
    grace = model.row_of(visitor_id(4))
    assert model.index(grace, Column.NAME).data(DISPLAY) == "Grace"
    assert model.index(grace, Column.STATE).data(TOOLTIP).splitlines() == ["Customer", "Active", "Returning (3)"]
    assert model.index(grace, Column.REFERRER).data(DISPLAY) == "https://search.example/?q=boots"
    firefox = model.row_of(visitor_id(5))
    assert model.index(firefox, Column.DEVICE).data(DISPLAY) == "Firefox · Linux · desktop"
    assert model.headerData(Column.PAGE, Qt.Orientation.Horizontal, DISPLAY) == "Current page"


def test_state_icons_come_from_icon_for(qapp: QApplication) -> None:
    store, clock, model = build()
    icons: Icons = model._icon_for  # type: ignore[assignment]
    for visitor in store.visitors.values():
        row = model.row_of(visitor.id)
        if row < 0:
            continue
        icon = model.index(row, Column.STATE).data(DECORATION)
        state = primary_state(visitor, clock())
        assert icon.cacheKey() == icons.made[state].cacheKey(), visitor.id


@pytest.mark.parametrize("f", list(VisitorFilter))
def test_every_filter_and_its_count(qapp: QApplication, f: VisitorFilter) -> None:
    store, _clock, model = build()
    model.set_filter(f)
    assert shown_ids(model) == expected_ids(store, NOW, f)
    assert model.counts == count_filters(store.visitors.values(), NOW)
    assert model.counts[f] == model.rowCount()


def test_search_narrowing_and_widening(qapp: QApplication) -> None:
    store, _clock, model = build()
    for text in ["a", "ad", "ada", "ada example", "ad", "", "checkout", "FRANCE", "visitor-0000000", "xyz"]:
        model.set_search(text)
        assert shown_ids(model) == expected_ids(store, NOW, search=text), text
    model.set_search("grace")
    model.set_filter(VisitorFilter.CUSTOMERS)
    assert shown_ids(model) == [visitor_id(4)]
    model.set_filter(VisitorFilter.IN_CHAT)
    assert shown_ids(model) == []


@pytest.mark.parametrize("column", list(Column))
@pytest.mark.parametrize("descending", [False, True])
def test_every_column_sorts(qapp: QApplication, column: Column, descending: bool) -> None:
    store, _clock, model = build()
    order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
    model.sort(column, order)
    assert shown_ids(model) == expected_ids(store, NOW, column=column, descending=descending)
    assert model.sort_column == column


def test_html_from_visitors_is_returned_literally(qapp: QApplication) -> None:
    html = '<img src="file:///etc/passwd"><b>bold</b> &lt;'
    _store, _clock, model = build([make_visitor(1, name=html, current_title=html, current_url="https://x/<i>")])
    assert model.index(0, Column.NAME).data(DISPLAY) == html
    assert model.index(0, Column.PAGE).data(DISPLAY) == html
    # QToolTip guesses rich text: tooltips carry the same characters, made inert.
    for column, text in [(Column.NAME, html), (Column.PAGE, "https://x/<i>")]:
        tooltip = model.index(0, column).data(TOOLTIP)
        assert QtGui.Qt.mightBeRichText(html)
        assert not QtGui.Qt.mightBeRichText(tooltip)
        assert tooltip.replace("\u200b", "") == text


def test_active_turns_off_with_time_alone(qapp: QApplication) -> None:
    store, clock, model = build()
    counts: list[dict[VisitorFilter, int]] = []
    model.countsChanged.connect(counts.append)
    model.set_filter(VisitorFilter.ACTIVE)
    assert visitor_id(9) in shown_ids(model)
    before = model.counts[VisitorFilter.ACTIVE]
    clock.advance(29)
    model.tick()
    assert visitor_id(9) in shown_ids(model)
    clock.advance(2)
    model.tick()
    assert visitor_id(9) not in shown_ids(model)
    assert counts[-1][VisitorFilter.ACTIVE] == before - 1
    model.set_filter(VisitorFilter.ALL)
    assert shown_ids(model) == expected_ids(store, clock())
    row = model.row_of(visitor_id(9))
    assert model.index(row, Column.STATE).data(TOOLTIP).startswith("Idle")


def test_tick_refreshes_only_the_time_column(qapp: QApplication) -> None:
    _store, clock, model = build()
    seen: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): seen.append((a.row(), a.column(), b.row(), b.column())))
    clock.advance(1)
    model.tick(visible=(2, 5))
    assert seen == [(2, Column.TIME_ON_SITE, 5, Column.TIME_ON_SITE)]


def test_tick_uses_the_attached_views_visible_rows(qapp: QApplication) -> None:
    _store, clock, model = build([make_visitor(i) for i in range(500)])
    view = QTableView()
    view.setModel(model)
    view.resize(400, 200)
    view.show()
    model.attach_view(view)
    seen: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): seen.append((a.row(), b.row())))
    clock.advance(1)
    model.tick()
    assert len(seen) == 1
    first, last = seen[0]
    assert first == 0
    assert 0 < last < 50
    view.close()


def test_incremental_updates_keep_persistent_indexes(qapp: QApplication, qtmodeltester: Any) -> None:
    store, clock, model = build([make_visitor(i, visit_started_at=NOW - 1000 + i) for i in range(30)], seq=10)
    qtmodeltester.check(model, force_py=False)
    tracked = {
        vid: QPersistentModelIndex(model.index(model.row_of(vid), 2)) for vid in map(visitor_id, range(0, 30, 3))
    }
    seq = 10
    moves: list[int] = []
    model.rowsMoved.connect(lambda *_args: moves.append(1))

    def push(event: Any) -> None:
        store.apply(event)
        model.apply_changes(store.take_changes())

    seq += 1
    push(changed(seq, make_visitor(9, chat_status="unanswered", in_chat=True, visit_started_at=NOW - 991)))
    assert model.row_of(visitor_id(9)) == 0
    seq += 1
    push(changed(seq, make_visitor(31, visit_started_at=NOW - 5000)))
    seq += 1
    push(left(seq, 12))
    seq += 1
    push(changed(seq, make_visitor(3, last_activity_at=IDLE_AT, visit_started_at=NOW - 997)))
    assert moves
    for vid, index in tracked.items():
        if vid == visitor_id(12):
            assert not index.isValid()
            continue
        assert index.isValid()
        assert index.row() == model.row_of(vid)
        assert index.column() == 2
        assert index.data(VISITOR_ID_ROLE) == vid
    assert shown_ids(model) == expected_ids(store, clock())


def test_typing_shows_in_the_state_icon(qapp: QApplication) -> None:
    store, _clock, model = build()
    store.apply(Typing(visitor_id=visitor_id(2), who="visitor", typing=True))
    model.apply_changes(store.take_changes())
    row = model.row_of(visitor_id(2))
    assert model.index(row, Column.STATE).data(TOOLTIP).startswith("Typing")


@pytest.mark.parametrize("bulk", [False, True])
def test_random_updates_match_a_fresh_computation(qapp: QApplication, qtmodeltester: Any, bulk: bool) -> None:
    """Random deltas, filters, searches and sorts: the rows always equal the from-scratch answer."""
    rng = random.Random(7 if bulk else 3)
    store, clock, model = build([make_visitor(i, visit_started_at=NOW - rng.uniform(0, 9000)) for i in range(60)])
    if bulk:
        model.visitor_index.BULK_MIN = 0  # type: ignore[misc]
    qtmodeltester.check(model, force_py=False)
    view = QTableView()
    view.setModel(model)
    selection: set[str] = set()
    seq = 10
    column, descending, f, search = Column.STATE, False, VisitorFilter.ALL, ""
    for step in range(120):
        for _ in range(rng.randint(1, 12)):
            seq += 1
            n = rng.randrange(90)
            kind = rng.random()
            if kind < 0.2:
                event: Any = left(seq, n)
            elif kind < 0.5 and visitor_id(n) in store.visitors:
                event = activity(seq, n, clock() - rng.randint(0, 700))
            else:
                event = changed(
                    seq,
                    make_visitor(
                        n,
                        name=rng.choice([None, "Ada", "Bob", "Zoë"]),
                        visit_started_at=NOW - rng.uniform(0, 9000),
                        last_activity_at=clock() - rng.randint(0, 1200),
                        chat_status=rng.choice(["none", "none", "unanswered", "active"]),
                        customer=rng.random() < 0.3,
                        auto_messaged=rng.random() < 0.3,
                        banned=rng.random() < 0.1,
                        online=rng.random() < 0.9,
                        visit_count=rng.randint(1, 4),
                        country=rng.choice(["Germany", "France", None]),
                    ),
                )
            store.apply(event)
        model.apply_changes(store.take_changes())
        if step % 10 == 0:
            column, descending = rng.choice(list(Column)), rng.random() < 0.5
            model.sort(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        if step % 7 == 0:
            f = rng.choice(list(VisitorFilter))
            model.set_filter(f)
        if step % 5 == 0:
            search = rng.choice(["", "a", "ad", "ada", "b", "germ", "visitor-0000004"])
            model.set_search(search)
        if step % 4 == 0:
            clock.advance(rng.randint(0, 200))  # whole seconds: flips are reported on the second
            model.tick()
        if model.rowCount() and step % 3 == 0:
            row = rng.randrange(model.rowCount())
            view.selectRow(row)
            selection = {model.index(row, 0).data(VISITOR_ID_ROLE)}
        assert shown_ids(model) == expected_ids(store, clock(), f, search, column, descending), step
        assert model.counts == count_filters(store.visitors.values(), clock())
        selected = {i.data(VISITOR_ID_ROLE) for i in view.selectionModel().selectedRows()}
        assert selected <= selection
        selection = selected


def test_dispatcher_batches_a_frame_of_events_into_one_drain(qtbot: Any) -> None:
    store, clock, model = build()
    dispatcher = StoreDispatcher(store)
    dispatcher.visitorsChanged.connect(model.apply_changes)
    arrived: list[list[Visitor]] = []
    messages: list[Any] = []
    dispatcher.visitorsArrived.connect(arrived.append)
    dispatcher.messageAdded.connect(messages.append)
    for seq in range(11, 61):
        store.apply(changed(seq, make_visitor(100 + seq)))
    store.apply(MessageAdded(seq=61, message=message(111, 1)))
    store.apply(activity(62, 0, NOW + 1))
    assert dispatcher.drains == 0  # nothing until the frame timer fires
    qtbot.waitUntil(lambda: dispatcher.drains == 1)
    assert [v.id for v in arrived[0]] == [visitor_id(100 + seq) for seq in range(11, 61)]
    assert [m.id for m in messages] == [message(111, 1).id]
    assert shown_ids(model) == expected_ids(store, clock())
    store.apply(left(63, 0))
    qtbot.waitUntil(lambda: dispatcher.drains == 2)
    assert model.row_of(visitor_id(0)) == -1
    dispatcher.detach()
    assert store.on_dirty is None


def test_dispatcher_applies_a_backlog_in_bounded_chunks(qtbot: Any) -> None:
    store, clock, model = build()
    dispatcher = StoreDispatcher(store, frame_ms=1, chunk=7)
    sizes: list[int] = []
    dispatcher.visitorsChanged.connect(lambda changes: sizes.append(len(changes.upserted) + len(changes.removed)))
    dispatcher.visitorsChanged.connect(model.apply_changes)
    arrived: list[str] = []
    dispatcher.visitorsArrived.connect(lambda visitors: arrived.extend(v.id for v in visitors))
    for seq in range(11, 41):
        store.apply(changed(seq, make_visitor(100 + seq)))
    store.apply(left(41, 0))
    store.apply(left(42, 111))  # arrived and left while waiting: never announced
    qtbot.waitUntil(lambda: dispatcher.drains >= 1)
    store.apply(changed(43, make_visitor(0, name="back again")))  # re-added while its removal still waits
    store.apply(activity(44, 1, NOW + 1))
    qtbot.waitUntil(lambda: dispatcher.backlog == 0 and shown_ids(model) == expected_ids(store, clock()))
    assert max(sizes) <= 7
    assert len(sizes) >= 5
    # Visitor 0 left and came back: announced again, once.
    assert arrived == [visitor_id(100 + seq) for seq in range(11, 41) if 100 + seq != 111] + [visitor_id(0)]
    assert shown_ids(model) == expected_ids(store, clock())
    assert model.visitor(visitor_id(0)) == store.visitors[visitor_id(0)]
    dispatcher.detach()


def test_dispatcher_sizes_chunks_to_its_time_budget(qapp: QApplication) -> None:
    """Each drain emits what fits in the budget at the time per change measured so far (a fake clock here)."""
    store, clock, model = build()
    now = [0.0]
    per_change = [0.0005]  # seconds a visitor change "takes" on the Qt side
    dispatcher = StoreDispatcher(
        store, frame_ms=60_000, budget_ms=8.0, min_chunk=4, chunk=1000, clock=lambda: now[0]
    )  # the frame timer never fires here: each drain_chunk() below is one frame
    sizes: list[int] = []

    def apply(changes: Changes) -> None:
        size = len(changes.upserted) + len(changes.removed)
        sizes.append(size)
        model.apply_changes(changes)
        now[0] += size * per_change[0]

    def drain(frames: int) -> None:
        for _ in range(frames):
            dispatcher.drain_chunk()

    dispatcher.visitorsChanged.connect(apply)
    for seq in range(11, 1011):
        store.apply(changed(seq, make_visitor(100 + seq)))
    drain(8)
    # Half a millisecond per change: 16 changes fill the 8 ms budget once a few chunks were measured.
    assert sizes[0] == 40  # the first guess: 0.2 ms per change
    assert sizes[1] < sizes[0]
    assert sizes[5:8] == [16, 16, 16]
    assert dispatcher.chunk == 16
    per_change[0] = 0.0001  # cheaper changes: the chunk grows within a few drains, to 80
    drain(10)
    assert sizes[-10] < sizes[-5] < sizes[-1]
    assert 76 <= dispatcher.chunk <= 80
    per_change[0] = 0.01  # dear ones: never fewer than min_chunk
    drain(3)
    assert dispatcher.chunk == 4
    assert sizes[-1] == 4
    while dispatcher.backlog:
        dispatcher.drain_chunk()
    assert sum(sizes) == 1000
    assert shown_ids(model) == expected_ids(store, clock())
    dispatcher.detach()


def test_dispatcher_takes_a_longer_budget_while_it_falls_behind(qapp: QApplication) -> None:
    store, clock, model = build()
    now = [0.0]
    dispatcher = StoreDispatcher(
        store, frame_ms=60_000, budget_ms=8.0, catch_up_budget_ms=16.0, min_chunk=4, clock=lambda: now[0]
    )

    def apply(changes: Changes) -> None:
        model.apply_changes(changes)
        now[0] += (len(changes.upserted) + len(changes.removed)) * 0.0005

    dispatcher.visitorsChanged.connect(apply)
    for seq in range(11, 1011):
        store.apply(changed(seq, make_visitor(100 + seq)))
    for _ in range(10):
        dispatcher.drain_chunk()
    assert dispatcher.chunk == 16
    now[0] += 1.0  # a backlog older than a second: the list is falling behind
    assert dispatcher.chunk == 32
    while dispatcher.backlog:
        dispatcher.drain_chunk()
    assert dispatcher.chunk == 16  # caught up
    assert shown_ids(model) == expected_ids(store, clock())
    dispatcher.detach()


def test_unsorted_means_the_default_order(qapp: QApplication) -> None:
    store, _clock, model = build()
    model.sort(Column.NAME, Qt.SortOrder.DescendingOrder)
    model.sort(-1, Qt.SortOrder.AscendingOrder)
    assert model.sort_column == Column.STATE
    assert shown_ids(model) == expected_ids(store, NOW)


def test_rows_hold_still_under_the_pointer(qapp: QApplication, qtmodeltester: Any) -> None:
    """Pointer over a row: a burst that would move it leaves it in place; on leaving the order is right."""
    store, clock, model = build([make_visitor(i, current_title=f"Page {i:03d}") for i in range(40)])
    qtmodeltester.check(model, force_py=False)
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.resize(700, 500)
    view.show()
    model.attach_view(view)
    model.sort(Column.PAGE, Qt.SortOrder.AscendingOrder)
    pointed, chosen = visitor_id(5), visitor_id(7)
    view.selectRow(model.row_of(chosen))
    view.setCurrentIndex(model.index_of(chosen, 1))
    pos = view.visualRect(model.index_of(pointed)).center()
    viewport = view.viewport()
    global_pos = QPointF(viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, QEnterEvent(QPointF(pos), QPointF(pos), global_pos))
    QApplication.sendEvent(
        viewport,
        QMouseEvent(
            QEvent.Type.MouseMove,
            QPointF(pos),
            global_pos,
            Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        ),
    )
    rows_before = shown_ids(model)
    seq = 10
    burst = [
        make_visitor(5, current_title="Zz moved to the end"),
        make_visitor(7, current_title="Aa chosen moves to the top"),
        *(make_visitor(n, current_title=f"Ab {n}") for n in range(20, 30)),
        *(make_visitor(n, current_title="Ac new") for n in (50, 51, 52)),
    ]
    for visitor in burst:
        seq += 1
        store.apply(changed(seq, visitor))
    seq += 1
    store.apply(left(seq, 3))
    model.apply_changes(store.take_changes())

    assert view.indexAt(pos).data(VISITOR_ID_ROLE) == pointed
    assert shown_ids(model) == rows_before
    assert view.indexAt(pos).siblingAtColumn(Column.PAGE).data(DISPLAY) == "Zz moved to the end"  # in place
    assert model.waiting == 3
    banner = view.findChild(QPushButton, "newVisitorsWaiting")
    assert banner is not None
    assert banner.isVisible()
    assert "3" in banner.text()
    assert {i.data(VISITOR_ID_ROLE) for i in view.selectionModel().selectedRows()} == {chosen}

    QApplication.sendEvent(viewport, QEvent(QEvent.Type.Leave))
    assert shown_ids(model) == expected_ids(store, clock(), column=Column.PAGE)
    assert shown_ids(model)[0] == chosen
    assert model.waiting == 0
    assert not banner.isVisible()
    assert {i.data(VISITOR_ID_ROLE) for i in view.selectionModel().selectedRows()} == {chosen}
    assert view.currentIndex().data(VISITOR_ID_ROLE) == chosen
    assert view.currentIndex().column() == 1
    view.close()


def test_a_held_key_holds_the_order_until_released_and_calm(qapp: QApplication, qtbot: Any) -> None:
    store, clock, model = build([make_visitor(i, current_title=f"Page {i:03d}") for i in range(10)])
    view = QTableView()
    view.setModel(model)
    view.show()
    model.attach_view(view)
    model.sort(Column.PAGE, Qt.SortOrder.AscendingOrder)
    press = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Down, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view, press)
    store.apply(changed(11, make_visitor(9, current_title="Aa first")))
    model.apply_changes(store.take_changes())
    assert model.row_of(visitor_id(9)) == 9
    QApplication.sendEvent(view, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Down, Qt.KeyboardModifier.NoModifier))
    assert model.row_of(visitor_id(9)) == 9  # not yet: the calm comes first
    qtbot.waitUntil(lambda: model.row_of(visitor_id(9)) == 0, timeout=CALM_MS + 2000)
    assert shown_ids(model) == expected_ids(store, clock(), column=Column.PAGE)
    view.close()


def test_only_updates_that_change_what_is_shown_repaint(qapp: QApplication) -> None:
    """Activity that leaves the state as it was announces nothing for a painted row; a visible change does."""
    store, _clock, model = build()
    row = model.row_of(visitor_id(0))
    for column in Column:
        model.index(row, column).data(DISPLAY)  # painted: the row's cells are cached
    seen: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): seen.append((a.row(), b.row())))
    store.apply(activity(11, 0, NOW - 1))
    model.apply_changes(store.take_changes())
    assert seen == []
    store.apply(Typing(visitor_id=visitor_id(0), who="visitor", typing=True))
    model.apply_changes(store.take_changes())
    assert seen == [(row, row)]  # the state icon's cell
    assert model.index(row, Column.STATE).data(TOOLTIP).startswith("Typing")
    store.apply(changed(12, make_visitor(0, name="Ada King", email="ada@example.org", last_activity_at=NOW - 1)))
    model.apply_changes(store.take_changes())
    assert seen[-1] == (model.row_of(visitor_id(0)), model.row_of(visitor_id(0)))
    assert model.index(model.row_of(visitor_id(0)), Column.NAME).data(DISPLAY) == "Ada King"


def test_a_page_view_announces_only_the_cells_that_changed(qapp: QApplication) -> None:
    store, _clock, model = build()
    row = model.row_of(visitor_id(0))
    for column in Column:
        model.index(row, column).data(DISPLAY)  # painted: the row's cells are cached
    seen: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): seen.append((a.row(), a.column(), b.row(), b.column())))
    visitor = make_visitor(
        0, name="Ada Lovelace", email="ada@example.org", current_title="Checkout", current_url="https://x.example/c"
    )
    store.apply(changed(11, visitor))
    model.apply_changes(store.take_changes())
    assert seen == [(row, Column.PAGE, row, Column.PAGE)]  # a view repaints that one cell
    assert model.index(row, Column.PAGE).data(DISPLAY) == "Checkout"
    assert model.index(row, Column.PAGE).data(TOOLTIP) == "https://x.example/c"


def test_hiding_the_window_applies_the_held_order(qapp: QApplication) -> None:
    store, clock, model = build([make_visitor(i, current_title=f"Page {i:03d}") for i in range(10)])
    window = QWidget()
    view = QTableView(window)
    view.setModel(model)
    window.show()
    model.attach_view(view)
    model.sort(Column.PAGE, Qt.SortOrder.AscendingOrder)
    QApplication.sendEvent(view.viewport(), QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    store.apply(changed(11, make_visitor(30, current_title="Aa new")))
    model.apply_changes(store.take_changes())
    assert model.row_of(visitor_id(30)) == -1
    assert model.waiting == 1
    window.hide()  # a notification's click may now ask for the new visitor's row
    assert model.row_of(visitor_id(30)) == 0
    assert shown_ids(model) == expected_ids(store, clock(), column=Column.PAGE)
    window.close()


def test_dispatcher_paces_calm_traffic_and_keeps_up_with_busy_traffic(qtbot: Any) -> None:
    store, clock, model = build()
    dispatcher = StoreDispatcher(store, calm_gap_ms=400, busy_per_second=20)
    dispatcher.visitorsChanged.connect(model.apply_changes)
    store.apply(activity(11, 0, NOW + 1))
    qtbot.waitUntil(lambda: dispatcher.drains == 1)  # the first change after a quiet spell: one frame
    store.apply(activity(12, 1, NOW + 1))
    qtbot.wait(150)
    assert dispatcher.drains == 1  # calm: not before the gap since the previous drain
    qtbot.waitUntil(lambda: dispatcher.drains == 2, timeout=3000)
    # Sustained traffic above busy_per_second: drains follow the changes (the calm gap would allow 2.5/s).
    seq = 12
    drains_before = 0
    for step in range(30):
        if step == 20:
            drains_before = dispatcher.drains
        for n in range(5):
            seq += 1
            store.apply(changed(seq, make_visitor(200 + n, visit_count=seq)))
        qtbot.wait(50)
    assert dispatcher.drains - drains_before >= 6  # in the last ten feeds, about half a second
    assert shown_ids(model) == expected_ids(store, clock())
    dispatcher.detach()


def test_a_long_hold_released_during_a_flood_goes_out_over_several_frames(qapp: QApplication, qtbot: Any) -> None:
    """The dispatcher's drains release a long hold a chunk per frame; the selection stays on its visitor."""
    rng = random.Random(13)
    store, clock, model = build([make_visitor(i, current_title=f"Page {i:04d}") for i in range(600)])
    dispatcher = StoreDispatcher(store, frame_ms=1, chunk=40, min_chunk=8, calm_gap_ms=0)
    dispatcher.visitorsChanged.connect(model.apply_changes)
    applied: list[int] = []

    def step(limit: int) -> tuple[int, int]:
        done, left = model.release_step(limit)
        applied.append(done)
        return done, left

    model.set_pacer(dispatcher.pace(step))
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.resize(700, 500)
    view.show()
    model.attach_view(view)
    model.sort(Column.PAGE, Qt.SortOrder.AscendingOrder)
    chosen = visitor_id(300)
    view.selectRow(model.row_of(chosen))
    view.setCurrentIndex(model.index_of(chosen, 1))
    viewport = view.viewport()
    pos = view.visualRect(model.index(2, 0)).center()
    QApplication.sendEvent(viewport, QEnterEvent(QPointF(pos), QPointF(pos), QPointF(viewport.mapToGlobal(pos))))
    assert model.visitor_index.held
    seq = [10]

    def flood(count: int) -> None:
        for _ in range(count):
            seq[0] += 1
            n = rng.randrange(700)
            if rng.random() < 0.1:
                store.apply(left(seq[0], n))
            else:
                store.apply(changed(seq[0], make_visitor(n, current_title=f"Page {rng.randrange(10_000):04d}")))

    flood(500)
    seq[0] += 1
    store.apply(changed(seq[0], make_visitor(300, current_title="Aa chosen goes to the top")))
    qtbot.waitUntil(lambda: dispatcher.drains > 0 and dispatcher.backlog == 0, timeout=10_000)
    deferred = model.visitor_index.deferred
    assert deferred > 200
    assert model.row_of(chosen) > 0  # held in place

    layouts: list[int] = []
    model.layoutAboutToBeChanged.connect(lambda: layouts.append(1))
    drains = dispatcher.drains
    QApplication.sendEvent(viewport, QEvent(QEvent.Type.Leave))
    assert model.visitor_index.releasing  # not applied in this turn of the loop
    assert model.visitor_index.deferred == deferred
    while dispatcher.pacing:
        flood(5)
        qtbot.wait(1)
        assert {i.data(VISITOR_ID_ROLE) for i in view.selectionModel().selectedRows()} == {chosen}
        assert view.currentIndex().data(VISITOR_ID_ROLE) == chosen
    dispatcher.flush()
    assert dispatcher.drains - drains >= 5
    assert len([n for n in applied if n]) >= 5  # several frames
    assert max(applied) <= 40  # at most a chunk a frame
    assert not layouts  # single moves, inserts and removals: never one layout change of everything
    assert model.visitor_index.deferred == 0
    assert shown_ids(model) == expected_ids(store, clock(), column=Column.PAGE)
    assert shown_ids(model)[0] == chosen
    assert {i.data(VISITOR_ID_ROLE) for i in view.selectionModel().selectedRows()} == {chosen}
    assert view.currentIndex().data(VISITOR_ID_ROLE) == chosen
    assert view.currentIndex().column() == 1
    dispatcher.detach()  # a detached dispatcher drives nothing: a release is then applied at once
    model.hold()
    store.apply(changed(seq[0] + 1, make_visitor(1, current_title="A now first")))
    model.apply_changes(store.take_changes())
    model.release()
    assert shown_ids(model)[0] == visitor_id(1)
    assert shown_ids(model) == expected_ids(store, clock(), column=Column.PAGE)
    view.close()


def test_paced_work_gets_at_least_half_of_each_drain_while_a_flood_waits(qapp: QApplication) -> None:
    """A release shares the drain's budget with visitor changes; a backlog cannot starve it, nor it the backlog."""
    store, clock, model = build()
    now = [0.0]
    dispatcher = StoreDispatcher(store, frame_ms=60_000, chunk=40, min_chunk=4, clock=lambda: now[0])
    sizes: list[int] = []
    limits: list[int] = []
    left = [100]

    def apply(changes: Changes) -> None:
        sizes.append(len(changes.upserted) + len(changes.removed))
        model.apply_changes(changes)

    def step(limit: int) -> tuple[int, int]:
        limits.append(limit)
        done = min(limit, left[0])
        left[0] -= done
        return done, left[0]

    dispatcher.visitorsChanged.connect(apply)
    wake = dispatcher.pace(step)
    for seq in range(11, 511):
        store.apply(changed(seq, make_visitor(100 + seq)))
    assert wake()
    while dispatcher.pacing:
        dispatcher.drain_chunk()
    assert left[0] == 0
    assert len(limits) == 5  # 100 changes at 20 a drain
    assert all(size == 20 for size in sizes)  # the flood got the other half
    assert all(limit == 20 for limit in limits)
    while dispatcher.backlog:
        dispatcher.drain_chunk()
    assert sizes[-1] == 40  # the whole chunk again once the release is done
    assert len(limits) == 5
    assert shown_ids(model) == expected_ids(store, clock())
    dispatcher.detach()
    assert not wake()


def test_paint_cell_gives_what_the_roles_give(qapp: QApplication) -> None:
    """The delegate's one call per cell shows exactly what data() serves (text, icon, alignment, visitor id)."""
    _, _, model = build()
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            text, icon, right_aligned, visitor_id = model.paint_cell(row, column)
            assert text == index.data(DISPLAY)
            served = index.data(DECORATION)  # a copy through QVariant: the same icon has the same cache key
            assert (icon.cacheKey() if icon else None) == (served.cacheKey() if served else None)
            assert right_aligned == (index.data(Qt.ItemDataRole.TextAlignmentRole) == right)
            assert visitor_id == index.data(VISITOR_ID_ROLE)
    assert model.paint_cell(model.rowCount(), 0) == ("", None, False, "")


class SlowClock:
    """A clock a millisecond later at every look: each visitor change "takes" about a millisecond."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.reads / 1000


def test_a_drain_stops_at_its_deadline_and_the_rest_goes_out_in_the_next(qapp: QApplication) -> None:
    """The list applies first, by the drain's deadline; listeners see exactly what it applied, each change once."""
    store, clock, model = build()
    dispatcher = StoreDispatcher(store, frame_ms=60_000, budget_ms=8.0, min_chunk=100, chunk=1000, clock=SlowClock())
    dispatcher.apply_with(model.apply_changes)
    emitted: list[set[str]] = []
    arrived: list[str] = []
    dispatcher.visitorsChanged.connect(lambda changes: emitted.append(changes.upserted | changes.removed))
    dispatcher.visitorsArrived.connect(lambda visitors: arrived.extend(v.id for v in visitors))
    new = [visitor_id(100 + n) for n in range(50)]
    for seq, n in enumerate(range(50), 11):
        store.apply(changed(seq, make_visitor(100 + n)))
    store.apply(left(61, 0))
    dispatcher.drain_chunk()
    first = emitted[0]
    assert 2 <= len(first) <= 12  # about the 8 ms budget's worth, not the 51 the chunk allowed
    assert visitor_id(0) in first  # removals go first
    assert model.row_of(visitor_id(0)) == -1
    assert dispatcher.backlog == 51 - len(first)
    for vid in new:  # shown exactly when announced
        assert (model.row_of(vid) >= 0) == (vid in first)
    assert set(arrived) == first - {visitor_id(0)}  # an arrival is announced with its row
    while dispatcher.backlog:
        dispatcher.drain_chunk()
    assert len(emitted) >= 5
    assert sum(map(len, emitted)) == 51  # each change once
    assert set().union(*emitted) == {*new, visitor_id(0)}
    assert sorted(arrived) == sorted(new)
    rows = shown_ids(model)
    assert rows == expected_ids(store, clock())
    assert len(set(rows)) == len(rows)
    dispatcher.detach()


def test_what_a_deadline_left_yields_to_newer_changes_of_the_same_visitors(qapp: QApplication) -> None:
    """A departure left for later and then a return, an update left and then a departure: the newest wins."""
    store, clock, model = build([make_visitor(n) for n in range(40)])
    dispatcher = StoreDispatcher(store, frame_ms=60_000, budget_ms=4.0, min_chunk=100, chunk=1000, clock=SlowClock())
    dispatcher.apply_with(model.apply_changes)
    seq = 10
    for n in range(20):  # more departures than one drain applies
        seq += 1
        store.apply(left(seq, n))
    for n in range(20, 30):
        seq += 1
        store.apply(changed(seq, make_visitor(n, name=f"Renamed {n}")))
    dispatcher.drain_chunk()
    waiting = dispatcher.backlog
    assert 0 < waiting < 30
    gone = [n for n in range(20) if model.row_of(visitor_id(n)) >= 0]  # departures not applied yet
    assert gone
    seq += 1
    store.apply(changed(seq, make_visitor(gone[-1], name="Back again")))
    seq += 1
    store.apply(left(seq, 29))  # its rename was left for later too
    while dispatcher.backlog:
        dispatcher.drain_chunk()
    assert shown_ids(model) == expected_ids(store, clock())
    assert model.visitor(visitor_id(gone[-1])) == store.visitors[visitor_id(gone[-1])]
    assert model.row_of(visitor_id(29)) == -1
    assert model.visitor(visitor_id(25)) == store.visitors[visitor_id(25)]
    dispatcher.detach()


def test_a_flush_and_a_snapshot_are_applied_whole(qapp: QApplication) -> None:
    store, clock, model = build()
    dispatcher = StoreDispatcher(store, frame_ms=60_000, budget_ms=1.0, min_chunk=100, chunk=1000, clock=SlowClock())
    dispatcher.apply_with(model.apply_changes)
    for seq, n in enumerate(range(30), 11):
        store.apply(changed(seq, make_visitor(100 + n)))
    dispatcher.flush()
    assert dispatcher.backlog == 0
    assert shown_ids(model) == expected_ids(store, clock())
    store.apply(snapshot([make_visitor(n) for n in range(300)], seq=100))
    dispatcher.drain_chunk()
    assert dispatcher.backlog == 0
    assert shown_ids(model) == expected_ids(store, clock())
    dispatcher.detach()


def test_a_backlog_the_next_drain_clears_is_not_falling_behind(qapp: QApplication) -> None:
    """A few changes a deadline leaves for the next frame, drain after drain, keep the normal budget."""
    store, clock, model = build()
    now = [0.0]
    dispatcher = StoreDispatcher(
        store, frame_ms=60_000, budget_ms=8.0, catch_up_budget_ms=16.0, min_chunk=4, chunk=1000, clock=lambda: now[0]
    )

    def apply(changes: Changes, deadline: Deadline | None) -> tuple[list[str], list[str]]:
        ids = sorted(changes.upserted)
        left = ids[-5:] if deadline is not None and len(ids) > 5 else []
        model.apply_changes(Changes(upserted=set(ids) - set(left), removed=changes.removed))
        now[0] += (len(ids) - len(left)) * 0.0002  # 0.2 ms a change: 40 fit in the 8 ms budget
        return [], left

    dispatcher.apply_with(apply)
    seq = 10
    for _ in range(120):  # 2.4 s of 30 changes a frame; each drain leaves 5 for the next
        for _ in range(30):
            seq += 1
            store.apply(changed(seq, make_visitor(100 + seq % 200, visit_count=seq)))
        now[0] += 0.02
        dispatcher.drain_chunk()
        assert 0 < dispatcher.backlog <= 10
    assert dispatcher.chunk == 40  # the normal budget still (the catch-up budget would allow 80)
    for _ in range(60):  # more each frame than a drain takes: falling behind, and after a second catching up
        for _ in range(60):
            seq += 1
            store.apply(changed(seq, make_visitor(100 + seq % 400, visit_count=seq)))
        now[0] += 0.02
        dispatcher.drain_chunk()
    assert dispatcher.chunk == 80
    while dispatcher.backlog:  # the catch-up budget until the backlog is gone
        assert dispatcher.chunk == 80
        dispatcher.drain_chunk()
    assert dispatcher.chunk < 50
    assert shown_ids(model) == expected_ids(store, clock())
    dispatcher.detach()
