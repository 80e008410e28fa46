"""The visitor index without Qt: order, filter, search, counts, the change events, and the reorder hold."""

from __future__ import annotations

import random

import pytest

from desktop.core.clock import Deadline, ManualClock
from desktop.core.columns import VisitorColumns, derived_label
from desktop.core.filters import Search, VisitorFilter, count_filters, matches_filter
from desktop.core.ordering import Column, sort_key, sort_values
from desktop.core.visitor_index import IndexListener, VisitorIndex, _packed, _unpacked
from protocol.messages import PageVisit, Visitor, VisitorPatch
from protocol.rules import ACTIVE_WINDOW_SECONDS
from tests.unit.desktop.factory import NOW, make_visitor, visitor_id


class Mirror(IndexListener):
    """A list kept only from the events, as a view would keep its rows; it must always equal the index."""

    def __init__(self) -> None:
        self.index: VisitorIndex | None = None
        self.rows: list[str] = []
        self.pending: tuple[str, int, int] | None = None
        self.events: list[str] = []
        self.changed_rows: list[tuple[int, int]] = []
        self.counts: list[dict[VisitorFilter, int]] = []
        self.waiting: list[int] = []

    def _idx(self) -> VisitorIndex:
        assert self.index is not None
        return self.index

    def inserting(self, row: int) -> None:
        assert 0 <= row <= len(self.rows)
        self.pending = ("insert", row, row)

    def inserted(self) -> None:
        assert self.pending is not None
        assert self.pending[0] == "insert"
        row = self.pending[1]
        vid = self._idx().id_at(row)
        assert vid is not None
        self.rows.insert(row, vid)
        self.events.append("insert")
        self.pending = None

    def removing(self, row: int) -> None:
        assert 0 <= row < len(self.rows)
        assert self._idx().id_at(row) == self.rows[row]  # still readable while being removed
        self.pending = ("remove", row, row)

    def removed(self) -> None:
        assert self.pending is not None
        assert self.pending[0] == "remove"
        del self.rows[self.pending[1]]
        self.events.append("remove")
        self.pending = None

    def moving(self, source: int, target: int) -> None:
        assert source != target
        assert 0 <= source < len(self.rows)
        assert 0 <= target < len(self.rows)
        self.pending = ("move", source, target)

    def moved(self) -> None:
        assert self.pending is not None
        assert self.pending[0] == "move"
        _, source, target = self.pending
        self.rows.insert(target, self.rows.pop(source))
        self.events.append("move")
        self.pending = None

    def changed(self, first: int, last: int) -> None:
        assert 0 <= first <= last < len(self.rows)
        self.changed_rows.append((first, last))
        self.events.append("changed")

    def reordering(self) -> None:
        self.events.append("reordering")

    def reordered(self) -> None:
        self.rows = list(self._idx())
        self.events.append("reordered")

    def reset(self) -> None:
        self.rows = list(self._idx())
        self.events.append("reset")

    def counts_changed(self, counts: dict[VisitorFilter, int]) -> None:
        self.counts.append(counts)

    def waiting_changed(self, count: int) -> None:
        self.waiting.append(count)


def mixed() -> list[Visitor]:
    idle = NOW - ACTIVE_WINDOW_SECONDS - 1
    return [
        make_visitor(0, name="Ada Lovelace", email="ada@example.org"),
        make_visitor(1, last_activity_at=idle, visit_started_at=NOW - 4000),
        make_visitor(2, chat_status="active", in_chat=True, chat_agent_name="Bo", country_code="FR", country="France"),
        make_visitor(3, chat_status="unanswered", in_chat=True, unread=1),
        make_visitor(4, customer=True, name="Grace", visit_count=3),
        make_visitor(5, auto_messaged=True, browser="Firefox", os="Linux", device="desktop"),
        make_visitor(6, banned=True, online=False),
        make_visitor(7, online=False, left_at=NOW - 2),
        make_visitor(8, current_title="Checkout", current_url="https://shop.example/checkout"),
        make_visitor(9, visit_count=2, last_activity_at=NOW - ACTIVE_WINDOW_SECONDS + 30),
    ]


def build(visitors: list[Visitor] | None = None) -> tuple[dict[str, Visitor], ManualClock, VisitorIndex, Mirror]:
    store = {v.id: v for v in (mixed() if visitors is None else visitors)}
    clock = ManualClock(NOW)
    mirror = Mirror()
    index = VisitorIndex(clock, mirror)
    mirror.index = index
    index.reset(store)
    return store, clock, index, mirror


def expected(
    store: dict[str, Visitor],
    now: float,
    f: VisitorFilter = VisitorFilter.ALL,
    search: str = "",
    column: Column = Column.STATE,
    descending: bool = False,
) -> list[str]:
    query = Search(search)
    chosen = [v for v in store.values() if matches_filter(f, v, now) and query.matches(v)]
    chosen.sort(key=lambda v: sort_key(column, v, now), reverse=descending)
    return [v.id for v in chosen]


