"""The Redis seams against a real redis-server: delta log, presence with leases, control channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from server.live.redis.connection import RedisLink, account_key
from server.live.redis.control import RedisControl
from server.live.redis.log import RedisDeltaLog
from server.live.redis.presence import RedisPresence
from server.live.seams import AccountChanged, Control, ControlHandler, LogEntry, Moved, RevokeToken
from tests.fixtures.redis import RedisServer, redis_server, redis_url

__all__ = ["redis_server", "redis_url"]


class Recorder:
    """A log listener that keeps what it was given."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []
        self.resets: list[str] = []
        self.changed = asyncio.Event()

    def entry(self, account_id: int, entry: LogEntry) -> None:
        self.entries.append(entry)
        self.changed.set()

    def reset(self, account_id: int, epoch: str) -> None:
        self.resets.append(epoch)
        self.changed.set()

    async def until(self, done: object, within: float = 5.0) -> None:
        async def wait() -> None:
            while not (done() if callable(done) else done):
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), within)


@pytest.fixture
async def link(redis_url: str) -> AsyncIterator[RedisLink]:
    link = RedisLink(redis_url, process_id="p1")
    try:
        yield link
    finally:
        await link.aclose()


async def test_append_numbers_from_the_epoch_and_replays_exactly(link: RedisLink) -> None:
    log = RedisDeltaLog(link, history_size=1000)
    epoch, start = await log.position(7)
    assert start == int(epoch)
    assert start > 1_000_000_000_000_000  # microseconds: 16 digits, past Lua's %.14g
    seqs = [await log.append(7, b'{"type":"x","n":%d}' % i) for i in range(5)]
    assert seqs == [start + 1 + i for i in range(5)]
    assert await log.position(7) == (epoch, start + 5)
    replay = await log.since(7, start + 2, epoch)
    assert replay == [LogEntry(start + 3 + i, b'{"type":"x","n":%d}' % (2 + i)) for i in range(3)]
    assert await log.since(7, start + 5, epoch) == []
    assert await log.since(7, start + 6, epoch) is None  # ahead of the log
    assert await log.since(7, start + 2, "another") is None
    # Another account has its own numbers.
    assert (await log.position(8)).seq != start + 5


async def test_forgetting_an_accounts_log_leaves_nothing_to_replay(link: RedisLink) -> None:
    log = RedisDeltaLog(link, history_size=1000)
    epoch, start = await log.position(5)
    await log.append(5, b'{"type":"x","name":"Grace"}')
    await log.append(6, b"{}")
    await log.forget(5)
    assert await log.position(5) == (epoch, start + 1), "seq and epoch go on"
    assert await log.since(5, start, epoch) is None, "nothing from before the erasure is replayable"
    assert await log.since(5, start + 1, epoch) == []
    after = await log.append(5, b"{}")
    assert await log.since(5, start + 1, epoch) == [LogEntry(after, b"{}")]
    other_epoch, other = await log.position(6)
    assert await log.since(6, other - 1, other_epoch) == [LogEntry(other, b"{}")], "other accounts keep theirs"


async def test_since_refuses_when_the_history_was_trimmed(link: RedisLink) -> None:
    log = RedisDeltaLog(link, history_size=10)
    epoch, start = await log.position(1)
    for i in range(300):
        await log.append(1, b"{%d}" % i)
    assert await log.since(1, start, epoch) is None  # the first ones are gone (MAXLEN ~)
    recent = await log.since(1, start + 295, epoch)
    assert recent is not None
    assert [e.seq for e in recent] == [start + 296 + i for i in range(5)]


async def test_listeners_get_contiguous_entries_and_gaps_are_filled(link: RedisLink) -> None:
    log = RedisDeltaLog(link, history_size=1000)
    try:
        first, second = Recorder(), Recorder()
        await log.subscribe(3, first)
        await log.subscribe(3, second)
        _epoch, start = await log.position(3)
        await log.append(3, b"{a}")
        # An entry whose publish this process never sees (as when a message is lost): the next one shows the gap.
        await link.script(
            "log_append",
            [account_key(3, "log"), account_key(3, "stream")],
            [b"{lost}", "1000", "nobody-listens"],
        )
        await log.append(3, b"{c}")
        await first.until(lambda: len(first.entries) >= 3)
        await second.until(lambda: len(second.entries) >= 3)
        for recorder in (first, second):
            assert recorder.entries == [
                LogEntry(start + 1, b"{a}"),
                LogEntry(start + 2, b"{lost}"),
                LogEntry(start + 3, b"{c}"),
            ]
        await log.unsubscribe(3, first)
        await log.append(3, b"{d}")
        await second.until(lambda: len(second.entries) >= 4)
        assert len(first.entries) == 3
    finally:
        await log.aclose()


