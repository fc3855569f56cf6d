"""Retries: a pod's fault is tried on another pod, 3 attempts at most, never past the deadline."""

from __future__ import annotations

import asyncio

import pytest
from aijob_api.priority import Priority
from aijob_gateway.dispatch import (
    DeadlineExceededError,
    NoReadyPodError,
    Pod,
    PodsFailedError,
    is_pod_fault,
)
from aijob_gateway.dispatch.errors import DispatchError

from tests.support.eventually import eventually_async
from tests.unit.gateway.dispatch.fakes import (
    OK,
    Action,
    FakeSend,
    Hold,
    ManualClock,
    Reply,
    dispatcher,
    pod_set,
    start,
)

REACTION_S = 5.0


@pytest.mark.parametrize(
    ("status", "fault"),
    [
        (200, False),
        (204, False),
        (400, False),
        (404, False),
        (422, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
    ],
)
def test_which_replies_are_the_pods_fault(status: int, fault: bool) -> None:
    assert is_pod_fault(status) is fault


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Reply(500), id="500"),
        pytest.param(Reply(503), id="503 draining"),
        pytest.param(Reply(429), id="429 pod overloaded"),
        pytest.param(ConnectionRefusedError("connection refused"), id="connection refused"),
        pytest.param(OSError("network unreachable"), id="network error"),
        pytest.param(TimeoutError(), id="transport timeout"),
    ],
)
async def test_a_pod_fault_is_retried_on_another_pod(failure: Action) -> None:
    send = FakeSend()
    send.script(failure)
    subject = dispatcher(pod_set("a", "b", "c"), send)
    result = await start(subject, "record")
    first, second = send.pods_called
    assert second != first
    assert (result.reply, result.pod, result.attempts, result.retries) == (OK, second, 2, 1)
    stats = subject.stats()
    assert (stats.answered, stats.retries, stats.errors) == (1, 1, {})
    assert next(p for p in stats.pods if p.name == first).faults == 1


@pytest.mark.parametrize("status", [400, 404, 413, 422])
async def test_a_refused_request_is_answered_not_retried(status: int) -> None:
    send = FakeSend(default=Reply(status, "field x: not a number"))
    subject = dispatcher(pod_set("a", "b"), send)
    result = await start(subject, "bad record")
    assert (result.reply.status_code, result.attempts, len(send.calls)) == (status, 1, 1)
    stats = subject.stats()
    assert (stats.answered, stats.rejected, stats.retries) == (1, 1, 0)
    assert all(pod.faults == 0 for pod in stats.pods)


@pytest.mark.parametrize(
    ("pods", "attempts"),
    [
        pytest.param(("a",), 1, id="one pod: never the same pod twice"),
        pytest.param(("a", "b"), 2, id="two pods"),
        pytest.param(("a", "b", "c", "d", "e"), 3, id="five pods: three attempts at most"),
    ],
)
async def test_attempts_stop_at_three_or_when_no_other_pod_is_left(
    pods: tuple[str, ...], attempts: int
) -> None:
    send = FakeSend(default=Reply(500))
    subject = dispatcher(pod_set(*pods), send)
    with pytest.raises(PodsFailedError) as failed:
        await start(subject, "record")
    assert failed.value.attempts == attempts
    assert failed.value.retries == attempts - 1
    assert len(set(send.pods_called)) == len(send.calls) == attempts
    assert failed.value.status == 502
    assert "answered 500" in failed.value.detail
    stats = subject.stats()
    assert (stats.retries, stats.errors, stats.in_flight) == (
        attempts - 1,
        {"inference-failed": 1},
        0,
    )