def check(index: VisitorIndex, mirror: Mirror, store: dict[str, Visitor], now: float) -> None:
    want = expected(store, now, index.current_filter, index.search.query, index.sort_column, index.descending)
    assert list(index) == want
    assert mirror.rows == want
    assert index.counts == count_filters(store.values(), now)
    for row, vid in enumerate(want):
        assert index.row_of(vid) == row
        assert index.id_at(row) == vid


def test_reset_orders_filters_and_counts() -> None:
    store, clock, index, mirror = build()
    check(index, mirror, store, clock())
    assert list(index)[:2] == [visitor_id(3), visitor_id(2)]
    assert mirror.events == ["reset"]
    assert index.id_at(len(index)) is None
    assert index.record_at(-1) is None


@pytest.mark.parametrize("column", list(Column))
@pytest.mark.parametrize("descending", [False, True])
def test_every_column_sorts_and_filters(column: Column, descending: bool) -> None:
    store, clock, index, mirror = build()
    index.set_sort(column, descending)
    check(index, mirror, store, clock())
    for f in VisitorFilter:
        index.set_filter(f)
        check(index, mirror, store, clock())


def test_search_narrows_widens_and_reuses_earlier_results() -> None:
    store, clock, index, mirror = build([make_visitor(i, name=f"n{i % 7}x{i % 3}") for i in range(200)])
    for text in ["n", "n1", "n1x", "n1x2", "n1x", "n1", "n", "", "x2 n3", "x2"]:
        index.set_search(text)
        check(index, mirror, store, clock())
    # Widening after an update cannot reuse results from before it.
    index.set_search("n1x")
    store[visitor_id(1)] = make_visitor(1, name="n5x5")
    index.apply((), {visitor_id(1)}, store)
    index.set_search("n1")
    check(index, mirror, store, clock())


def test_single_updates_move_insert_and_remove_rows_one_at_a_time() -> None:
    store, clock, index, mirror = build()
    index.set_sort(Column.PAGE, False)
    mirror.events.clear()
    store[visitor_id(8)] = make_visitor(8, current_title="Zzz last")
    index.apply((), {visitor_id(8)}, store)
    assert mirror.events[0] == "move"
    store[visitor_id(20)] = make_visitor(20)
    index.apply((), {visitor_id(20)}, store)
    del store[visitor_id(0)]
    index.apply({visitor_id(0)}, (), store)
    assert "reordering" not in mirror.events
    assert "reset" not in mirror.events
    check(index, mirror, store, clock())


def test_an_unchanged_order_announces_only_the_changed_row() -> None:
    store, _clock, index, mirror = build()
    mirror.events.clear()
    store[visitor_id(4)] = make_visitor(4, customer=True, name="Grace Hopper", visit_count=3)
    index.apply((), {visitor_id(4)}, store)
    row = index.row_of(visitor_id(4))
    assert mirror.events == ["changed"]
    assert mirror.changed_rows == [(row, row)]


@pytest.mark.parametrize("descending", [False, True])
def test_changed_names_the_row_a_visitor_is_on_after_later_moves_of_the_batch(descending: bool) -> None:
    """A changed row's position is reused only while the row is still there: a later move shifts it."""
    store, _clock, index, mirror = build([make_visitor(n, current_title=f"Page {n:02d}") for n in range(10)])
    index.set_sort(Column.PAGE, descending)
    seen: list[str | None] = []
    mirror.changed = lambda first, last: seen.extend(index.id_at(r) for r in range(first, last + 1))  # type: ignore[method-assign]
    stays, jumps = visitor_id(5), visitor_id(8)
    store[stays] = make_visitor(5, current_title="Page 05", name="Renamed")  # changes in place, first
    store[jumps] = make_visitor(8, current_title="Page 00a")  # then moves past it, shifting its row
    index.apply((), [stays, jumps], store)
    assert sorted(map(str, seen)) == sorted([stays, jumps])
    assert mirror.events.count("move") == 1


@pytest.mark.parametrize("bulk", [False, True])
@pytest.mark.parametrize("holds", [False, True])
def test_random_updates_match_a_fresh_computation(bulk: bool, holds: bool) -> None:
    rng = random.Random(5)
    store, clock, index, mirror = build([make_visitor(i) for i in range(120)])
    if not bulk:
        index.BULK_MIN = 10_000  # type: ignore[misc]
    for step in range(60):
        column = Column(rng.randrange(len(Column)))
        if step % 10 == 0:
            index.set_sort(column, rng.random() < 0.5)
            index.set_filter(rng.choice(list(VisitorFilter)))
            index.set_search(rng.choice(["", "1", "product 2", "de"]))
        removed, upserted = random_batch(rng, store, rng.randrange(1, 400 if bulk else 8))
        if holds and rng.random() < 0.5:
            index.hold()
            before = list(index)
            index.apply(removed, upserted, store)
            assert list(index) == before
            assert mirror.rows == before
            assert index.counts == count_filters(store.values(), clock())
            if rng.random() < 0.5:
                continue  # still held at the next step
            index.release()
        else:
            index.apply(removed, upserted, store)
            index.release()
        check(index, mirror, store, clock())


