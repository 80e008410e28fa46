"""The columnar store: on random event streams it holds exactly the records the one-struct-per-visitor store held."""

from __future__ import annotations

import math
import random
from typing import Any

import msgspec
import pytest

from desktop.core.clock import ManualClock
from desktop.core.columns import GROUPS, VisitorColumns, derived_label
from desktop.core.ordering import Column
from desktop.core.slots import Deadlines, IdTable
from desktop.core.state import short_label
from desktop.core.store import VisitorStore
from desktop.core.visitor_index import VisitorIndex
from protocol.bots.flow import BotRun
from protocol.messages import (
    PATCH_FIELDS,
    PageVisit,
    Snapshot,
    Trail,
    Visitor,
    VisitorActivity,
    VisitorChanged,
    VisitorLeft,
    VisitorPatch,
    apply_patch,
)
from protocol.rules import ACTIVE_WINDOW_SECONDS
from tests.unit.desktop.activity_reference import ActivityClock
from tests.unit.desktop.factory import NOW, make_visitor, visitor_id


class Reference:
    """The store's visitor records as the store kept them before columns: a dict of whole structs."""

    def __init__(self) -> None:
        self.visitors: dict[str, Visitor] = {}
        self.watched: str | None = None
        self.loaded = False

    def snapshot(self, visitors: list[Visitor], part: int) -> None:
        if part == 0:
            self.visitors = {}
            self.loaded = False
        self.visitors.update({v.id: v for v in visitors})

    def keeps_trail(self, vid: str) -> bool:
        return vid == self.watched and self.loaded

    def changed(self, v: Visitor) -> None:
        current = self.visitors.get(v.id)
        if current is not None and self.keeps_trail(v.id):
            v = msgspec.structs.replace(v, pages=current.pages)
        self.visitors[v.id] = v

    def patch(self, p: VisitorPatch) -> None:
        current = self.visitors.get(p.visitor_id)
        if current is not None:
            self.visitors[p.visitor_id] = apply_patch(current, p, keep_trail=self.keeps_trail(p.visitor_id))

    def activity(self, vid: str, at: float) -> None:
        current = self.visitors.get(vid)
        if current is not None and at > current.last_activity_at:
            self.visitors[vid] = msgspec.structs.replace(current, last_activity_at=at)

    def watch(self, vid: str | None) -> None:
        if vid == self.watched:
            return
        old = self.watched
        if old is not None and self.loaded and old in self.visitors:
            self.visitors[old] = msgspec.structs.replace(self.visitors[old], pages=())
        self.watched, self.loaded = vid, False

    def trail(self, vid: str, pages: list[PageVisit]) -> None:
        if vid == self.watched and vid in self.visitors:
            self.visitors[vid] = msgspec.structs.replace(self.visitors[vid], pages=tuple(pages))
            self.loaded = True