async def test_a_redis_restart_resets_listeners_with_a_new_epoch(link: RedisLink, redis_server: RedisServer) -> None:
    log = RedisDeltaLog(link, history_size=1000)
    try:
        recorder = Recorder()
        await log.subscribe(4, recorder)
        old_epoch, _ = await log.position(4)
        old_seq = await log.append(4, b"{before}")
        await recorder.until(lambda: recorder.entries)
        redis_server.restart()
        await recorder.until(lambda: recorder.resets, within=10)  # the reconnect finds another log
        new_epoch, new_start = await log.position(4)
        assert recorder.resets == [new_epoch]
        assert new_epoch != old_epoch
        assert new_start > old_seq  # an old seq is never inside the new log's range
        assert await log.since(4, old_seq, old_epoch) is None
        assert await log.since(4, old_seq, new_epoch) is None
        seq = await log.append(4, b"{after}")
        await recorder.until(lambda: recorder.entries[-1].seq == seq)
    finally:
        await log.aclose()


async def test_tabs_over_two_processes_and_expiry_once(redis_url: str) -> None:
    one, two = RedisLink(redis_url, process_id="one"), RedisLink(redis_url, process_id="two")
    a = RedisPresence(one, lease_seconds=30)
    b = RedisPresence(two, lease_seconds=30)
    try:
        await a.store(1, "v1", {"record": b"{}", "chat": b"none"})
        await b.store(1, "v1", {"chat": b"active"})  # a field of its own: the other stays
        assert await a.load(1, "v1") == {"record": b"{}", "chat": b"active"}
        assert await a.load(1, "v1", ["chat", "missing"]) == {"chat": b"active"}
        assert await a.load(1, "nobody") is None
        assert await a.attach(1, "v1", "tab1") == 1
        assert await b.attach(1, "v1", "tab2") == 2
        assert await a.attach(1, "v1", "tab1") == 2  # the same tab again
        assert await a.detach(1, "v1", "tab1") == 1
        assert not await a.expire(1, "v1", 0)  # a tab is still open on the other process
        assert await b.detach(1, "v1", "tab2") == 0
        assert not await a.expire(1, "v1", 60)  # idle, but not for long enough
        results = await asyncio.gather(a.expire(1, "v1", 0), b.expire(1, "v1", 0))
        assert sorted(results) == [False, True]
        assert await a.load(1, "v1") is None
        assert await a.count(1) == 0
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_remembered_record_is_read_again_after_another_process_wrote_it(redis_url: str) -> None:
    one, two = RedisLink(redis_url, process_id="one"), RedisLink(redis_url, process_id="two")
    a = RedisPresence(one, lease_seconds=30)
    b = RedisPresence(two, lease_seconds=30)
    log_a = RedisDeltaLog(one, history_size=100)
    try:
        await a.attach(1, "v1", "tab1")  # a tab here: its record is remembered
        await a.store(1, "v1", {"visit": b"1", "chat": b"none"})
        assert await a.load(1, "v1") == {"visit": b"1", "chat": b"none"}
        # The record and a delta in one script: both land, and the seq follows the log's.
        epoch, start = await log_a.position(1)
        seq = await a.commit(1, "v1", {"page": b"p2"}, log_a, b'{"type":"visitor_patch"}')
        assert seq == start + 1
        assert await log_a.since(1, start, epoch) == [LogEntry(seq, b'{"type":"visitor_patch"}')]
        whole_reads = REGISTRY.get_sample_value("frontdesk_redis_round_trips_total", {"op": "hgetall"}) or 0
        assert await a.load(1, "v1") == {"visit": b"1", "chat": b"none", "page": b"p2"}
        # Nobody else wrote it: answered from the remembered copy (a revision check, not the record).
        assert REGISTRY.get_sample_value("frontdesk_redis_round_trips_total", {"op": "hgetall"}) == whole_reads
        await b.store(1, "v1", {"chat": b"active"})  # another process: the remembered copy is stale
        assert await a.load(1, "v1") == {"visit": b"1", "chat": b"active", "page": b"p2"}
        # A write of this process right after another's: the merge is not trusted, the next read is whole.
        await b.store(1, "v1", {"chat": b"closed"})
        await a.store(1, "v1", {"page": b"p3"})
        assert await a.load(1, "v1") == {"visit": b"1", "chat": b"closed", "page": b"p3"}
        await b.remove(1, "v1")
        assert await a.load(1, "v1") is None
        assert (await b.scan(1)).visitors == []
    finally:
        await log_a.aclose()
        await one.aclose()
        await two.aclose()