def test_active_runs_out_with_time_alone() -> None:
    store, clock, index, mirror = build()
    index.set_filter(VisitorFilter.ACTIVE)
    clock.advance(ACTIVE_WINDOW_SECONDS)
    assert index.tick()
    check(index, mirror, store, clock())


def test_hold_keeps_the_rows_in_place_and_release_applies_the_order() -> None:
    store, clock, index, mirror = build([make_visitor(i) for i in range(50)])
    index.set_sort(Column.PAGE, False)
    pointed = visitor_id(10)
    row = index.row_of(pointed)
    before = list(index)
    index.hold()
    mirror.events.clear()
    # A burst that would move the pointed row to the top, others around it, arrivals and departures.
    store[pointed] = make_visitor(10, current_title="AAA first")
    for n in range(0, 50, 3):
        store[visitor_id(n)] = make_visitor(n, current_title=f"Zed {n}")
    for n in (60, 61, 62):
        store[visitor_id(n)] = make_visitor(n, current_title="Zz new")
    del store[visitor_id(20)]
    upserted = {pointed, *(visitor_id(n) for n in range(0, 50, 3)), *(visitor_id(n) for n in (60, 61, 62))}
    index.apply({visitor_id(20)}, upserted, store)
    assert list(index) == before
    assert index.row_of(pointed) == row
    assert set(mirror.events) == {"changed"}
    assert index.record_at(row) == store[pointed]  # the cell shows the new data in place
    assert index.waiting == 3
    assert mirror.waiting == [3]
    assert index.counts == count_filters(store.values(), clock())  # the filter buttons' counts stay live
    index.tick()
    assert list(index) == before
    index.release()
    assert index.waiting == 0
    assert mirror.waiting == [3, 0]
    check(index, mirror, store, clock())
    assert index.row_of(pointed) == 0


def test_filter_change_while_held_applies_what_was_deferred() -> None:
    store, clock, index, mirror = build()
    index.hold()
    store[visitor_id(30)] = make_visitor(30, customer=True)
    index.apply((), {visitor_id(30)}, store)
    assert index.row_of(visitor_id(30)) == -1
    index.set_filter(VisitorFilter.CUSTOMERS)
    assert index.held
    check(index, mirror, store, clock())


def test_a_visitor_new_and_gone_within_a_hold_never_shows() -> None:
    store, clock, index, mirror = build()
    index.hold()
    store[visitor_id(30)] = make_visitor(30)
    index.apply((), {visitor_id(30)}, store)
    del store[visitor_id(30)]
    del store[visitor_id(0)]
    index.apply({visitor_id(30), visitor_id(0)}, (), store)
    assert index.waiting == 0
    assert index.row_of(visitor_id(0)) >= 0
    index.release()
    assert "insert" not in mirror.events
    check(index, mirror, store, clock())


def test_choosing_the_current_filter_applies_what_the_hold_deferred() -> None:
    store, clock, index, mirror = build()
    index.hold()
    store[visitor_id(30)] = make_visitor(30)
    index.apply((), {visitor_id(30)}, store)
    assert index.row_of(visitor_id(30)) == -1
    index.set_filter(VisitorFilter.ALL)
    assert index.row_of(visitor_id(30)) >= 0
    assert index.held
    check(index, mirror, store, clock())


def test_countries_are_found_by_their_name_in_the_ui_language_and_follow_a_switch() -> None:
    store, _, index, mirror = build()
    germans = [v.id for v in store.values() if v.country_code == "DE" and not (v.banned and not v.online)]
    index.set_search("deutschland")
    assert list(index) == []  # the server names countries in English
    index.set_locale("de_DE")
    assert sorted(index) == sorted(germans)
    assert mirror.rows == list(index)
    index.set_search("frankreich")
    assert list(index) == [visitor_id(2)]
    store[visitor_id(20)] = make_visitor(20, country_code="AT", country="Austria")
    index.apply((), {visitor_id(20)}, store)
    index.set_search("österreich")
    assert list(index) == [visitor_id(20)]
    index.set_search("germany")  # the English name still finds them
    assert sorted(index) == sorted(germans)
    index.set_search("deutschland")
    index.set_locale("en_US")  # a switch at run time applies the search again
    assert list(index) == []
    assert mirror.rows == []
    index.set_locale("de_DE")
    assert sorted(index) == sorted(germans)