class Events:
    """Random but valid agent events over a small population, with many distinct pages (the tables compact)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.page_counter = 0

    def url(self) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            self.page_counter += 1
            return f"https://shop.example/new/{self.page_counter}"
        return f"https://shop.example/p/{rng.randrange(20)}"

    def text(self) -> str | None:
        return self.rng.choice([None, "Ada", "Grace Hopper", "ada@example.org", "Zoë"])

    def value(self, field: str, vid: str) -> Any:
        rng = self.rng
        match field:
            case "label":
                return rng.choice(["", "#7", derived_label(None, None, vid), "Ada"])
            case "name" | "email" | "chat_agent_name":
                return self.text()
            case "phone":
                return rng.choice([None, "+49 30 1234"])
            case "custom":
                return rng.choice([{}, {"plan": "pro"}, {"a": "1", "b": "2"}])
            case "current_url":
                return rng.choice([None, self.url()])
            case "current_title":
                return rng.choice([None, "", f"Title {rng.randrange(3000)}"])
            case "last_activity_at":
                return NOW + rng.uniform(-1000, 1000)
            case "left_at":
                return rng.choice([None, NOW + rng.uniform(-100, 100)])
            case "chat_status":
                return rng.choice(["none", "unanswered", "active", "closed"])
            case "chat_agent_id":
                return rng.choice([None, 1, 7, 2**40, -3])
            case "unread":
                return rng.choice([0, 1, 5, 2**40, -1])
            case "bot":
                return rng.choice([None, BotRun(flow_id=1, flow_name="Welcome", status="running")])
            case _:
                return rng.random() < 0.5

    def visitor(self, n: int) -> Visitor:
        vid = visitor_id(n)
        fields = {f: self.value(f, vid) for f in PATCH_FIELDS if self.rng.random() < 0.5}
        fields.setdefault("label", derived_label(fields.get("name"), fields.get("email"), vid))
        rng = self.rng
        return make_visitor(
            n,
            visit_count=rng.choice([1, 2, 9, 70_000]),
            city=rng.choice([None, "Berlin", "Paris"]),
            browser=rng.choice([None, "Firefox", "Chrome"]),
            device=rng.choice([None, "desktop", "mobile"]),
            timezone=rng.choice([None, "Europe/Berlin"]),
            pages=tuple(self.page() for _ in range(rng.randrange(3))),
            **fields,
        )

    def page(self) -> PageVisit:
        return PageVisit(url=self.url(), title=self.rng.choice(["", "T"]), at=NOW + self.rng.random())

    def patch(self, vid: str) -> VisitorPatch:
        rng = self.rng
        fields = {f: self.value(f, vid) for f in rng.sample(PATCH_FIELDS, rng.randrange(1, 5))}
        if rng.random() < 0.4:
            fields["page"] = self.page()
        return VisitorPatch(visitor_id=vid, **fields)


@pytest.mark.parametrize("seed", range(8))
def test_random_event_streams_give_the_records_of_the_struct_store(seed: int) -> None:
    events = Events(seed)
    rng = events.rng
    store, ref = VisitorStore(), Reference()
    population = 60
    first = [events.visitor(n) for n in range(0, population, 2)]
    store.apply(Snapshot(seq=1, reason="initial", visitors=first[:10], part=0, more=True))
    store.apply(Snapshot(seq=1, reason="initial", visitors=first[10:], part=1))
    ref.snapshot(first[:10], 0)
    ref.snapshot(first[10:], 1)
    seq = 1
    for _ in range(3000):
        seq += 1
        vid = visitor_id(rng.randrange(population))
        roll = rng.random()
        if roll < 0.15:
            v = events.visitor(rng.randrange(population))
            store.apply(VisitorChanged(seq=seq, visitor=v))
            ref.changed(v)
        elif roll < 0.55:
            p = events.patch(vid)
            store.apply(msgspec.structs.replace(p, seq=seq))
            ref.patch(p)
        elif roll < 0.7:
            at = NOW + rng.uniform(-1000, 1000)
            store.apply(VisitorActivity(seq=seq, visitor_id=vid, at=at))
            ref.activity(vid, at)
        elif roll < 0.8:
            store.apply(VisitorLeft(seq=seq, visitor_id=vid))
            ref.visitors.pop(vid, None)
        else:
            seq -= 1
            if roll < 0.9:
                target = rng.choice([None, vid])
                store.watch(target)
                ref.watch(target)
            else:
                pages = [events.page() for _ in range(rng.randrange(4))]
                store.apply(Trail(ref="r", visitor_id=vid, pages=pages))
                ref.trail(vid, pages)
        if rng.random() < 0.1:
            store.take_changes()
        assert dict(store.visitors.items()) == ref.visitors
        assert len(store.visitors) == len(ref.visitors)
        assert_queries_walk(store)
        if ref.visitors:
            some = rng.choice(list(ref.visitors))
            assert store.visitors[some] == ref.visitors[some]
            assert store.visitors.get(some) is store.visitors[some]  # unchanged: the same object
    assert store.visitors.get("visitor-none") is None


def assert_queries_walk(store: VisitorStore) -> None:
    """The store's column queries give what a walk over its records gives."""
    records = list(store.visitors.values())
    assert store.count_online() == sum(v.online for v in records)
    assert store.count_unread() == sum(v.unread > 0 for v in records)
    for statuses in (("unanswered", "active"), ("unanswered",), ("none",), ("closed", "none"), (), ("nonsense",)):
        walked = [v.id for v in records if v.chat_status in statuses]
        assert store.ids_with_chat_status(statuses) == walked, statuses
    ids, shown = store._visitors.short_labels()
    assert len(ids) == len(shown)
    assert {vid: text for vid, text in zip(ids, shown, strict=True) if vid} == {v.id: short_label(v) for v in records}


def test_the_column_queries_hold_over_snapshots_and_through_an_emptied_store() -> None:
    events = Events(99)
    store = VisitorStore()
    store.apply(Snapshot(seq=1, reason="initial", visitors=[events.visitor(n) for n in range(40)]))
    assert_queries_walk(store)
    for seq, n in enumerate(range(40), 2):
        store.apply(VisitorLeft(seq=seq, visitor_id=visitor_id(n)))
    assert_queries_walk(store)
    assert (store.count_online(), store.count_unread(), store.ids_with_chat_status(("none",))) == (0, 0, [])
    again = [events.visitor(n) for n in range(5, 25)]
    store.apply(Snapshot(seq=50, reason="resume_unavailable", visitors=again))  # into the rows the leavers freed
    assert_queries_walk(store)
    store.apply(Snapshot(seq=60, reason="resume_unavailable", visitors=again[:3]))  # a snapshot replaces everything
    assert_queries_walk(store)


