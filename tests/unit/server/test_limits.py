"""Token bucket, failed sign-in limiter and the origin allowlist."""

from __future__ import annotations

from server.config import RateLimit
from server.ratelimit import FailureLimiter, TokenBucket
from server.visitor import origin_allowed


class FakeClock:
    """A settable clock (time is an input here, not something to wait for)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


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
