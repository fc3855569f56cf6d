"""The nodes/GPU view: capacity, what is in use, and the caller's jobs per node (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from aijob_api.models import AIJob

from aijob_gateway.kube.cluster import ClusterSnapshot
from aijob_gateway.schemas.nodes import NodesView, NodeView


def nodes_view(snapshot: ClusterSnapshot, namespace: str, jobs: Sequence[AIJob]) -> NodesView:
    """Every node with GPU totals; only the caller's own jobs are named."""
    in_use: dict[str, int] = defaultdict(int)
    pods: dict[str, int] = defaultdict(int)
    own_jobs: dict[str, set[str]] = defaultdict(set)
    job_names = {job.metadata.name for job in jobs}
    for pod in snapshot.pods:
        in_use[pod.node] += pod.gpu
        pods[pod.node] += 1
        if pod.namespace == namespace and pod.aijob in job_names and pod.aijob:
            own_jobs[pod.node].add(pod.aijob)
    views = [
        NodeView(
            name=node.name,
            gpu_node=node.gpu_capacity > 0,
            gpu_capacity=node.gpu_capacity,
            gpu_allocatable=node.gpu_allocatable,
            gpu_in_use=in_use[node.name],
            gpu_free=max(0, node.gpu_allocatable - in_use[node.name]),
            cpu_allocatable=node.cpu_allocatable,
            memory_allocatable=node.memory_allocatable,
            ready=node.ready,
            schedulable=not node.unschedulable,
            taints=node.taints,
            pods=pods[node.name],
            jobs=sorted(own_jobs[node.name]),
        )
        for node in sorted(snapshot.nodes, key=lambda n: n.name)
    ]
    return NodesView(
        nodes=views,
        gpu_capacity=sum(v.gpu_capacity for v in views),
        gpu_allocatable=sum(v.gpu_allocatable for v in views),
        gpu_in_use=sum(v.gpu_in_use for v in views),
        gpu_free=sum(v.gpu_free for v in views),
    )