def test_a_read_record_is_replaced_when_its_row_changes_and_a_leaver_stays_readable_as_departed() -> None:
    columns = VisitorColumns()
    columns.put(make_visitor(1))
    before = columns[visitor_id(1)]
    assert columns.set_last_activity(visitor_id(1), NOW + 1)
    after = columns[visitor_id(1)]
    assert after is not before
    assert after.last_activity_at == NOW + 1
    assert not columns.set_last_activity(visitor_id(1), NOW)  # never backwards
    assert columns.pop(visitor_id(1)) == after
    assert visitor_id(1) not in columns
    assert columns.departed(visitor_id(1)) == after
    columns.put(make_visitor(1))
    assert columns.departed(visitor_id(1)) is None  # back on the list


def test_labels_other_than_the_derived_one_survive_name_changes() -> None:
    columns = VisitorColumns()
    vid = visitor_id(1)
    columns.put(make_visitor(1, label=derived_label(None, None, vid)))
    columns.patch(VisitorPatch(visitor_id=vid, name="Ada"), keep_trail=False)
    assert columns[vid].label == derived_label(None, None, vid)  # the server did not send a new label
    columns.patch(VisitorPatch(visitor_id=vid, label="Ada"), keep_trail=False)
    columns.patch(VisitorPatch(visitor_id=vid, name=None), keep_trail=False)
    assert columns[vid].label == "Ada"


def test_many_visitors_through_the_id_table() -> None:
    ids: list[str] = []
    table = IdTable(ids)
    for n in range(5000):
        ids.append(visitor_id(n))
        table.add(ids[n], n)
    for n in range(0, 5000, 3):
        assert table.remove(ids[n]) == n
        ids[n] = ""
    assert len(table) == 5000 - len(range(0, 5000, 3))
    assert all(table.get(visitor_id(n)) == (None if n % 3 == 0 else n) for n in range(5000))
    assert table.remove(visitor_id(0)) is None


def test_deadlines_by_slot_flip_as_the_activity_clock_by_id() -> None:
    rng = random.Random(3)
    by_id, by_slot = ActivityClock(), Deadlines()
    now = NOW
    for _ in range(2000):
        slot = rng.randrange(50)
        if rng.random() < 0.1:
            by_id.forget(visitor_id(slot))
            by_slot.forget(slot)
        else:
            at = now - rng.uniform(0, ACTIVE_WINDOW_SECONDS + 30)
            by_id.track(visitor_id(slot), at, now)
            by_slot.track(slot, at, now)
        now += rng.uniform(0, 2)
        if rng.random() < 0.2:
            assert sorted(by_id.due(now)) == sorted(visitor_id(s) for s in by_slot.due(now))
        assert len(by_id) == len(by_slot)
        assert by_id.next_deadline() == by_slot.next_deadline()


def test_deadlines_a_slot_that_moved_away_and_back_flips_once_and_a_stale_entry_never() -> None:
    """Re-tracking leaves the old bucket's entry behind: it must not flip the slot from there."""
    deadlines = Deadlines()
    now = NOW
    first, second = now - ACTIVE_WINDOW_SECONDS + 10, now - ACTIVE_WINDOW_SECONDS + 20
    for slot in range(200):  # enough moves between two buckets to filter them of stale entries
        deadlines.track(slot, first, now)
        deadlines.track(slot, second, now)
        if slot % 2:
            deadlines.track(slot, first, now)  # back again: two entries there, one slot
    deadlines.forget(4)
    deadlines.forget(5)
    assert len(deadlines) == 198
    assert deadlines.next_deadline() == math.ceil(first + ACTIVE_WINDOW_SECONDS)
    assert sorted(deadlines.due(now + 15)) == [s for s in range(200) if s % 2 and s != 5]
    assert len(deadlines) == 99
    assert deadlines.next_deadline() == math.ceil(second + ACTIVE_WINDOW_SECONDS)
    assert sorted(deadlines.due(now + 25)) == [s for s in range(200) if not s % 2 and s != 4]
    assert len(deadlines) == 0
    assert deadlines.next_deadline() is None


