"""The in-memory seams: delta log (resume, epochs, listeners), presence (tabs, idle expiry, scans), control."""

from __future__ import annotations

import msgspec
import pytest

from protocol.codec import agent_events, encode, with_seq
from protocol.messages import VisitorLeft
from server.live.memory import MemoryControl, MemoryDeltaLog, MemoryPresence
from server.live.seams import AccountChanged, Control, LogEntry, Moved, RevokeToken


class FakeClock:
    """A settable clock (time is an input here, not something to wait for)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A log listener that remembers what it got."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, LogEntry]] = []
        self.resets: list[tuple[int, str]] = []

    def entry(self, account_id: int, entry: LogEntry) -> None:
        self.entries.append((account_id, entry))

    def reset(self, account_id: int, epoch: str) -> None:
        self.resets.append((account_id, epoch))


def test_with_seq_splices_the_seq_into_a_body_encoded_without_it() -> None:
    body = encode(VisitorLeft(seq=0, visitor_id="visitor-0001"))
    assert b"seq" not in body, "seq=0 is the default and is left out"
    decoded = agent_events.decode(with_seq(body, 12345678901234567))
    assert decoded == VisitorLeft(seq=12345678901234567, visitor_id="visitor-0001")


async def test_log_numbers_from_the_clock_and_replays_exactly() -> None:
    log = MemoryDeltaLog(history_size=5, clock=FakeClock(1000.0))
    epoch, start = await log.position(7)
    assert start == 1_000_000_000
    seqs = [await log.append(7, b'{"n":%d}' % n) for n in range(8)]
    assert seqs == list(range(start + 1, start + 9))
    assert await log.since(7, start + 8, epoch) == []
    replay = await log.since(7, start + 5, epoch)
    assert replay is not None
    assert [e.seq for e in replay] == [start + 6, start + 7, start + 8]
    assert await log.since(7, start + 2, epoch) is None, "trimmed: only the last 5 are kept"
    assert await log.since(7, start + 9, epoch) is None, "a seq from the future is not continuity"


async def test_another_epoch_is_never_continuity() -> None:
    clock = FakeClock(1000.0)
    before = MemoryDeltaLog(history_size=100, clock=clock)
    old_epoch, _ = await before.position(1)
    after = MemoryDeltaLog(history_size=100, clock=clock)
    for _ in range(3):
        await after.append(1, b"{}")
    epoch, seq = await after.position(1)
    assert epoch != old_epoch
    assert await after.since(1, seq - 1, old_epoch) is None
    assert await after.since(1, seq - 1, epoch) == [LogEntry(seq, b"{}")]


async def test_listeners_get_every_entry_of_their_account_in_order() -> None:
    log = MemoryDeltaLog(history_size=10)
    one, two = Recorder(), Recorder()
    await log.subscribe(1, one)
    await log.subscribe(2, two)
    a = await log.append(1, b"a")
    await log.append(2, b"x")
    b = await log.append(1, b"b")
    await log.unsubscribe(1, one)
    await log.append(1, b"c")
    assert one.entries == [(1, LogEntry(a, b"a")), (1, LogEntry(b, b"b"))]
    assert [e.body for _, e in two.entries] == [b"x"]


async def test_tabs_count_and_idle_expiry() -> None:
    clock = FakeClock(50.0)
    presence = MemoryPresence(clock)
    await presence.store(1, "v1", {"base": b"{}"})
    assert await presence.attach(1, "v1", "t1") == 1
    assert await presence.attach(1, "v1", "t2") == 2
    assert await presence.detach(1, "v1", "t1") == 1
    assert not await presence.expire(1, "v1", 30), "a tab is still open"
    assert await presence.detach(1, "v1", "t2") == 0
    clock.now = 70.0
    assert not await presence.expire(1, "v1", 30), "idle for 20 s only"
    clock.now = 81.0
    assert await presence.expire(1, "v1", 30)
    assert not await presence.expire(1, "v1", 30), "only one call removes it"
    assert await presence.load(1, "v1") is None


async def test_fields_are_updated_one_by_one() -> None:
    presence = MemoryPresence()
    await presence.store(1, "v1", {"base": b"1", "page": b"p1"})
    await presence.store(1, "v1", {"chat": b"c"})
    await presence.store(1, "v1", {"page": b"p2"})
    assert await presence.load(1, "v1") == {"base": b"1", "page": b"p2", "chat": b"c"}
    assert await presence.load(1, "v1", ["chat", "missing"]) == {"chat": b"c"}


async def test_a_commit_at_an_old_revision_writes_nothing_and_hands_over_the_record() -> None:
    presence = MemoryPresence()
    log = MemoryDeltaLog(100)
    await presence.store(1, "v1", {"base": b"1", "page": b"p1"})
    seen = await presence.read(1, "v1")
    assert seen is not None
    first = await presence.commit(1, "v1", {"page": b"p2"}, log, b"{one}", rev=seen.rev)
    assert isinstance(first, int)
    refused = await presence.commit(1, "v1", {"page": b"p3"}, log, b"{two}", rev=seen.rev)
    assert isinstance(refused, Moved)
    assert refused.current is not None
    assert refused.current.fields == {"base": b"1", "page": b"p2"}
    assert (await log.position(1)).seq == first, "nothing appended"
    assert await presence.commit(1, "v1", {"page": b"p3"}, log, b"{two}", rev=refused.current.rev) == first + 1
    assert await presence.commit(1, "v1", {"page": b"p4"}, log) == 0, "unconditional, no delta"
    await presence.remove(1, "v1")
    assert await presence.commit(1, "v1", {"page": b"p5"}, log, b"{three}", rev=seen.rev) == Moved(None)
    assert await presence.read(1, "v1") is None


async def test_scan_pages_return_everyone_present_throughout() -> None:
    presence = MemoryPresence()
    for n in range(25):
        await presence.store(3, f"v{n}", {"base": b"%d" % n})
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = await presence.scan(3, cursor, count=10)
        pages += 1
        seen.extend(vid for vid, _ in page.visitors)
        if pages == 1:
            await presence.remove(3, "v20")  # leaves during the scan
            await presence.store(3, "late", {"base": b""})  # arrives during the scan
        if not page.cursor:
            break
        cursor = page.cursor
    assert pages == 3
    assert set(seen) == {f"v{n}" for n in range(25)} - {"v20"}
    assert await presence.count(3) == 25
    with pytest.raises(LookupError):
        await presence.scan(3, "3:999")


async def test_agents_are_counted_per_account() -> None:
    presence = MemoryPresence()
    assert await presence.agent_attach(1, "a") == 1
    assert await presence.agent_attach(1, "b") == 2
    assert await presence.agent_detach(1, "a") == 1
    assert await presence.agents(2) == 0


async def test_control_reaches_the_publisher_too() -> None:
    control = MemoryControl()
    got: list[Control] = []
    await control.subscribe(got.append)
    await control.publish(RevokeToken(token_hash="abc"))
    await control.unsubscribe(got.append)
    await control.publish(AccountChanged(account_id=1))
    assert got == [RevokeToken(token_hash="abc")]
    encoded = msgspec.json.encode(got[0])
    assert msgspec.json.decode(encoded, type=Control) == got[0]


async def test_forgetting_an_accounts_log_makes_earlier_resume_points_unavailable() -> None:
    log = MemoryDeltaLog(history_size=10, clock=FakeClock())
    first = await log.append(1, b'{"type":"visitor_left","visitor_id":"visitor-0001"}')
    await log.append(2, b"{}")
    await log.forget(1)
    position = await log.position(1)
    assert position.seq == first, "seq goes on"
    assert await log.since(1, first - 1, log.epoch) is None, "nothing from before the erasure is replayed"
    assert await log.since(1, first, log.epoch) == []
    after = await log.append(1, b"{}")
    assert await log.since(1, first, log.epoch) == [LogEntry(after, b"{}")]
    assert await log.since(2, (await log.position(2)).seq - 1, log.epoch) is not None, "other accounts keep theirs"