def test_a_place_text_kept_by_its_fields_follows_a_change_of_any_of_them() -> None:
    """Visitors on one page and place share a search text; a name, country or language change must not."""
    page = {"current_url": "https://shop.example/p/0", "current_title": "Product 0"}
    store, clock, index, mirror = build([make_visitor(0), make_visitor(1, name="Ada", **page), make_visitor(2, **page)])
    index.set_locale("de_DE")
    index.set_search("besucher")  # the word of an anonymous visitor's label, in the shared text
    assert sorted(index) == [visitor_id(0), visitor_id(2)]
    store[visitor_id(1)] = make_visitor(1, **page)  # now anonymous
    store[visitor_id(0)] = make_visitor(0, name="Cy")  # now named
    index.apply((), [visitor_id(1), visitor_id(0)], store)
    assert sorted(index) == [visitor_id(1), visitor_id(2)]
    index.set_search("")
    index.set_search("besucher")
    assert sorted(index) == [visitor_id(1), visitor_id(2)]
    index.set_search("frankreich")
    store[visitor_id(2)] = make_visitor(2, country_code="FR", **page)
    index.apply((), [visitor_id(2)], store)
    assert list(index) == [visitor_id(2)]
    index.set_search("")
    index.set_search("frankreich")  # searched again in the index's own texts
    assert list(index) == [visitor_id(2)]
    index.set_locale("fr_FR")  # the same fields in another language
    assert list(index) == []
    check(index, mirror, store, clock())


def random_batch(rng: random.Random, store: dict[str, Visitor], size: int) -> tuple[set[str], set[str]]:
    """Random departures, arrivals and changes of visitors 0..159, applied to ``store``."""
    removed: set[str] = set()
    upserted: set[str] = set()
    for _ in range(size):
        n = rng.randrange(160)
        vid = visitor_id(n)
        if rng.random() < 0.2:
            store.pop(vid, None)
            removed.add(vid)
            upserted.discard(vid)
        else:
            store[vid] = make_visitor(
                n,
                current_title=f"Page {rng.randrange(20)}",
                last_activity_at=NOW - rng.choice([5, ACTIVE_WINDOW_SECONDS + 5]),
                customer=rng.random() < 0.3,
                in_chat=rng.random() < 0.1,
                visit_count=rng.randrange(1, 4),
            )
            upserted.add(vid)
            removed.discard(vid)
    return removed, upserted


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("bulk", [False, True])
def test_a_release_in_chunks_keeps_the_events_true_after_every_chunk(seed: int, bulk: bool) -> None:
    """Random holds, chunked releases, updates and ticks; ``bulk``: updates during a release re-sort everything."""
    rng = random.Random(seed)
    store, clock, index, mirror = build([make_visitor(i) for i in range(120)])
    if bulk:
        index.BULK_MIN = 4  # type: ignore[misc]
    index.set_sort(rng.choice(list(Column)), rng.random() < 0.5)
    index.set_search(rng.choice(["", "", "1", "de"]))
    index.set_filter(rng.choice([VisitorFilter.ALL, VisitorFilter.ALL, VisitorFilter.ACTIVE]))
    mirror.events.clear()
    for _ in range(40):
        if not index.held and rng.random() < 0.4:
            index.hold()
        index.apply(*random_batch(rng, store, rng.randrange(1, 12)), store)
        if rng.random() < 0.2:
            clock.advance(20)
            index.tick()
        if index.held:
            assert index.counts == count_filters(store.values(), clock())
            if rng.random() < 0.6:
                continue
        pending = index.deferred
        left = index.release(rng.randrange(1, 9))
        assert left == index.deferred <= pending
        assert bulk or "reordering" not in mirror.events  # chunks are single moves, inserts and removals
        assert mirror.rows == list(index)
        assert index.counts == count_filters(store.values(), clock())
        for row, vid in enumerate(mirror.rows):
            assert index.row_of(vid) == row
        if not left:
            assert not index.releasing
            assert index.waiting == 0
            check(index, mirror, store, clock())
    while index.release(5):
        assert mirror.rows == list(index)
    check(index, mirror, store, clock())


def test_an_update_during_a_release_is_applied_once_and_leaves_the_deferred_sets() -> None:
    store, clock, index, mirror = build()
    index.set_sort(Column.PAGE, False)
    index.hold()
    store[visitor_id(8)] = make_visitor(8, current_title="Zzz last")
    store[visitor_id(20)] = make_visitor(20, current_title="Aaa first")
    del store[visitor_id(0)]
    index.apply({visitor_id(0)}, {visitor_id(8), visitor_id(20)}, store)
    assert index.deferred == 3
    assert index.waiting == 1
    assert index.release(1) == 2  # the departure first
    assert visitor_id(0) not in index
    assert index.releasing
    mirror.events.clear()
    store[visitor_id(20)] = make_visitor(20, current_title="Mmm middle")
    index.apply((), {visitor_id(20)}, store)  # applied now, so no longer waiting
    assert mirror.events == ["insert"]
    assert index.deferred == 1
    assert mirror.waiting[-1] == 0
    index.hold()  # a new hold stops the release where it is
    assert index.held
    store[visitor_id(20)] = make_visitor(20, current_title="Aaa first")
    index.apply((), {visitor_id(20)}, store)
    assert index.deferred == 2
    assert index.release(10) == 0
    check(index, mirror, store, clock())


