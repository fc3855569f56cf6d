"""Picking a pod through the dispatcher: load, score, readiness, concurrency, the stats."""

from __future__ import annotations

import asyncio

import pytest
from aijob_api.priority import Priority
from aijob_gateway.dispatch import (
    DispatchPolicy,
    NoReadyPodError,
    Pod,
    PodSet,
    ScoringPolicy,
)

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


async def test_held_requests_spread_over_the_least_loaded_pods() -> None:
    holds = [Hold() for _ in range(6)]
    send = FakeSend()
    send.script(*holds)
    subject = dispatcher(pod_set("a", "b", "c"), send, concurrency=4)
    tasks = [start(subject, n) for n in range(6)]
    await eventually_async(lambda: len(send.calls) == 6, timeout=REACTION_S)
    assert sorted(send.pods_called) == ["a", "a", "b", "b", "c", "c"]
    assert [pod.outstanding for pod in subject.stats().pods] == [2, 2, 2]
    for hold in holds:
        hold.release()
    await asyncio.gather(*tasks)


async def test_a_slow_pod_gets_less_of_the_load() -> None:
    pods = pod_set("fast", "slow")
    scoring = ScoringPolicy()
    for name, latency in (("fast", 0.01), ("slow", 0.04)):
        state = pods.get(name)
        assert state is not None
        state.record_reply(latency, now=0.0, policy=scoring)
    holds = [Hold() for _ in range(10)]
    send = FakeSend()
    send.script(*holds)
    subject = dispatcher(pods, send, concurrency=10)
    tasks = [start(subject, n) for n in range(10)]
    await eventually_async(lambda: len(send.calls) == 10, timeout=REACTION_S)
    assert send.pods_called.count("fast") == 8
    for hold in holds:
        hold.release()
    await asyncio.gather(*tasks)


async def test_only_ready_pods_take_requests() -> None:
    pods = pod_set("ready")
    pods.upsert(Pod("starting", "starting:8080"), ready=False)
    send = FakeSend()
    subject = dispatcher(pods, send, concurrency=4)
    for n in range(5):
        await start(subject, n)
    assert set(send.pods_called) == {"ready"}


@pytest.mark.parametrize(
    "pods",
    [pytest.param(PodSet(), id="no pod"), pytest.param(pod_set("a", ready=False), id="not ready")],
)
async def test_no_ready_pod_is_a_503(pods: PodSet) -> None:
    subject = dispatcher(pods, FakeSend())
    with pytest.raises(NoReadyPodError) as refused:
        await start(subject, "record")
    assert refused.value.status == 503
    assert subject.stats().errors == {"no-ready-pod": 1}


async def test_a_pod_at_its_concurrency_makes_the_rest_wait() -> None:
    holds = [Hold(), Hold(), Hold()]
    send = FakeSend()
    send.script(*holds)
    subject = dispatcher(pod_set("a"), send, concurrency=2)
    tasks = [start(subject, n) for n in range(3)]
    await eventually_async(lambda: subject.stats().queued == 1, timeout=REACTION_S)
    assert len(send.calls) == 2
    stats = subject.stats()
    assert (stats.in_flight, stats.busy_pods, stats.pods[0].outstanding) == (2, 1, 2)
    holds[0].release()
    await asyncio.wait_for(holds[2].started.wait(), REACTION_S)
    assert [call.request for call in send.calls] == [0, 1, 2]
    holds[1].release()
    holds[2].release()
    await asyncio.gather(*tasks)
    assert subject.stats().in_flight == 0


async def test_raising_the_concurrency_serves_the_queue() -> None:
    holds = [Hold(), Hold()]
    send = FakeSend()
    send.script(*holds)
    subject = dispatcher(pod_set("a"), send, concurrency=1)
    tasks = [start(subject, n) for n in range(2)]
    await eventually_async(lambda: subject.stats().queued == 1, timeout=REACTION_S)
    subject.set_concurrency(2)
    await asyncio.wait_for(holds[1].started.wait(), REACTION_S)
    for hold in holds:
        hold.release()
    await asyncio.gather(*tasks)
    with pytest.raises(ValueError, match="concurrency"):
        subject.set_concurrency(0)


async def test_a_pod_turning_ready_serves_the_queue() -> None:
    pods = pod_set("a")
    pods.upsert(Pod("b", "b:8080"), ready=False)
    held = Hold()
    send = FakeSend()
    send.script(held, pod="a")
    subject = dispatcher(pods, send, concurrency=1)
    first = start(subject, "on a")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    second = start(subject, "waits for b")
    await eventually_async(lambda: subject.stats().queued == 1, timeout=REACTION_S)
    pods.set_ready("b", ready=True)
    assert (await second).pod == "b"
    held.release()
    assert (await first).pod == "a"


async def test_a_pod_no_longer_ready_finishes_what_it_holds() -> None:
    pods = pod_set("a", "b")
    held = Hold()
    send = FakeSend()
    send.script(held)
    subject = dispatcher(pods, send)
    draining_task = start(subject, "in flight")
    await asyncio.wait_for(held.started.wait(), REACTION_S)
    draining = send.calls[0].pod
    pods.set_ready(draining, ready=False)
    other = await start(subject, "next")
    assert other.pod != draining
    held.release()
    result = await draining_task
    assert (result.pod, result.retries) == (draining, 0)


async def test_stats_show_queue_latency_and_each_pods_score() -> None:
    send = FakeSend()
    send.script(Reply(500))
    pods = pod_set("a", "b")
    subject = dispatcher(pods, send, concurrency=3, queue_limit=7)
    for priority in (Priority.HIGH, Priority.LOW, Priority.LOW):
        deadline = subject.now() + 5
        await subject.dispatch("record", priority, deadline)
    stats = subject.stats()
    assert (stats.queue_limit, stats.queued, stats.concurrency, stats.ready_pods) == (7, 0, 3, 2)
    assert stats.queued_by_priority == {"high": 0, "normal": 0, "low": 0}
    assert (stats.received, stats.answered, stats.retries, stats.failed) == (3, 3, 1, 0)
    assert stats.latency.count == 3
    assert stats.latency.p50_ms is not None
    assert stats.latency.p99_ms is not None
    assert stats.latency.p50_ms <= stats.latency.p99_ms
    assert stats.latency_by_priority["high"].count == 1
    assert stats.latency_by_priority["low"].count == 2
    assert stats.latency_by_priority["normal"].p99_ms is None
    by_name = {pod.name: pod for pod in stats.pods}
    faulty = send.calls[0].pod
    healthy = "b" if faulty == "a" else "a"
    assert by_name[faulty].faults == 1
    assert by_name[faulty].error_rate > by_name[healthy].error_rate == 0
    assert by_name[healthy].score > 0
    assert by_name[healthy].latency_ms is not None


def test_the_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        DispatchPolicy(concurrency=0)
    with pytest.raises(ValueError, match="queue_limit"):
        DispatchPolicy(queue_limit=-1)


async def test_sync_makes_the_set_exactly_what_it_is_told() -> None:
    pods = pod_set("a", "b")
    pods.sync({Pod("b", "b:9090"): False, Pod("c", "c:8080"): True})
    assert sorted(state.name for state in pods) == ["b", "c"]
    b = pods.get("b")
    assert b is not None
    assert (b.pod.address, b.ready) == ("b:9090", False)
    assert [state.name for state in pods.ready_pods()] == ["c"]
