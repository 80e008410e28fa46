"""Protocol 2 in the visitor store: paged snapshots, patches, the watched visitor's trail, epochs."""

from __future__ import annotations

import pytest

from desktop.core.store import SeqGap, SnapshotGap, VisitorStore
from protocol.messages import (
    AccountInfo,
    AgentInfo,
    Hello,
    PageVisit,
    Resumed,
    Snapshot,
    Trail,
    VisitorPatch,
)
from protocol.rules import PROTOCOL_VERSION, Plan, capabilities_for
from tests.unit.desktop.factory import NOW, changed, make_visitor, visitor_id


def hello(epoch: str = "e1", seq: int = 10) -> Hello:
    return Hello(
        protocol=PROTOCOL_VERSION,
        server_version="test",
        agent=AgentInfo(id=1, email="a@example.com", name="A"),
        account=AccountInfo(id=1, name="Shop", plan=Plan.PRO),
        capabilities=capabilities_for(Plan.PRO),
        seq=seq,
        epoch=epoch,
    )


def pages(seq: int, *groups: range) -> list[Snapshot]:
    return [
        Snapshot(
            seq=seq,
            reason="initial",
            visitors=[make_visitor(n) for n in group],
            part=part,
            more=part < len(groups) - 1,
        )
        for part, group in enumerate(groups)
    ]


def missing(store: VisitorStore) -> str | None:
    """The store's missing trail (a call, so the type checker does not carry a narrowed value across)."""
    return store.trail_missing


def synced(n: int = 3, seq: int = 10, epoch: str = "e1") -> VisitorStore:
    store = VisitorStore()
    store.apply(hello(epoch, seq))
    for page in pages(seq, range(n)):
        store.apply(page)
    store.take_changes()
    return store


def test_a_paged_snapshot_shows_each_page_and_becomes_resumable_at_the_last() -> None:
    store = VisitorStore()
    store.apply(hello("e1", 50))
    first, second, last = pages(50, range(0, 2), range(2, 4), range(4, 5))
    store.apply(first)
    assert list(store.visitors) == [visitor_id(0), visitor_id(1)], "the first page is there at once"
    assert store.take_changes().reset
    assert (store.seq, store.epoch) == (0, None), "not resumable with half a list"
    store.apply(second)
    changes = store.take_changes()
    assert not changes.reset
    assert changes.upserted == {visitor_id(2), visitor_id(3)}
    assert not changes.arrived, "snapshot visitors are not new arrivals"
    store.apply(last)
    assert len(store.visitors) == 5
    assert (store.seq, store.epoch) == (50, "e1")


def test_a_page_out_of_order_asks_for_a_new_snapshot() -> None:
    store = VisitorStore()
    first, _second, last = pages(50, range(0, 2), range(2, 4), range(4, 5))
    store.apply(first)
    with pytest.raises(SnapshotGap):
        store.apply(last)
    assert store.seq == 0
    with pytest.raises(SeqGap):  # a SnapshotGap is a SeqGap: the client reconnects the same way
        store.apply(last)


def test_a_new_snapshot_keeps_the_old_epoch_until_it_is_complete() -> None:
    store = synced(epoch="e1")
    store.apply(hello("e2", 90))
    first, last = pages(90, range(0, 1), range(1, 2))
    store.apply(first)
    assert (store.seq, store.epoch) == (0, "e1"), "no seq to resume: the epoch is not sent"
    store.apply(last)
    assert (store.seq, store.epoch) == (90, "e2")
    store.apply(hello("e2", 95))
    store.apply(Resumed(from_seq=90, seq=95))
    assert store.epoch == "e2"


def test_a_patch_changes_only_its_fields() -> None:
    store = synced()
    before = store.visitors[visitor_id(1)]
    store.apply(VisitorPatch(seq=11, visitor_id=visitor_id(1), chat_status="unanswered", in_chat=True, unread=1))
    after = store.visitors[visitor_id(1)]
    assert (after.chat_status, after.in_chat, after.unread) == ("unanswered", True, 1)
    assert (after.current_url, after.country, after.label) == (before.current_url, before.country, before.label)
    assert store.take_changes().upserted == {visitor_id(1)}
    store.apply(VisitorPatch(seq=12, visitor_id=visitor_id(1), left_at=NOW, online=False))
    store.apply(VisitorPatch(seq=13, visitor_id=visitor_id(1), left_at=None, online=True))
    assert store.visitors[visitor_id(1)].left_at is None, "null is a value, an absent field is no change"
    store.apply(VisitorPatch(seq=14, visitor_id=visitor_id(99), unread=3))
    assert store.seq == 14, "a patch of an unlisted visitor is skipped, its seq counted"
    with pytest.raises(SeqGap):
        store.apply(VisitorPatch(seq=16, visitor_id=visitor_id(1), unread=0))


def test_the_trail_is_kept_for_the_watched_visitor_only() -> None:
    store = synced()
    wanted: list[str] = []
    store.on_trail_wanted = wanted.append
    store.watch(visitor_id(1))
    assert wanted == [visitor_id(1)]
    assert missing(store) == visitor_id(1)
    trail = [PageVisit(url="https://shop.example/", title="Home", at=NOW - 60)]
    store.apply(Trail(ref="t1", visitor_id=visitor_id(1), pages=trail))
    assert missing(store) is None
    assert store.take_changes().upserted == {visitor_id(1)}, "the detail pane refreshes"
    page = PageVisit(url="https://shop.example/cart", title="Cart", at=NOW)
    patch = VisitorPatch(seq=11, visitor_id=visitor_id(1), page=page, current_url=page.url, last_activity_at=NOW)
    store.apply(patch)
    assert store.visitors[visitor_id(1)].pages == (*trail, page)
    store.apply(VisitorPatch(seq=12, visitor_id=visitor_id(2), page=page, current_url=page.url))
    assert store.visitors[visitor_id(2)].pages == (), "no trail for a visitor not watched"
    assert store.visitors[visitor_id(2)].current_url == page.url
    store.apply(changed(13, make_visitor(1, name="Ada")))
    assert store.visitors[visitor_id(1)].pages == (*trail, page), "a whole record keeps the loaded trail"
    store.watch(visitor_id(2))
    assert store.visitors[visitor_id(1)].pages == (), "the trail is dropped when the selection moves on"
    store.apply(Trail(ref="t2", visitor_id=visitor_id(1), pages=trail))
    assert store.visitors[visitor_id(1)].pages == (), "a late answer for another visitor is ignored"
    assert wanted == [visitor_id(1), visitor_id(2)]


def test_a_snapshot_asks_again_for_the_watched_trail() -> None:
    store = synced()
    wanted: list[str] = []
    store.on_trail_wanted = wanted.append
    store.watch(visitor_id(0))
    store.apply(Trail(ref="t1", visitor_id=visitor_id(0), pages=[PageVisit(url="u", at=NOW)]))
    for page in pages(30, range(0, 2)):
        store.apply(page)
    assert store.visitors[visitor_id(0)].pages == ()
    assert wanted == [visitor_id(0), visitor_id(0)]