async def test_an_optimistic_commit_is_refused_when_another_process_wrote_first(redis_url: str) -> None:
    one, two = RedisLink(redis_url, process_id="one"), RedisLink(redis_url, process_id="two")
    a = RedisPresence(one, lease_seconds=30)
    b = RedisPresence(two, lease_seconds=30)
    log_a = RedisDeltaLog(one, history_size=100)
    try:
        await a.attach(2, "v1", "tab1")  # a tab here: the record is remembered, read without a round trip
        await a.store(2, "v1", {"visit": b"1", "page": b"p1"})
        epoch, start = await log_a.position(2)
        await a.read(2, "v1")  # the first read fetches it
        trips = REGISTRY.get_sample_value("frontdesk_redis_round_trips_total", {"op": "hgetall"}) or 0
        seen = await a.read(2, "v1")
        assert seen is not None
        assert seen.fields == {"visit": b"1", "page": b"p1"}
        assert REGISTRY.get_sample_value("frontdesk_redis_round_trips_total", {"op": "hgetall"}) == trips
        seq = await a.commit(2, "v1", {"page": b"p2"}, log_a, b"{one}", rev=seen.rev)
        assert seq == start + 1
        await b.store(2, "v1", {"chat": b"active"})  # another process: A's memory is stale now
        stale = await a.read(2, "v1")
        assert stale is not None
        assert "chat" not in stale.fields
        refused = await a.commit(2, "v1", {"page": b"p3"}, log_a, b"{two}", rev=stale.rev)
        assert isinstance(refused, Moved)
        assert refused.current is not None
        assert refused.current.fields == {"visit": b"1", "page": b"p2", "chat": b"active"}
        assert await log_a.since(2, start, epoch) == [LogEntry(start + 1, b"{one}")], "nothing appended"
        again = await a.commit(2, "v1", {"page": b"p3"}, log_a, b"{two}", rev=refused.current.rev)
        assert again == start + 2
        current = await a.read(2, "v1")
        assert current is not None
        assert current.fields == {"visit": b"1", "page": b"p3", "chat": b"active"}
        assert await a.commit(2, "v1", {"page": b"p4"}, log_a, rev=current.rev) == 0, "no delta: no seq"
        await b.remove(2, "v1")
        gone = await a.commit(2, "v1", {"page": b"p5"}, log_a, b"{three}", rev=current.rev)
        assert gone == Moved(None), "a visitor that left is not brought back"
        assert await a.load(2, "v1") is None
        assert await log_a.since(2, start, epoch) == [LogEntry(start + 1, b"{one}"), LogEntry(start + 2, b"{two}")]
    finally:
        await log_a.aclose()
        await one.aclose()
        await two.aclose()


async def test_scan_count_and_agents(redis_url: str) -> None:
    link = RedisLink(redis_url, process_id="solo")
    presence = RedisPresence(link, lease_seconds=30)
    try:
        for i in range(1200):
            await presence.store(5, f"v{i}", {"record": b"%d" % i})
        await presence.store(6, "other", {"record": b"x"})
        seen: dict[str, dict[str, bytes]] = {}
        cursor, pages = "", 0
        while True:
            page = await presence.scan(5, cursor, count=500)
            seen.update(page.visitors)
            pages += 1
            cursor = page.cursor
            if not cursor:
                break
        assert len(seen) == 1200
        assert seen["v7"] == {"record": b"7"}
        assert pages > 1
        assert await presence.count(5) == 1200
        assert await presence.count() == 1201
        assert await presence.agent_attach(5, "c1") == 1
        assert await presence.agent_attach(5, "c2") == 2
        assert await presence.agent_detach(5, "c1") == 1
        assert await presence.agents(5) == 1
    finally:
        await link.aclose()


