"""Deadlines, a full queue and callers that go away: every request still ends, and is counted."""

from __future__ import annotations

import asyncio

import pytest
from aijob_api.priority import Priority
from aijob_gateway.dispatch import (
    DeadlineExceededError,
    QueueFullError,
    ScoringPolicy,
)

from tests.support.eventually import eventually_async
from tests.unit.gateway.dispatch.fakes import (
    FakeSend,
    Hold,
    ManualClock,
    dispatcher,
    pod_set,
    start,
)

REACTION_S = 5.0
SHORT_DEADLINE_S = 0.05
"""A deadline the tests let pass on purpose (real time: the dispatcher's own timeout)."""


async def test_the_deadline_passing_on_the_pod_is_a_504() -> None:
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pod_set("a", "b"), send)
    with pytest.raises(DeadlineExceededError) as exceeded:
        await start(subject, "record", timeout=SHORT_DEADLINE_S)
    assert (exceeded.value.status, exceeded.value.attempts) == (504, 1)
    assert "while pod" in exceeded.value.detail
    await eventually_async(lambda: held.cancelled, timeout=REACTION_S)
    stats = subject.stats()
    assert len(send.calls) == 1
    assert (stats.in_flight, stats.in_progress, stats.errors) == (0, 0, {"deadline-exceeded": 1})
    assert all(pod.outstanding == 0 for pod in stats.pods)


async def test_the_deadline_passing_in_the_queue_is_a_504() -> None:
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pod_set("a"), send, concurrency=1)
    running = start(subject, "running")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    with pytest.raises(DeadlineExceededError, match="waited in the queue") as exceeded:
        await start(subject, "queued", timeout=SHORT_DEADLINE_S)
    assert exceeded.value.attempts == 0
    assert subject.stats().queued == 0
    held.release()
    await running
    assert len(send.calls) == 1


async def test_a_deadline_already_past_sends_nothing() -> None:
    clock = ManualClock()
    send = FakeSend()
    subject = dispatcher(pod_set("a"), send, clock=clock)
    with pytest.raises(DeadlineExceededError):
        await subject.dispatch("record", Priority.HIGH, deadline=clock.now)
    assert send.calls == []


async def test_a_full_queue_is_a_429_with_retry_after() -> None:
    clock = ManualClock()
    pods = pod_set("a")
    state = pods.get("a")
    assert state is not None
    state.record_reply(2.0, now=clock.now, policy=ScoringPolicy())  # 0.5 answers per second
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pods, send, concurrency=1, queue_limit=3, clock=clock)
    running = start(subject, "running")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    queued = [start(subject, n) for n in range(3)]
    await eventually_async(lambda: subject.stats().queued == 3, timeout=REACTION_S)
    with pytest.raises(QueueFullError) as full:
        await start(subject, "one too many")
    # Three ahead plus itself at 0.5 answers per second: 8 seconds.
    assert (full.value.status, full.value.headers) == (429, {"Retry-After": "8"})
    assert full.value.slug == "queue-full"
    held.release()
    await asyncio.gather(running, *queued)
    stats = subject.stats()
    assert (stats.answered, stats.errors, stats.queue_high_watermark) == (4, {"queue-full": 1}, 3)


async def test_a_high_priority_request_takes_the_place_of_the_newest_low_one() -> None:
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pod_set("a"), send, concurrency=1, queue_limit=2)
    running = start(subject, "running")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    old_low = start(subject, "old low", Priority.LOW)
    new_low = start(subject, "new low", Priority.LOW)
    await eventually_async(lambda: subject.stats().queued == 2, timeout=REACTION_S)
    high = start(subject, "high", Priority.HIGH)
    with pytest.raises(QueueFullError):
        await new_low
    held.release()
    await asyncio.gather(running, old_low, high)
    assert [call.request for call in send.calls] == ["running", "high", "old low"]


async def test_a_caller_leaving_the_queue_frees_its_place() -> None:
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pod_set("a"), send, concurrency=1)
    running = start(subject, "running")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    leaving = start(subject, "client disconnects")
    staying = start(subject, "stays")
    await eventually_async(lambda: subject.stats().queued == 2, timeout=REACTION_S)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert subject.stats().queued_by_priority["normal"] == 1
    held.release()
    await asyncio.gather(running, staying)
    assert [call.request for call in send.calls] == ["running", "stays"]
    stats = subject.stats()
    assert (stats.received, stats.answered, stats.cancelled, stats.in_progress) == (3, 2, 1, 0)


async def test_a_caller_leaving_mid_request_cancels_the_attempt_and_frees_the_slot() -> None:
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pod_set("a"), send, concurrency=1)
    leaving = start(subject, "client disconnects")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    await eventually_async(lambda: held.cancelled, timeout=REACTION_S)
    assert (await start(subject, "next")).pod == "a"
    stats = subject.stats()
    assert (stats.cancelled, stats.answered, stats.in_flight, stats.retries) == (1, 1, 0, 0)


async def test_a_caller_leaving_just_as_it_gets_a_slot_gives_the_slot_back() -> None:
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pod_set("a"), send, concurrency=1)
    running = start(subject, "running")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    granted_then_gone = start(subject, "leaves when granted")
    await eventually_async(lambda: subject.stats().queued == 1, timeout=REACTION_S)
    held.release()
    await running  # its release grants the slot to the waiter, which has not run yet
    granted_then_gone.cancel()
    outcome = await asyncio.gather(granted_then_gone, return_exceptions=True)
    stats = subject.stats()
    assert stats.in_flight == 0
    assert stats.pods[0].outstanding == 0
    assert stats.received == stats.answered + stats.cancelled + stats.failed
    if isinstance(outcome[0], asyncio.CancelledError):
        assert stats.cancelled == 1
        assert (await start(subject, "next")).pod == "a"
