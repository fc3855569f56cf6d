"""Under saturation, high-priority requests overtake queued normal and low ones."""

from __future__ import annotations

import asyncio

from aijob_api.priority import Priority
from aijob_gateway.dispatch import DispatchResult

from tests.support.eventually import eventually_async
from tests.unit.gateway.dispatch.fakes import (
    FakeSend,
    Hold,
    Reply,
    dispatcher,
    pod_set,
    start,
)

REACTION_S = 5.0
PER_PRIORITY = 30
SLOTS = 4  # two pods of concurrency two
TICK_S = 0.001


class TickClock:
    """A clock that moves one tick each time it is read: latencies count the dispatcher's
    steps between a request's arrival and its answer, not the shared machine's speed."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.reads * TICK_S


async def test_high_overtakes_normal_overtakes_low_under_saturation() -> None:
    blockers = [Hold() for _ in range(SLOTS)]
    send = FakeSend()
    send.script(*blockers)
    subject = dispatcher(
        pod_set("a", "b"), send, concurrency=2, queue_limit=3 * PER_PRIORITY, clock=TickClock()
    )
    blocking = [start(subject, ("blocker", n)) for n in range(SLOTS)]
    await eventually_async(lambda: len(send.calls) == SLOTS, timeout=REACTION_S)

    # A burst arriving interleaved: low, normal, high, low, normal, high...
    burst: list[asyncio.Task[DispatchResult[Reply]]] = []
    for n in range(PER_PRIORITY):
        for priority in (Priority.LOW, Priority.NORMAL, Priority.HIGH):
            burst.append(start(subject, (priority, n), priority))
    await eventually_async(lambda: subject.stats().queued == 3 * PER_PRIORITY, timeout=REACTION_S)
    assert subject.stats().queued_by_priority == {
        "high": PER_PRIORITY,
        "normal": PER_PRIORITY,
        "low": PER_PRIORITY,
    }

    for blocker in blockers:
        blocker.release()
    await asyncio.gather(*blocking, *burst)

    served = [call.request for call in send.calls[SLOTS:]]
    expected = [
        (priority, n)
        for priority in (Priority.HIGH, Priority.NORMAL, Priority.LOW)
        for n in range(PER_PRIORITY)
    ]
    assert served == expected  # priority order, and FIFO within each priority
    stats = subject.stats()
    p99 = {name: summary.p99_ms for name, summary in stats.latency_by_priority.items()}
    assert p99["high"] is not None
    assert p99["normal"] is not None
    assert p99["low"] is not None
    assert p99["high"] < p99["normal"] < p99["low"]
    assert (stats.answered, stats.queued, stats.in_flight) == (SLOTS + 3 * PER_PRIORITY, 0, 0)
    assert {pod.name: pod.served for pod in stats.pods}.keys() == {"a", "b"}
    assert all(pod.served > 0 for pod in stats.pods)
