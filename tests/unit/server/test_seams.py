"""Presence, sequence, history (resume) and bus in memory; token bucket; origin allowlist."""

from __future__ import annotations

from server.config import RateLimit
from server.ratelimit import FailureLimiter, TokenBucket
from server.seams import MemoryBus, MemoryHistory, MemoryPresence, MemorySequencer
from server.sockets import origin_allowed


class FakeClock:
    """A settable clock (time is an input here, not something to wait for)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_sequencer_counts_per_account_from_the_clock() -> None:
    clock = FakeClock(1000.0)
    sequencer = MemorySequencer(clock)
    start = sequencer.current(1)
    assert start == 1_000_000_000
    assert [sequencer.next(1) for _ in range(3)] == [start + 1, start + 2, start + 3]
    clock.now = 2000.0
    assert sequencer.current(2) == 2_000_000_000, "each account starts where the clock is"
    assert sequencer.current(1) == start + 3


def test_restarted_sequencer_never_reuses_numbers() -> None:
    before = MemorySequencer(FakeClock(1000.0))
    for _ in range(100):
        last = before.next(1)
    after = MemorySequencer(FakeClock(1001.0))
    assert after.next(1) > last


def _filled(size: int, seqs: range) -> MemoryHistory:
    history = MemoryHistory(size)
    for seq in seqs:
        history.append(7, seq, f"frame {seq}")
    return history


def test_history_replays_exactly_the_missed_deltas() -> None:
    history = _filled(10, range(101, 111))
    assert history.since(7, 105, 110) == [f"frame {n}" for n in range(106, 111)]
    assert history.since(7, 100, 110) == [f"frame {n}" for n in range(101, 111)]
    assert history.since(7, 110, 110) == []


def test_history_says_when_it_cannot_resume() -> None:
    history = _filled(5, range(101, 111))  # keeps 106..110
    assert history.since(7, 104, 110) is None, "105 is gone"
    assert history.since(7, 105, 110) == [f"frame {n}" for n in range(106, 111)]
    assert history.since(7, 111, 110) is None, "a seq from the future (another process)"
    assert history.since(8, 1, 5) is None, "nothing kept for that account"
    assert MemoryHistory(5).since(7, 50, 50) == []


def test_presence_is_per_account() -> None:
    presence: MemoryPresence[str] = MemoryPresence()
    presence.put(1, "a", "A")
    presence.put(2, "a", "other A")
    assert presence.get(1, "a") == "A"
    assert presence.get(3, "a") is None
    assert list(presence.visitors(1)) == ["A"]
    presence.remove(1, "a")
    assert presence.get(1, "a") is None
    assert presence.count() == 1


def test_bus_delivers_in_order_to_the_accounts_sinks_only() -> None:
    bus = MemoryBus()
    first: list[str] = []
    second: list[str] = []
    elsewhere: list[str] = []
    bus.subscribe(1, first.append)
    bus.subscribe(1, second.append)
    bus.subscribe(2, elsewhere.append)
    bus.publish(1, "x")
    bus.publish(1, "y")
    bus.unsubscribe(1, second.append)
    bus.publish(1, "z")
    assert first == ["x", "y", "z"]
    assert second == ["x", "y"]
    assert elsewhere == []


def test_token_bucket() -> None:
    clock = FakeClock(0.0)
    bucket = TokenBucket(RateLimit(burst=3, per_second=1, close_after=2), clock)
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]
    assert (bucket.refused_in_row, bucket.abusive) == (1, False)
    assert not bucket.allow()
    assert (bucket.refused_in_row, bucket.abusive) == (2, True)
    clock.now = 1.0
    assert bucket.allow()
    assert (bucket.refused_in_row, bucket.abusive) == (0, False)


def test_origin_allowlist() -> None:
    assert origin_allowed(None, "x", [], ())
    assert origin_allowed("http://localhost:5173", "x", [], ())
    assert origin_allowed("http://127.0.0.1", "x", [], ())
    assert origin_allowed("https://shop.example", "x", ["https://shop.example/"], ())
    assert origin_allowed("https://SHOP.example", "x", [], ("https://shop.example",))
    assert origin_allowed("https://frontdesk.example", "frontdesk.example", [], ())
    assert not origin_allowed("https://evil.example", "frontdesk.example", ["https://shop.example"], ())
    assert not origin_allowed("http://shop.example", "x", ["https://shop.example"], ()), "scheme matters"
    assert not origin_allowed("null", "x", ["https://shop.example"], ())
    assert origin_allowed("https://any.example", "x", ["*"], ())


def test_failure_limiter_blocks_then_forgets() -> None:
    clock = FakeClock(0.0)
    limiter = FailureLimiter(max_failures=3, window_seconds=60, clock=clock)
    for _ in range(3):
        assert not limiter.blocked("10.0.0.1")
        limiter.failed("10.0.0.1")
    assert limiter.blocked("10.0.0.1")
    assert not limiter.blocked("10.0.0.2")
    clock.now = 61.0
    assert not limiter.blocked("10.0.0.1"), "failures expire"
    limiter.failed("10.0.0.1")
    limiter.succeeded("10.0.0.1")
    assert not limiter.blocked("10.0.0.1")
