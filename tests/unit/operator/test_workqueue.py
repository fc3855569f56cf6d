"""The work queue: one pass per key at a time, nothing lost, delays that collapse."""

from __future__ import annotations

import asyncio

import pytest
from aijob_operator.workqueue import WorkQueue


async def test_a_key_waits_once_however_often_added() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for _ in range(5):
        queue.add("a")
    queue.add("b")
    assert len(queue) == 2
    assert (await queue.get())[0] == "a"
    assert (await queue.get())[0] == "b"


async def test_added_while_processing_runs_again_after() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    key, _ = await queue.get()
    queue.add("a")
    assert len(queue) == 0, "never handed to a second worker while the first has it"
    queue.done(key)
    assert len(queue) == 1
    assert (await queue.get())[0] == "a"
    queue.done("a")
    assert len(queue) == 0


async def test_add_after_keeps_the_earliest_schedule() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("a", 30)
    queue.add_after("a", 0.01)
    queue.add_after("a", 60)
    assert queue.scheduled == 1
    key, _ = await asyncio.wait_for(queue.get(), timeout=5)
    assert key == "a"
    assert queue.scheduled == 0


async def test_retry_backs_off_until_forgotten() -> None:
    queue: WorkQueue[str] = WorkQueue(base_delay=1, max_delay=8)
    assert [queue.retry("a") for _ in range(5)] == [1, 2, 4, 8, 8]
    queue.forget("a")
    assert queue.retry("a") == 1
    queue.discard("a")
    assert queue.scheduled == 0


async def test_closed_queue_takes_nothing() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("a", 10)
    queue.close()
    queue.add("b")
    queue.add_after("c", 1)
    assert (len(queue), queue.scheduled) == (0, 0)


@pytest.mark.parametrize("delay", [0, -1])
async def test_no_delay_means_now(delay: float) -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("a", delay)
    assert len(queue) == 1


async def test_urgent_keys_go_first_and_upgrade_a_queued_key() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "c"):
        queue.add(key)
    queue.add("new", urgent=True)
    queue.add("c", urgent=True)
    queue.add("c")
    assert len(queue) == 4
    order = [(await queue.get())[0] for _ in range(4)]
    assert order == ["new", "c", "a", "b"]
    assert len(queue) == 0


async def test_urgency_survives_a_pass_in_progress() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.add("b")
    key, _ = await queue.get()
    queue.add("a", urgent=True)
    queue.done(key)
    assert (await queue.get())[0] == "a"