def test_page_texts_no_visitor_shows_any_more_are_dropped() -> None:
    columns = VisitorColumns()
    for n in range(3):
        columns.put(make_visitor(n))
    for k in range(5000):
        vid = visitor_id(k % 3)
        columns.patch(VisitorPatch(visitor_id=vid, current_url=f"https://shop.example/{k}"), keep_trail=False)
        assert columns[vid].current_url == f"https://shop.example/{k}"
    assert [columns[visitor_id(n)].current_url for n in range(3)] == [
        f"https://shop.example/{k}" for k in (4998, 4999, 4997)
    ]
    assert columns[visitor_id(0)].country == "Germany"
    page = columns._groups[GROUPS.index(("current_url", "current_title"))]
    assert len(page.values) <= 1024 + 2  # the bound is the point


def test_the_name_column_read_from_the_columns_is_what_the_records_show() -> None:
    columns = VisitorColumns()
    vid = visitor_id
    shapes = [
        make_visitor(0, label=derived_label(None, None, vid(0))),  # the usual anonymous visitor
        make_visitor(1, label=derived_label(None, "a@example.org", vid(1)), email="a@example.org"),
        make_visitor(2, label=derived_label("Ada", "a@example.org", vid(2)), name="Ada", email="a@example.org"),
        make_visitor(3, label="#3", email="b@example.org"),  # a label of its own wins over the e-mail
        make_visitor(4, label="", email="c@example.org"),  # no label at all: the id's start
        make_visitor(5, label="", name=""),  # an empty name is no name
        make_visitor(6, label=derived_label("", "", vid(6)), name="", email=""),
        make_visitor(7, label="#7", name="Zoë", banned=True, online=False, pages=(PageVisit(url="u", at=NOW),)),
        make_visitor(8, label=derived_label(None, None, vid(8)), phone="+49 30 1234", custom={"plan": "pro"}),
        make_visitor(9, label="ÉCOLE"),
        make_visitor(10, label=derived_label(None, "Z@example.org", vid(10)), email="Z@example.org"),
    ]
    for v in shapes:
        columns.put(v)
    columns.pop(vid(4))  # a free row among them
    columns.patch(VisitorPatch(visitor_id=vid(0), name="Grace"), keep_trail=False)  # the old label stays stored
    columns.patch(VisitorPatch(visitor_id=vid(1), email=None), keep_trail=False)
    ids, shown = columns.short_labels()
    by_id = {v: text for v, text in zip(ids, shown, strict=True) if v}
    assert by_id == {v.id: short_label(v) for v in columns.values()}
    assert by_id[vid(0)] == "Grace"
    assert by_id[vid(1)] == "a@example.org"  # the label it had, now its own
    assert by_id[vid(3)] == "#3"
    assert by_id[vid(10)] == "Z@example.org"
    assert by_id[vid(5)] == vid(5)[:8]
    assert by_id[vid(6)] == derived_label(None, None, vid(6))
    assert by_id[vid(8)] == derived_label(None, None, vid(8))


@pytest.mark.parametrize("seed", range(3))
def test_the_index_over_columns_sorts_and_searches_as_over_records(seed: int) -> None:
    """The index's passes over a columnar store (per distinct group, number arrays, partial records) agree."""
    events = Events(seed)
    rng = events.rng
    store = VisitorStore()
    store.apply(Snapshot(seq=1, reason="initial", visitors=[events.visitor(n) for n in range(80)]))
    store.take_changes()
    clock = ManualClock(NOW)
    over_columns, over_records = VisitorIndex(clock), VisitorIndex(clock)
    over_columns.reset(store.visitors)
    over_records.reset(dict(store.visitors.items()))
    seq = 1
    for step in range(40):
        for _ in range(5):
            seq += 1
            vid = visitor_id(rng.randrange(100))
            event: Any = rng.choice(
                [
                    VisitorLeft(seq=seq, visitor_id=vid),
                    VisitorChanged(seq=seq, visitor=events.visitor(rng.randrange(100))),
                    msgspec.structs.replace(events.patch(vid), seq=seq),
                ]
            )
            store.apply(event)
        changes = store.take_changes()
        records = dict(store.visitors.items())
        over_columns.apply(changes.removed, changes.upserted, store.visitors)
        over_records.apply(changes.removed, changes.upserted, records)
        column, descending = rng.choice(list(Column)), rng.random() < 0.5
        if step % 7 == 0:  # columns used before are computed anew, as after a snapshot
            for index in (over_columns, over_records):
                for used in [c for c in index._values if c not in (Column.STATE, index.sort_column)]:
                    del index._values[used]
        locale = rng.choice(["de_DE", "en_US"]) if step % 5 == 0 else over_columns._locale
        search = rng.choice(["", "deutschland", "germany", "shop", "ada"])
        for index in (over_columns, over_records):
            index.set_sort(column, descending)
            index.set_locale(locale)
            index.set_search(search)
        assert list(over_columns) == list(over_records), (step, column)
