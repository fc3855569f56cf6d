"""CapacityView: Nodes and bound pods read into free room, and reservations between groups."""

from __future__ import annotations

import asyncio
from typing import Any

from aijob_operator.capacity import PodRequest, Resources
from aijob_operator.capacity_view import CapacityView, node_capacity, pod_usage

GPU_TOLERATION = ("nvidia.com/gpu", "Exists", None, "NoSchedule")
EIGHT_GPUS = PodRequest(Resources(8, 500, 2**30), {}, (GPU_TOLERATION,))


def node(name: str, gpus: int = 8) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"type": "kwok"}},
        "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
        "status": {
            "allocatable": {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": str(gpus)},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod(node_name: str, gpus: int) -> dict[str, Any]:
    requests = {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": str(gpus)}
    return {"spec": {"nodeName": node_name, "containers": [{"resources": {"requests": requests}}]}}


class Cluster:
    """What the API server would list, as plain data; counts the lists."""

    def __init__(self, nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> None:
        self.nodes = nodes
        self.pods = pods
        self.lists = 0

    async def list_nodes(self) -> list[dict[str, Any]]:
        self.lists += 1
        return self.nodes

    async def list_bound_pods(self) -> list[dict[str, Any]]:
        return self.pods


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nodes_and_pods_are_read_as_the_scheduler_counts_them() -> None:
    capacity = node_capacity(node("g0"))
    assert capacity.allocatable == Resources(8, 64_000, 512 * 2**30)
    assert capacity.taints == (("nvidia.com/gpu", "present", "NoSchedule"),)
    assert capacity.ready
    assert capacity.schedulable
    body = pod("g0", 2)
    body["spec"]["initContainers"] = [{"resources": {"requests": {"cpu": "4"}}}]
    assert pod_usage(body) == ("g0", Resources(2, 4000, 2**30))


def test_two_groups_checked_one_after_the_other_never_share_the_room() -> None:
    cluster = Cluster([node(f"g{i}") for i in range(2)], [])
    clock = Clock()
    view = CapacityView(cluster, clock=clock, max_age=60, reservation_seconds=30)
    first = asyncio.run(view.claim("job-a", EIGHT_GPUS, 2))
    second = asyncio.run(view.claim("job-b", EIGHT_GPUS, 2))
    assert first.fits
    assert not second.fits
    assert second.placeable == 0
    assert asyncio.run(view.claim("job-a", EIGHT_GPUS, 2)).fits  # its own room is its own
    clock.now += 31  # the reservation ends; the snapshot is still the one read
    assert asyncio.run(view.claim("job-b", EIGHT_GPUS, 2)).fits
    assert cluster.lists == 1


def test_bound_pods_take_room_and_a_new_read_sees_them() -> None:
    cluster = Cluster([node("g0"), node("g1")], [pod("g1", 4)])
    clock = Clock()
    view = CapacityView(cluster, clock=clock, max_age=2)
    verdict = asyncio.run(view.claim("job-a", EIGHT_GPUS, 2))
    assert (verdict.fits, verdict.placeable) == (False, 1)
    cluster.pods = []
    clock.now += 3
    assert asyncio.run(view.claim("job-a", EIGHT_GPUS, 2)).fits
    assert cluster.lists == 2
