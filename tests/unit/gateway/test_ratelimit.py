"""Token buckets: burst, refill and Retry-After."""

from __future__ import annotations

import pytest
from aijob_gateway.security.ratelimit import RateLimiter


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_limited_then_refilled() -> None:
    clock = ManualClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("k")
    assert wait == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") > 0


def test_keys_have_separate_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=ManualClock())
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0.0


def test_refill_is_capped_at_the_burst() -> None:
    clock = ManualClock()
    limiter = RateLimiter(rate=10.0, burst=2, clock=clock)
    limiter.acquire("k")
    clock.now += 3600
    assert [limiter.acquire("k") for _ in range(3)][-1] > 0


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (9.99, "10")])
def test_retry_after_is_whole_seconds_at_least_one(wait: float, header: str) -> None:
    assert RateLimiter.retry_after_header(wait) == header


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_invalid_limits(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate=rate, burst=burst)


def test_the_least_recently_used_bucket_is_forgotten_beyond_max_keys() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=ManualClock(), max_keys=2)
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("b") == 0.0
    assert limiter.acquire("a") > 0  # a is now the most recent
    assert limiter.acquire("c") == 0.0  # b, the least recent, goes
    assert len(limiter) == 2
    assert limiter.acquire("a") > 0  # a kept its empty bucket
    assert limiter.acquire("b") == 0.0  # b starts again, full
