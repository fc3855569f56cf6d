"""The pending queue: high before normal before low, FIFO within, bounded, removable."""

from __future__ import annotations

import asyncio

import pytest
from aijob_api.priority import Priority
from aijob_gateway.dispatch.queue import PendingQueue, Waiter

H, N, L = Priority.HIGH, Priority.NORMAL, Priority.LOW


def waiter(priority: Priority, arrival: int) -> Waiter:
    return Waiter(
        priority=priority,
        arrival=arrival,
        excluded=frozenset(),
        failures=(),
        granted=asyncio.get_running_loop().create_future(),
    )


def queue_of(limit: int, *entries: tuple[Priority, int]) -> PendingQueue:
    queue = PendingQueue(limit)
    for priority, arrival in entries:
        queue.push(waiter(priority, arrival))
    return queue


def order(queue: PendingQueue) -> list[tuple[Priority, int]]:
    return [(w.priority, w.arrival) for w in queue.in_order()]


@pytest.mark.parametrize(
    ("pushed", "expected"),
    [
        pytest.param([(N, 1), (N, 2), (N, 3)], [(N, 1), (N, 2), (N, 3)], id="fifo"),
        pytest.param([(L, 1), (N, 2), (H, 3)], [(H, 3), (N, 2), (L, 1)], id="priority first"),
        pytest.param(
            [(L, 1), (H, 2), (L, 3), (H, 4), (N, 5)],
            [(H, 2), (H, 4), (N, 5), (L, 1), (L, 3)],
            id="mixed",
        ),
        pytest.param(
            [(N, 5), (N, 6), (N, 2)], [(N, 2), (N, 5), (N, 6)], id="a retry keeps its arrival"
        ),
    ],
)
async def test_order(
    pushed: list[tuple[Priority, int]], expected: list[tuple[Priority, int]]
) -> None:
    assert order(queue_of(10, *pushed)) == expected


@pytest.mark.parametrize(
    ("limit", "pushed", "evicted", "left"),
    [
        pytest.param(2, [(N, 1), (N, 2)], None, [(N, 1), (N, 2)], id="at the limit"),
        pytest.param(2, [(N, 1), (N, 2), (N, 3)], (N, 3), [(N, 1), (N, 2)], id="newest goes"),
        pytest.param(
            2, [(L, 1), (N, 2), (H, 3)], (L, 1), [(H, 3), (N, 2)], id="lowest priority goes"
        ),
        pytest.param(
            2, [(L, 1), (L, 2), (H, 3)], (L, 2), [(H, 3), (L, 1)], id="newest of the lowest"
        ),
        pytest.param(0, [(H, 1)], (H, 1), [], id="no queue at all"),
    ],
)
async def test_overflow(
    limit: int,
    pushed: list[tuple[Priority, int]],
    evicted: tuple[Priority, int] | None,
    left: list[tuple[Priority, int]],
) -> None:
    queue = queue_of(limit, *pushed)
    out = queue.overflow()
    assert (None if out is None else (out.priority, out.arrival)) == evicted
    assert order(queue) == left
    assert len(queue) == len(left)


async def test_remove_keeps_the_others_in_order() -> None:
    queue = PendingQueue(10)
    entries = [waiter(N, 1), waiter(N, 2), waiter(N, 3), waiter(H, 4)]
    for entry in entries:
        queue.push(entry)
    assert queue.remove(entries[1]) is True
    assert queue.remove(entries[1]) is False
    assert order(queue) == [(H, 4), (N, 1), (N, 3)]
    assert queue.depth_by_priority() == {H: 1, N: 2, L: 0}
    assert queue.high_watermark == 4


async def test_removing_while_iterating_is_safe() -> None:
    queue = queue_of(10, (H, 1), (N, 2), (N, 3), (L, 4))
    seen = []
    for entry in queue.in_order():
        seen.append(entry.arrival)
        queue.remove(entry)
    assert seen == [1, 2, 3, 4]
    assert len(queue) == 0


async def test_a_stranger_with_a_queued_arrival_number_is_not_removed() -> None:
    queue = queue_of(10, (N, 1))
    assert queue.remove(waiter(N, 1)) is False
    assert len(queue) == 1


async def test_the_same_arrival_cannot_be_queued_twice() -> None:
    queue = queue_of(10, (N, 1))
    with pytest.raises(ValueError, match="queued already"):
        queue.push(waiter(N, 1))


@pytest.mark.parametrize(("priority", "ahead"), [(H, 1), (N, 3), (L, 4)])
async def test_ahead_of(priority: Priority, ahead: int) -> None:
    queue = queue_of(10, (H, 1), (N, 2), (N, 3), (L, 4))
    assert queue.ahead_of(priority) == ahead


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        PendingQueue(-1)
