"""The visitor store: snapshot, ordered deltas, duplicates, gaps, coalescing, conversations."""

from __future__ import annotations

import gc

import msgspec
import pytest

from desktop.core.store import SeqGap, VisitorStore
from protocol.codec import agent_events, encode
from protocol.messages import History, MessageAdded, MessageUpdated, PageVisit, Result, Resumed, Typing
from tests.unit.desktop.factory import NOW, activity, changed, left, make_visitor, message, snapshot, visitor_id


def loaded(n: int = 3, seq: int = 10) -> VisitorStore:
    store = VisitorStore()
    store.apply(snapshot([make_visitor(i) for i in range(n)], seq=seq))
    store.take_changes()
    return store


def test_snapshot_replaces_everything_and_sets_seq() -> None:
    store = loaded(3)
    store.apply(snapshot([make_visitor(7)], seq=40))
    assert store.seq == 40
    assert list(store.visitors) == [visitor_id(7)]
    changes = store.take_changes()
    assert changes.reset
    assert not changes.arrived  # snapshot visitors are not "new arrivals"


def test_deltas_apply_in_order() -> None:
    store = loaded(3)
    store.apply(changed(11, make_visitor(5, name="Ada")))
    store.apply(left(12, 0))
    store.apply(activity(13, 1, NOW + 30))
    assert store.seq == 13
    assert store.visitors[visitor_id(5)].name == "Ada"
    assert visitor_id(0) not in store.visitors
    assert store.visitors[visitor_id(1)].last_activity_at == NOW + 30


def test_duplicate_deltas_are_ignored() -> None:
    store = loaded(3)
    store.apply(changed(11, make_visitor(1, name="first")))
    store.take_changes()
    store.apply(changed(11, make_visitor(1, name="replayed")))
    store.apply(changed(5, make_visitor(9)))
    assert store.visitors[visitor_id(1)].name == "first"
    assert visitor_id(9) not in store.visitors
    assert not store.take_changes()


def test_gap_raises_and_changes_nothing() -> None:
    store = loaded(3)
    with pytest.raises(SeqGap) as info:
        store.apply(changed(13, make_visitor(9)))
    assert (info.value.expected, info.value.got) == (11, 13)
    assert store.seq == 10
    assert visitor_id(9) not in store.visitors
    assert not store.take_changes()


def test_resumed_must_continue_from_our_seq() -> None:
    store = loaded(3)
    store.apply(Resumed(from_seq=10, seq=12))
    with pytest.raises(SeqGap):
        store.apply(Resumed(from_seq=8, seq=12))


def test_changes_are_coalesced_until_taken() -> None:
    store = loaded(3)
    dirty: list[int] = []
    store.on_dirty = lambda: dirty.append(1)
    store.apply(changed(11, make_visitor(5)))
    store.apply(changed(12, make_visitor(5, name="Ada")))
    store.apply(activity(13, 1, NOW + 1))
    store.apply(changed(14, make_visitor(6)))
    store.apply(left(15, 6))
    store.apply(left(16, 2))
    assert dirty == [1]  # once, on the first change
    changes = store.take_changes()
    assert changes.upserted == {visitor_id(5), visitor_id(1)}
    assert changes.removed == {visitor_id(6), visitor_id(2)}
    assert changes.arrived == [visitor_id(5)]
    assert not store.take_changes()
    store.apply(activity(17, 1, NOW + 2))
    assert dirty == [1, 1]


def test_leaving_and_coming_back_in_one_batch_is_an_upsert() -> None:
    store = loaded(3)
    store.apply(left(11, 1))
    store.apply(changed(12, make_visitor(1)))
    changes = store.take_changes()
    assert changes.upserted == {visitor_id(1)}
    assert not changes.removed
    assert changes.arrived == [visitor_id(1)]


def test_stale_activity_is_ignored() -> None:
    store = loaded(1)
    store.apply(activity(11, 0, NOW - 100))
    assert store.seq == 11
    assert store.visitors[visitor_id(0)].last_activity_at == NOW - 5
    assert not store.take_changes().upserted


def test_messages_history_and_status_updates() -> None:
    store = loaded(2)
    first, second = message(1, 1), message(1, 2, author="agent")
    store.apply(MessageAdded(seq=11, message=first))
    store.apply(MessageAdded(seq=12, message=second))
    store.apply(MessageAdded(seq=12, message=second))  # duplicate by seq
    store.apply(MessageUpdated(seq=13, visitor_id=visitor_id(1), message_id=second.id, delivered_at=NOW + 9))
    msgs = store.messages_for(visitor_id(1))
    assert [m.id for m in msgs] == [first.id, second.id]
    assert msgs[1].delivered_at == NOW + 9
    changes = store.take_changes()
    assert changes.messages == [first, second]
    assert [u.message_id for u in changes.message_updates] == [second.id]


def test_history_merges_without_duplicates() -> None:
    store = loaded(2)
    live = message(1, 5)
    store.apply(MessageAdded(seq=11, message=live))
    older = [message(1, 1), message(1, 2), live]
    store.apply(History(ref="r1", visitor_id=visitor_id(1), messages=older))
    assert [m.id for m in store.messages_for(visitor_id(1))] == [m.id for m in older]


def test_leaving_drops_the_conversation() -> None:
    store = loaded(2)
    store.apply(MessageAdded(seq=11, message=message(1, 1)))
    store.apply(left(12, 1))
    assert store.messages_for(visitor_id(1)) == []


def test_typing_marks_the_row_changed() -> None:
    store = loaded(2)
    store.apply(Typing(visitor_id=visitor_id(1), who="visitor", typing=True))
    assert store.is_typing(visitor_id(1))
    changes = store.take_changes()
    assert changes.upserted == {visitor_id(1)}
    assert len(changes.typing) == 1
    store.apply(Typing(visitor_id=visitor_id(1), who="agent", typing=True, agent_name="Bo"))
    changes = store.take_changes()
    assert not changes.upserted
    assert len(changes.typing) == 1
    assert store.seq == 10  # typing carries no seq


def test_stateless_events_change_nothing() -> None:
    store = loaded(1)
    store.apply(Result(ref="x"))
    assert not store.take_changes()


def test_repeated_strings_are_shared_between_records() -> None:
    store = VisitorStore()
    first = make_visitor(1, country="".join(["Ger", "many"]), browser="".join(["Fire", "fox"]))
    second = make_visitor(2, country="".join(["Ger", "many"]), browser="".join(["Fire", "fox"]))
    assert first.country is not second.country
    store.apply(snapshot([first]))
    store.apply(changed(11, second))
    a, b = store.visitors[visitor_id(1)], store.visitors[visitor_id(2)]
    assert a.country is b.country
    assert a.browser is b.browser
    assert a == make_visitor(1, country="Germany", browser="Firefox")


def test_records_are_not_tracked_by_the_cyclic_garbage_collector() -> None:
    # 100,000 tracked page lists made every full collection a visible stall of the visitor list.
    store = VisitorStore()
    trail = (PageVisit(url="https://shop.example/", at=NOW - 60), PageVisit(url="https://shop.example/tea", at=NOW))
    # Through the wire codec, as the client receives them: trails decode as tuples.
    first = agent_events.decode(encode(snapshot([msgspec.structs.replace(make_visitor(1), pages=trail)])))
    second = agent_events.decode(encode(changed(11, msgspec.structs.replace(make_visitor(2), pages=trail))))
    store.apply(first)
    store.apply(second)
    gc.collect()
    for record in store.visitors.values():
        assert record.pages
        assert not gc.is_tracked(record)
        assert not gc.is_tracked(record.pages)