class DepartingStore(dict[str, Visitor]):
    """A store that, like ``VisitorStore``, still gives the last record of a visitor who left."""

    def __init__(self, visitors: dict[str, Visitor]) -> None:
        super().__init__(visitors)
        self.gone: dict[str, Visitor] = {}

    def __delitem__(self, visitor_id: str) -> None:
        self.gone[visitor_id] = self[visitor_id]
        super().__delitem__(visitor_id)

    def departed(self, visitor_id: str) -> Visitor | None:
        return self.gone.get(visitor_id)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_leaving_visitor_stays_gone_when_its_activity_runs_out_during_the_hold(chunked: bool) -> None:
    plain, clock, index, mirror = build()
    store = DepartingStore(plain)
    index.hold()
    del store[visitor_id(9)]
    index.apply({visitor_id(9)}, (), store)
    assert index.record(visitor_id(9)) is not None  # its row stays while held, with its last record
    clock.advance(60)
    assert visitor_id(9) in index.tick()
    if chunked:
        index.release(1)
        index.tick()
        while index.release(1):
            pass
    else:
        index.release()
    assert visitor_id(9) not in index
    check(index, mirror, store, clock())


def fresh_order(index: VisitorIndex) -> list[str]:
    """Every listed visitor by the current column and then id, computed from scratch (ascending)."""
    records = [r for r in map(index.record, filter(None, index._ids)) if r is not None]
    now = index._clock()
    return [v.id for v in sorted(records, key=lambda v: sort_key(index.sort_column, v, now))]


@pytest.mark.parametrize("seed", range(4))
def test_a_column_sorted_again_reuses_its_order_only_while_nothing_it_depends_on_changed(seed: int) -> None:
    rng = random.Random(seed)
    store, clock, index, mirror = build([make_visitor(i) for i in range(120)])
    columns = [Column.STATE, Column.PAGE, Column.VISITS, Column.NAME]
    reused = fresh = 0
    for _ in range(80):
        if rng.random() < 0.6:
            column = rng.choice([c for c in columns if c != index.sort_column])
            kept = index._orders.get(column)
            index.set_sort(column, rng.random() < 0.3)
            order = index._sorted_all()
            if kept is not None and order is kept[0]:
                reused += 1
            else:
                fresh += 1
            assert [index._ids[s] for s in order] == fresh_order(index)
            check(index, mirror, store, clock())
            continue
        # An update of a single field (the page, the visit count or the name) leaves other columns' orders right.
        removed: set[str] = set()
        upserted: set[str] = set()
        for _ in range(rng.randrange(1, 4)):
            n = rng.randrange(130)
            vid = visitor_id(n)
            what = rng.random()
            if what < 0.1:
                store.pop(vid, None)
                removed.add(vid)
                upserted.discard(vid)
                continue
            old = store.get(vid) or make_visitor(n)
            if what < 0.4:
                store[vid] = make_visitor(n, current_title=f"Page {rng.randrange(5)}", visit_count=old.visit_count)
            elif what < 0.7:
                store[vid] = make_visitor(n, current_title=old.current_title, visit_count=rng.randrange(1, 4))
            else:
                store[vid] = make_visitor(
                    n, current_title=old.current_title, visit_count=old.visit_count, name=f"n{rng.randrange(9)}"
                )
            upserted.add(vid)
            removed.discard(vid)
        index.apply(removed, upserted, store)
        check(index, mirror, store, clock())
    assert reused  # both paths ran
    assert fresh


def test_a_kept_order_is_dropped_when_its_column_changed_while_another_was_shown() -> None:
    store, clock, index, mirror = build()
    index.set_sort(Column.PAGE, False)
    page_order = index._sorted_all()
    index.set_sort(Column.NAME, False)
    index.set_sort(Column.PAGE, False)
    assert index._sorted_all() is page_order  # nothing changed: no sort
    index.set_sort(Column.NAME, False)
    store[visitor_id(0)] = make_visitor(0, name="Ada Lovelace", email="ada@example.org", current_title="Zzz")
    index.apply((), {visitor_id(0)}, store)
    index.set_sort(Column.PAGE, False)
    assert index._sorted_all() is not page_order
    check(index, mirror, store, clock())
    assert list(index)[-1] == visitor_id(0)
    index.set_sort(Column.NAME, False)
    store[visitor_id(30)] = make_visitor(30)  # someone new: the id order changed
    index.apply((), {visitor_id(30)}, store)
    index.set_sort(Column.PAGE, False)
    check(index, mirror, store, clock())
    store_before_reset = dict(store)
    index.reset(store_before_reset)
    assert not index._orders


def test_only_the_last_two_columns_left_keep_their_order() -> None:
    _store, _clock, index, _mirror = build()
    for column in (Column.PAGE, Column.NAME, Column.LOCATION, Column.VISITS, Column.TIME_ON_SITE):
        index.set_sort(column, False)
        index._sorted_all()
    assert list(index._orders) == [Column.LOCATION, Column.VISITS]  # 12 bytes a visitor each, not one per column


