"""Publishing each endpoint's load into its status: figures, throttling, the patch's entries."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_scaling import GatewayLoad
from aijob_api.endpoint_status import AIEndpointStatus
from aijob_api.priority import Priority
from aijob_gateway.dispatch import Dispatcher, DispatchPolicy, DispatchStats, PodSet
from aijob_gateway.dispatch.registry import DispatcherRegistry
from aijob_gateway.errors import UnavailableError
from aijob_gateway.kube.endpoint_cache import EndpointCache
from aijob_gateway.services.endpoint_load import (
    EndpointLoadPublisher,
    LoadFigures,
    LoadTracker,
    load_patch,
)

from tests.unit.gateway.dispatch.fakes import FakeSend, Hold, ManualClock, pod_set

WALL = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
KEY = ("team-a", "iris")


def stats(in_progress: int = 0, answered: int = 0) -> DispatchStats:
    """The figures of a dispatcher with `in_progress` requests held and `answered` answered."""
    idle = Dispatcher(PodSet(), FakeSend()).stats()
    return replace(idle, in_progress=in_progress, answered=answered)


def tracker() -> LoadTracker:
    return LoadTracker(window=10.0, interval=3.0, refresh=30.0)


def test_the_first_figures_are_due_at_once() -> None:
    assert tracker().observe(KEY, stats(2), 0.0) == LoadFigures(2, 0.0)


@pytest.mark.parametrize(
    ("later", "in_progress", "due"),
    [
        (1.0, 2, False),
        (1.0, 5, False),
        (2.9, 5, False),
        (3.0, 5, True),
        (10.0, 2, False),
        (29.9, 2, False),
        (30.0, 2, True),
    ],
    ids=[
        "unchanged",
        "changed within the interval",
        "changed just before the interval",
        "changed after the interval",
        "unchanged after the interval",
        "unchanged just before the refresh",
        "unchanged at the refresh",
    ],
)
def test_figures_are_due_when_changed_after_the_interval_or_at_the_refresh(
    later: float, in_progress: int, due: bool
) -> None:
    subject = tracker()
    first = subject.observe(KEY, stats(2), 0.0)
    assert first is not None
    subject.published(KEY, first, 0.0)
    assert (subject.observe(KEY, stats(in_progress), later) is not None) is due


def test_a_failed_write_is_tried_again_after_the_interval() -> None:
    subject = tracker()
    subject.failed(KEY, 0.0)
    assert subject.observe(KEY, stats(2), 1.0) is None
    assert subject.observe(KEY, stats(2), 3.0) == LoadFigures(2, 0.0)


def test_requests_per_second_over_the_window() -> None:
    subject = tracker()
    subject.observe(KEY, stats(answered=0), 0.0)
    assert subject.observe(KEY, stats(answered=50), 5.0) == LoadFigures(0, 10.0)
    # 20 s later the window holds only the last samples: no answer in it, 0 per second.
    subject.observe(KEY, stats(answered=50), 20.0)
    assert subject.observe(KEY, stats(answered=50), 25.0) == LoadFigures(0, 0.0)


def entry(in_flight: int, rps: float, age: float) -> GatewayLoad:
    return GatewayLoad(
        in_flight=in_flight, requests_per_second=rps, updated_at=WALL - timedelta(seconds=age)
    )


def test_the_patch_writes_its_own_entry_sums_the_fresh_ones_and_prunes_the_old() -> None:
    status = AIEndpointStatus(
        gateway_load={
            "gw-a": entry(9, 9.0, 200),  # this pod's old entry: replaced
            "gw-b": entry(4, 1.5, 60),  # fresh (within 3 refreshes of 30 s)
            "gw-c": entry(7, 2.0, 120),  # stale: kept, not summed
            "gw-d": entry(1, 1.0, 301),  # gone long ago: removed
        }
    )
    patch = load_patch("gw-a", LoadFigures(3, 0.5), status, WALL, refresh=30.0)
    assert patch == {
        "gatewayLoad": {
            "gw-a": {"inFlight": 3, "requestsPerSecond": 0.5, "updatedAt": "2026-03-01T12:00:00Z"},
            "gw-d": None,
        },
        "inFlight": 7,
        "requestsPerSecond": 2.0,
        "loadUpdatedAt": "2026-03-01T12:00:00Z",
    }
    merged = {**status.model_dump(by_alias=True, mode="json")["gatewayLoad"]}
    for name, value in patch["gatewayLoad"].items():
        if value is None:
            merged.pop(name)
        else:
            merged[name] = value
    assert sorted(AIEndpointStatus.model_validate({"gatewayLoad": merged}).gateway_load) == [
        "gw-a",
        "gw-b",
        "gw-c",
    ]


def endpoint_body(name: str = "iris", **metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "team-a", "uid": f"uid-{name}", **metadata},
        "spec": {"model": {"source": {"trainingJob": "iris-forest"}}},
    }


class Writes:
    """The status patches the publisher made, in order; fails while `failing` is set."""

    def __init__(self) -> None:
        self.patches: list[tuple[str, str, str | None, dict[str, Any]]] = []
        self.failing = False

    async def __call__(
        self, namespace: str, name: str, uid: str | None, patch: dict[str, Any]
    ) -> None:
        if self.failing:
            raise UnavailableError("the API server is busy")
        self.patches.append((namespace, name, uid, patch))


async def test_the_publisher_writes_each_endpoint_when_due_and_holds_its_queue() -> None:
    send = FakeSend()
    registry = DispatcherRegistry(send, DispatchPolicy())
    pods = registry.pods("team-a", "iris")
    for pod in pod_set("iris-0"):
        pods.upsert(pod.pod, ready=True)
    registry.pods("team-a", "orphan")  # pods of an endpoint the cache does not know: skipped
    cache = EndpointCache()
    cache.apply("ADDED", endpoint_body())
    writes, clock = Writes(), ManualClock(0.0)
    publisher = EndpointLoadPublisher(
        "gw-a",
        registry,
        cache,
        writes,
        LoadTracker(window=10.0, interval=3.0, refresh=30.0),
        refresh=30.0,
        clock=clock,
        wall_clock=lambda: WALL,
    )

    assert await publisher.publish_due() == 1
    ((namespace, name, uid, patch),) = writes.patches
    assert (namespace, name, uid, patch["inFlight"]) == ("team-a", "iris", "uid-iris", 0)
    assert await publisher.publish_due() == 0

    # Two requests held by the replica (concurrency 1: one sent, one queued).
    dispatcher = registry.dispatcher("team-a", "iris", concurrency=1)
    held = [Hold(), Hold()]
    send.script(*held)
    loop = asyncio.get_running_loop()
    tasks = [
        asyncio.ensure_future(dispatcher.dispatch(index, Priority.NORMAL, loop.time() + 30))
        for index in range(2)
    ]
    await held[0].started.wait()
    clock.now = 1.0
    assert await publisher.publish_due() == 0, "throttled: within the interval"
    clock.now = 3.0
    assert await publisher.publish_due() == 1
    assert writes.patches[-1][3]["gatewayLoad"]["gw-a"]["inFlight"] == 2

    writes.failing = True
    held[0].release()
    await held[1].started.wait()
    clock.now = 6.0
    assert await publisher.publish_due() == 0
    writes.failing = False
    held[1].release()
    await asyncio.gather(*tasks)
    clock.now = 9.0
    assert await publisher.publish_due() == 1
    assert writes.patches[-1][3]["inFlight"] == 0
    assert writes.patches[-1][3]["requestsPerSecond"] > 0
    clock.now = 39.0
    assert await publisher.publish_due() == 1, "the refresh"


async def test_a_deleted_endpoint_is_not_written() -> None:
    registry = DispatcherRegistry(FakeSend(), DispatchPolicy())
    registry.pods("team-a", "iris")
    cache = EndpointCache()
    cache.apply("ADDED", endpoint_body(deletionTimestamp="2026-03-01T11:00:00Z"))
    writes = Writes()
    publisher = EndpointLoadPublisher(
        "gw-a", registry, cache, writes, tracker(), refresh=30.0, clock=ManualClock(0.0)
    )
    assert await publisher.publish_due() == 0
    assert writes.patches == []
    assert AIEndpoint.model_validate(endpoint_body()).status.gateway_load == {}
