"""The nodes/GPU view."""

from __future__ import annotations

from aijob_gateway.kube.cluster import ClusterSnapshot, NodeInfo, PodUsage
from aijob_gateway.services.nodes import nodes_view

from tests.unit.gateway.factories import make_job


def node(name: str, gpus: int) -> NodeInfo:
    return NodeInfo(
        name=name,
        labels={},
        gpu_capacity=gpus,
        gpu_allocatable=gpus,
        cpu_allocatable="32",
        memory_allocatable="256Gi",
        ready=True,
        unschedulable=False,
        taints=[],
    )


def test_usage_and_only_own_jobs_named() -> None:
    snapshot = ClusterSnapshot(
        nodes=[node("gpu-1", 8), node("gpu-0", 8), node("cpu-0", 0)],
        pods=[
            PodUsage("team-a", "mine-0", "gpu-0", 2, "mine"),
            PodUsage("team-b", "theirs-0", "gpu-0", 4, "theirs"),
            PodUsage("team-b", "mine-0", "gpu-1", 1, "mine"),
            PodUsage("kube-system", "dns", "cpu-0", 0, None),
        ],
    )
    view = nodes_view(snapshot, "team-a", [make_job("mine")])
    by_name = {n.name: n for n in view.nodes}
    assert [n.name for n in view.nodes] == ["cpu-0", "gpu-0", "gpu-1"]
    assert by_name["gpu-0"].gpu_in_use == 6
    assert by_name["gpu-0"].gpu_free == 2
    assert by_name["gpu-0"].jobs == ["mine"]
    assert by_name["gpu-1"].jobs == []  # team-b's namesake is not the caller's job
    assert by_name["cpu-0"].gpu_node is False
    assert by_name["cpu-0"].pods == 1
    assert (view.gpu_capacity, view.gpu_in_use, view.gpu_free) == (16, 7, 9)