async def test_no_retry_once_the_deadline_has_passed() -> None:
    clock = ManualClock()
    send = FakeSend()

    def fail_late() -> Reply:
        clock.now += 2.0
        raise ConnectionResetError("connection reset")

    send.script(fail_late)
    subject = dispatcher(pod_set("a", "b"), send, clock=clock)
    with pytest.raises(DeadlineExceededError) as exceeded:
        await subject.dispatch("record", Priority.NORMAL, deadline=clock.now + 1.0)
    assert exceeded.value.attempts == 1
    assert len(send.calls) == 1
    assert "ConnectionResetError" in exceeded.value.detail
    assert subject.stats().errors == {"deadline-exceeded": 1}


async def test_each_attempt_gets_only_the_time_left() -> None:
    clock = ManualClock()
    send = FakeSend()

    def fail_after_a_second() -> Reply:
        clock.now += 1.0
        return Reply(503)

    send.script(fail_after_a_second)
    subject = dispatcher(pod_set("a", "b"), send, clock=clock)
    result = await subject.dispatch("record", Priority.NORMAL, deadline=clock.now + 5.0)
    assert result.attempts == 2
    assert [call.timeout for call in send.calls] == [5.0, 4.0]


async def test_a_pod_removed_mid_request_fails_over_to_another() -> None:
    pods = pod_set("a", "b")
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pods, send)
    task = start(subject, "record")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    gone = send.calls[0].pod
    pods.remove(gone)
    result = await task
    assert result.pod != gone
    assert result.retries == 1
    assert held.cancelled
    stats = subject.stats()
    assert [pod.name for pod in stats.pods] == [result.pod]
    assert (stats.in_flight, stats.answered) == (0, 1)


async def test_the_last_pod_removed_mid_request_fails_it_and_the_queued_ones() -> None:
    pods = pod_set("a")
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pods, send, concurrency=1)
    running = start(subject, "running")
    queued = start(subject, "queued")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    await eventually_async(lambda: subject.stats().queued == 1, timeout=REACTION_S)
    pods.sync({})
    with pytest.raises(NoReadyPodError):
        await queued
    with pytest.raises(PodsFailedError, match="removed while the request ran"):
        await running
    stats = subject.stats()
    assert stats.errors == {"no-ready-pod": 1, "inference-failed": 1}
    assert (stats.queued, stats.in_flight, stats.in_progress) == (0, 0, 0)


async def test_a_retry_waits_for_a_busy_other_pod_ahead_of_later_requests() -> None:
    pods = pod_set("b")
    send = FakeSend()
    busy_b = Hold()
    send.script(busy_b, pod="b")
    send.script(Reply(500), Reply(200, "a again"), pod="a")
    subject = dispatcher(pods, send, concurrency=1)
    on_b = start(subject, "occupies b")
    await asyncio.wait_for(busy_b.started.wait(), REACTION_S)
    pods.upsert(Pod("a", "a:8080"), ready=True)
    retried = start(subject, "fails on a, must wait for b")
    await eventually_async(lambda: subject.stats().queued == 1, timeout=REACTION_S)
    later = start(subject, "arrives after, takes a")
    assert (await later).pod == "a"
    busy_b.release()
    assert (await on_b).pod == "b"
    result = await retried
    assert (result.pod, result.retries) == ("b", 1)


async def test_every_ending_is_counted() -> None:
    send = FakeSend()
    send.script(Reply(500), Reply(500), Reply(500), Reply(422), OK)
    subject = dispatcher(pod_set("a", "b", "c"), send, concurrency=3)
    outcomes: list[str] = []
    for request in ("fails thrice", "refused", "answered"):
        try:
            await start(subject, request)
            outcomes.append("answered")
        except DispatchError as error:
            outcomes.append(error.slug)
    stats = subject.stats()
    assert outcomes == ["inference-failed", "answered", "answered"]
    assert stats.received == 3 == stats.answered + stats.failed + stats.cancelled
    assert (stats.rejected, stats.retries, stats.latency.count) == (1, 2, 2)
    assert sum(pod.faults for pod in stats.pods) == 3
    assert sum(pod.served for pod in stats.pods) == 2