@pytest.mark.parametrize("column", [Column.PAGE, Column.LOCATION, Column.VISITS, Column.TIME_ON_SITE])
def test_a_column_read_from_the_stores_columns_matches_a_fresh_sort_with_free_rows(column: Column) -> None:
    columns = VisitorColumns()
    visitors = [
        make_visitor(i, current_title=f"Page {i % 4}", visit_count=1 + i % 3, country=["France", "Chile", None][i % 3])
        for i in range(60)
    ]
    for v in visitors:
        columns.put(v)
    for i in range(0, 60, 7):
        columns.pop(visitor_id(i))  # free rows in the store, some of them at the end
    clock = ManualClock(NOW)
    mirror = Mirror()
    index = VisitorIndex(clock, mirror)
    mirror.index = index
    index.reset(columns)
    index.set_sort(column, False)
    listed = {v.id: v for v in visitors if v.id in columns}
    check(index, mirror, listed, clock())
    # Departures after the reset: the index's free slots get a placeholder, not a store row's value.
    for i in (1, 2, 58):
        columns.pop(visitor_id(i))
        del listed[visitor_id(i)]
    index.apply({visitor_id(1), visitor_id(2), visitor_id(58)}, (), columns)
    index.set_sort(Column.STATE, False)
    del index._values[column]  # computed again from the store, as on a first use
    index.set_sort(column, True)
    check(index, mirror, listed, clock())


@pytest.mark.parametrize("column", list(Column))
def test_every_columns_first_values_from_the_stores_columns_equal_sort_values_over_records(column: Column) -> None:
    """A column's values read from the columns (per group, number arrays, shown names) are ``sort_values``'s."""
    rng = random.Random(int(column))
    columns = VisitorColumns()
    for i in range(300):
        vid = visitor_id(i)
        name = rng.choice([None, None, "", "Ada Lovelace", "zoë", "ÉCOLE"])
        email = rng.choice([None, None, "", "ada@example.org"])
        label = rng.choice(
            [derived_label(name, email, vid), derived_label(name, email, vid), "", f"#{i}", "Besucher x"]
        )
        columns.put(
            make_visitor(
                i,
                name=name,
                email=email,
                label=label,
                banned=rng.random() < 0.1,
                online=rng.random() < 0.8,
                chat_status=rng.choice(["none", "unanswered", "active"]),
                chat_agent_name=rng.choice([None, "Bo", "bö"]),
                visit_count=rng.randrange(1, 5),
                referrer=rng.choice([None, "https://a.example/", "HTTPS://A.example/"]),
                browser=rng.choice([None, "Firefox"]),
                city=rng.choice([None, "Berlin"]),
                phone=rng.choice([None, "+49 30 1234"]),
                custom=rng.choice([{}, {"plan": "pro"}]),
                pages=rng.choice([(), (PageVisit(url="https://shop.example/", at=NOW),)]),
            )
        )
    for i in range(0, 300, 11):
        columns.pop(visitor_id(i))  # free rows in the store
    for i in range(1, 300, 13):
        if visitor_id(i) in columns:
            columns.patch(VisitorPatch(visitor_id=visitor_id(i), name=rng.choice([None, "Grace"])), keep_trail=False)
    clock = ManualClock(NOW)
    index = VisitorIndex(clock)
    index.reset(columns)
    for fresh in (index, VisitorIndex(clock)):  # slots as the store's rows, and slots in another order
        if fresh is not index:
            fresh.reset(dict(reversed(list(columns.items()))))
            fresh._source = columns
        values = fresh._column_values(column)
        slots = [slot for slot, vid in enumerate(fresh._ids) if vid]
        records = [columns[fresh._ids[slot]] for slot in slots]
        assert [values[slot] for slot in slots] == sort_values(column, records, clock())