async def test_a_dead_process_loses_its_tabs_and_agents_once(redis_url: str) -> None:
    one, two, three = (RedisLink(redis_url, process_id=p) for p in ("dies", "lives", "also"))
    dying = RedisPresence(one, lease_seconds=0.2)
    living = RedisPresence(two, lease_seconds=30)
    third = RedisPresence(three, lease_seconds=30)
    try:
        await dying.heartbeat()
        await living.heartbeat()
        await third.heartbeat()
        for visitor in ("v1", "v2"):
            await dying.store(1, visitor, {"record": b"{}"})
            await dying.attach(1, visitor, f"{visitor}-tab")
        await living.attach(1, "v2", "v2-other-tab")  # v2 also has a tab on a living process
        await dying.attach(1, "v1", "v1-second-tab")
        await dying.agent_attach(1, "agent-conn")
        await living.agent_attach(1, "agent-conn-2")
        assert await living.reap() == []  # the lease still holds
        await asyncio.sleep(0.3)
        reaped = await asyncio.gather(living.reap(), third.reap())
        assert sorted(reaped[0] + reaped[1]) == [(1, "v1")]  # once over all processes
        assert await living.tabs(1, "v1") == 0
        assert await living.tabs(1, "v2") == 1
        assert await living.agents(1) == 1
        assert await living.expire(1, "v1", 0.1)  # idle since the lease ran out
        assert await living.reap() == []
        # It was only slow: its next renewal says its registrations are gone, so its sockets register again.
        assert await dying.heartbeat()
        assert not await dying.heartbeat()
        assert not await living.heartbeat()
    finally:
        for link in (one, two, three):
            await link.aclose()


async def test_control_messages_reach_every_process_including_the_publisher(redis_url: str) -> None:
    one, two = RedisLink(redis_url, process_id="one"), RedisLink(redis_url, process_id="two")
    a, b = RedisControl(one), RedisControl(two)
    got_a: list[Control] = []
    got_b: list[Control] = []
    arrived = asyncio.Event()

    def keeper(got: list[Control]) -> ControlHandler:
        def keep(message: Control) -> None:
            got.append(message)
            arrived.set()

        return keep

    try:
        await a.subscribe(keeper(got_a))
        await b.subscribe(keeper(got_b))
        await a.publish(AccountChanged(account_id=3))
        await b.publish(RevokeToken(token_hash="abc"))
        # A message of a newer version this one does not know is skipped, not half-applied.
        await one.call("PUBLISH", "fd:control", b'{"kind":"from_the_future"}')
        await b.publish(AccountChanged(account_id=4))
        for got in (got_a, got_b):
            async with asyncio.timeout(5):
                while len(got) < 3:
                    arrived.clear()
                    await arrived.wait()
            assert got == [AccountChanged(account_id=3), RevokeToken(token_hash="abc"), AccountChanged(account_id=4)]
    finally:
        await a.aclose()
        await b.aclose()
        await one.aclose()
        await two.aclose()


async def test_commands_issued_together_share_a_write_and_an_error_fails_only_its_own(
    link: RedisLink, redis_server: RedisServer
) -> None:
    await link.call("SET", "text", "not a number")
    results = await asyncio.gather(
        *(link.call("INCR", f"n{i % 3}") for i in range(300)), link.call("INCR", "text"), return_exceptions=True
    )
    assert isinstance(results[-1], ResponseError)
    assert sorted(r for r in results[:-1] if isinstance(r, int))[-3:] == [100, 100, 100]
    redis_server.restart()  # the pipeline's connection is stale now; the next command reconnects
    assert await link.call("INCR", "n0") == 1
    redis_server.stop()
    with pytest.raises(RedisConnectionError):
        await link.call("PING")
    assert not await link.ping()


async def test_a_heartbeat_tells_when_redis_lost_the_shared_state(link: RedisLink, redis_server: RedisServer) -> None:
    presence = RedisPresence(link, lease_seconds=30)
    other = RedisPresence(link, lease_seconds=30)
    assert not await presence.heartbeat()  # the first renewal sets the marker
    assert not await presence.heartbeat()
    assert not await other.heartbeat()
    redis_server.restart()
    assert await presence.heartbeat()  # once...
    assert not await presence.heartbeat()  # ...then the new state is the one it knows
    assert await other.heartbeat()  # another process notices too, though the first made the new marker


async def test_a_lost_pubsub_connection_is_caught_up_from_the_stream_without_a_reset(link: RedisLink) -> None:
    log = RedisDeltaLog(link, history_size=1000)
    try:
        recorder = Recorder()
        await log.subscribe(9, recorder)
        _epoch, start = await log.position(9)
        gaps_before = REGISTRY.get_sample_value("frontdesk_log_gaps_filled_total") or 0
        await log.append(9, b"{1}")
        await recorder.until(lambda: len(recorder.entries) == 1)
        await link.call("CLIENT", "KILL", "TYPE", "pubsub")  # as a network blip would
        for i in range(2, 6):
            await log.append(9, b"{%d}" % i)  # published while nobody of this process listens
        await recorder.until(lambda: len(recorder.entries) == 5)
        assert recorder.entries == [LogEntry(start + i, b"{%d}" % i) for i in range(1, 6)]
        assert recorder.resets == []
        assert (REGISTRY.get_sample_value("frontdesk_log_gaps_filled_total") or 0) > gaps_before  # from the stream
    finally:
        await log.aclose()