class Ticks:
    """A clock that moves one unit each time it is read: a deadline ``at`` k passes after k reads."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return float(self.reads)


def test_a_deadline_that_passes_mid_batch_leaves_exactly_the_ids_not_applied() -> None:
    store, clock, index, mirror = build([make_visitor(i) for i in range(20)])
    seen = dict(store)
    removed = {visitor_id(1), visitor_id(2)}
    for vid in removed:
        del store[vid]
    upserted = {visitor_id(n) for n in (3, 4, 5, 30)}
    for n in (3, 4, 5, 30):
        store[visitor_id(n)] = make_visitor(n, current_title="Checkout", visit_count=9)
    ticks = Ticks()
    left_removed, left_upserted = index.apply(removed, upserted, store, Deadline(ticks, 3))
    # The first visitor goes without a look at the clock; then one read before each: three applied.
    assert ticks.reads == 3
    assert not left_removed
    assert len(left_upserted) == 3
    assert set(left_upserted) < upserted
    applied = upserted - set(left_upserted)
    for vid in removed | applied:
        if vid in store:
            seen[vid] = store[vid]
        else:
            seen.pop(vid, None)
    check(index, mirror, seen, clock())
    # A deadline already passed still applies one visitor, then stops; what is left goes next.
    left_removed, left_upserted = index.apply((), left_upserted, store, Deadline(ticks, 0))
    assert len(left_upserted) == 2
    assert index.apply((), left_upserted, store, Deadline(ticks, float("inf"))) == ((), ())
    check(index, mirror, store, clock())


def test_a_deadline_in_the_removals_leaves_the_rest_of_them_and_every_upsert() -> None:
    store, clock, index, mirror = build([make_visitor(i) for i in range(20)])
    removed = {visitor_id(n) for n in range(5)}
    for vid in removed:
        del store[vid]
    store[visitor_id(7)] = make_visitor(7, visit_count=5)
    left_removed, left_upserted = index.apply(removed, {visitor_id(7)}, store, Deadline(Ticks(), 2))
    assert len(left_removed) == 3
    assert list(left_upserted) == [visitor_id(7)]
    assert len([vid for vid in removed if vid in index]) == 3
    index.apply(left_removed, left_upserted, store)
    check(index, mirror, store, clock())


def test_a_batch_applied_as_a_reorder_or_deferred_by_a_hold_is_applied_whole() -> None:
    store, clock, index, mirror = build([make_visitor(i) for i in range(20)])
    index.BULK_MIN = 4  # type: ignore[misc]
    upserted = {visitor_id(n) for n in range(10)}
    for n in range(10):
        store[visitor_id(n)] = make_visitor(n, visit_count=n + 2)
    assert index.apply((), upserted, store, Deadline(Ticks(), 0)) == ((), ())
    check(index, mirror, store, clock())
    index.hold()
    store[visitor_id(3)] = make_visitor(3, visit_count=1)
    store[visitor_id(4)] = make_visitor(4, visit_count=1)
    assert index.apply((), {visitor_id(3), visitor_id(4)}, store, Deadline(Ticks(), 0)) == ((), ())
    index.release()
    check(index, mirror, store, clock())


@pytest.mark.parametrize("seed", range(8))
def test_batches_cut_by_deadlines_and_applied_later_give_the_rows_of_applying_them_at_once(seed: int) -> None:
    """As the dispatcher drains: what a deadline left goes out with the next batch, where newer changes win."""
    rng = random.Random(seed)
    visitors = [make_visitor(i) for i in range(120)]
    store, clock, index, mirror = build(visitors)
    twin = VisitorIndex(clock)  # the same batches, each applied whole
    twin.reset(dict(store))
    index.BULK_MIN = twin.BULK_MIN = 10_000  # type: ignore[misc]
    column, descending = rng.choice(list(Column)), rng.random() < 0.5
    f, search = rng.choice([VisitorFilter.ALL, VisitorFilter.ACTIVE]), rng.choice(["", "1", "de"])
    for each in (index, twin):
        each.set_sort(column, descending)
        each.set_filter(f)
        each.set_search(search)
    seen = dict(store)  # every visitor as the index has applied it
    pending_removed: set[str] = set()
    pending_upserted: set[str] = set()
    for _ in range(40):
        removed, upserted = random_batch(rng, store, rng.randrange(1, 12))
        twin.apply(removed, upserted, store)
        pending_upserted -= removed
        pending_removed |= removed
        pending_removed -= upserted
        pending_upserted |= upserted
        ticks = Ticks()
        left_removed, left_upserted = index.apply(
            pending_removed, pending_upserted, store, Deadline(ticks, rng.randrange(0, 10))
        )
        assert ticks.reads <= len(pending_removed) + len(pending_upserted)
        assert set(left_removed) <= pending_removed
        assert set(left_upserted) <= pending_upserted
        assert not left_removed or set(left_upserted) == pending_upserted  # removals go first
        for vid in (pending_removed - set(left_removed)) | (pending_upserted - set(left_upserted)):
            if vid in store:
                seen[vid] = store[vid]
            else:
                seen.pop(vid, None)
        pending_removed, pending_upserted = set(left_removed), set(left_upserted)
        check(index, mirror, seen, clock())
    index.apply(pending_removed, pending_upserted, store)
    check(index, mirror, store, clock())
    assert list(index) == list(twin)
    assert index.counts == twin.counts


NAMES = [None, "", "Zoë", "zoe", "Ärger", "ärger", "ß", "SS", "Ada", "ada", "Ω", "Visitor x"]


def named(i: int, rng: random.Random, **fields: object) -> Visitor:
    """A visitor with a name from ``NAMES`` (non-ASCII, case-folded equals, empty), sometimes banned."""
    name = rng.choice(NAMES)
    label = rng.choice(["", f"#{i % 7}", derived_label(name, None, visitor_id(i))])
    return make_visitor(i, name=name, label=label, banned=rng.random() < 0.1, online=rng.random() < 0.9, **fields)


def churn(rng: random.Random, store: dict[str, Visitor], index: VisitorIndex, steps: int) -> None:
    """Random arrivals (reusing free slots), departures and new names, applied one batch at a time."""
    for _ in range(steps):
        removed: set[str] = set()
        upserted: set[str] = set()
        for _ in range(rng.randrange(1, 4)):
            n = rng.randrange(400)
            vid = visitor_id(n)
            if rng.random() < 0.3 and vid in store:
                del store[vid]
                removed.add(vid)
                upserted.discard(vid)
            else:
                store[vid] = named(n, rng, visit_started_at=NOW - rng.randrange(5000))
                upserted.add(vid)
                removed.discard(vid)
        index.apply(removed, upserted, store)


def warm_up(index: VisitorIndex, columns: list[Column]) -> int:
    """Prepare ``columns`` step by step; how many steps it took."""
    index.warm(columns)
    steps = 0
    while index.warm_step():
        steps += 1
    return steps


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("column", [Column.NAME, Column.TIME_ON_SITE, Column.LOCATION])
def test_an_order_prepared_in_idle_time_gives_a_fresh_sorts_order_after_any_updates(seed: int, column: Column) -> None:
    rng = random.Random(seed)
    store, clock, index, mirror = build([named(i, rng, country=rng.choice([None, "Chile"])) for i in range(300)])
    index.warm([column, Column.VISITS])
    steps = 0
    while index.warm_step():
        steps += 1
        if rng.random() < 0.3:
            churn(rng, store, index, 1)  # updates between the steps
    assert steps >= 3  # the values, the runs, the merge: one at a time
    assert set(index._warm) == {column, Column.VISITS}
    assert not isinstance(index._values[column], list) or len(index._values[column]) < 300  # no values kept
    churn(rng, store, index, rng.choice([0, 1, 5, 20, 60]))
    index.set_sort(column, rng.random() < 0.5)
    assert column not in index._warm
    check(index, mirror, store, clock())
    assert [index._ids[s] for s in index._sorted_all()] == fresh_order(index)
    churn(rng, store, index, 5)  # the values unpacked are the column's values from then on
    check(index, mirror, store, clock())
    index.set_sort(Column.VISITS, False)
    check(index, mirror, store, clock())


def test_a_prepared_order_is_used_not_sorted_afresh_and_a_reset_drops_it() -> None:
    rng = random.Random(3)
    store, clock, index, mirror = build([named(i, rng) for i in range(200)])
    assert warm_up(index, [Column.NAME]) >= 3
    assert not index.warm_step()
    prepared = index._warm[Column.NAME][0]
    index.set_sort(Column.NAME, False)
    assert index._sorted_all() is prepared  # nothing changed since: that order, no sort
    check(index, mirror, store, clock())
    index.set_sort(Column.STATE, False)
    warm_up(index, [Column.NAME, Column.PAGE])  # NAME has its values now: only PAGE is prepared
    assert set(index._warm) == {Column.PAGE}
    index.reset(store)
    assert not index._warm
    assert not index.warm_step()
    index.set_sort(Column.PAGE, False)
    check(index, mirror, store, clock())


def test_a_warm_up_started_before_a_reset_or_a_sort_stops_with_it() -> None:
    rng = random.Random(4)
    store, clock, index, mirror = build([named(i, rng) for i in range(50)])
    index.warm([Column.NAME])
    assert index.warm_step()
    index.reset(store)
    assert not index.warm_step()
    assert not index._warm
    index.warm([Column.NAME])
    assert index.warm_step()  # the values computed, the order not yet
    index.set_sort(Column.NAME, False)
    while index.warm_step():
        pass
    assert not index._warm
    check(index, mirror, store, clock())


def test_a_column_changed_for_too_many_visitors_since_is_sorted_afresh_and_prepared_again() -> None:
    rng = random.Random(5)
    store, clock, index, mirror = build([named(i, rng) for i in range(320)])
    warm_up(index, [Column.NAME])
    churn(rng, store, index, 60)  # well over 1/16 of the visitors written
    assert index._values[Column.NAME].full  # type: ignore[attr-defined]
    index.drop_spoiled()
    assert Column.NAME not in index._values
    assert Column.NAME not in index._warm
    churn(rng, store, index, 3)
    warm_up(index, [Column.NAME])
    assert not index._values[Column.NAME].full  # type: ignore[attr-defined]
    assert Column.NAME in index._warm
    index.set_sort(Column.NAME, True)
    check(index, mirror, store, clock())


def test_names_holding_the_separator_are_not_packed_and_sort_afresh() -> None:
    visitors = [make_visitor(i, name=f"a\x1f{i}") for i in range(20)]
    store, clock, index, mirror = build(visitors)
    warm_up(index, [Column.NAME])
    assert Column.NAME not in index._warm
    assert Column.NAME not in index._values
    index.set_sort(Column.NAME, False)
    check(index, mirror, store, clock())


def test_packed_sort_values_unpack_to_the_same_values() -> None:
    texts = ["visitor abc", "", "visitor ", "zoë", "ärger", "ß", "xvisitor y", "visitor", "visitor visitor q", ""]
    packed = _packed(texts)
    assert isinstance(packed, str)
    assert len(packed) < len("".join(texts)) + len(texts)  # the shared start is one character
    assert _unpacked(packed) == texts
    one = _packed([""])
    assert isinstance(one, str)
    assert _unpacked(one) == [""]
    assert _packed(["a\x1eb"]) is None  # visitor-typed text holding the marker: not packed
    numbers = _packed([1.5, -2.0, 3.0])
    assert not isinstance(numbers, str)
    assert numbers is not None
    assert list(numbers) == [1.5, -2.0, 3.0]
