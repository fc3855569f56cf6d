"""Read-only views of nodes and pods for the nodes/GPU route.

Nodes and pods are read with a direct list, not a cache: the nodes view is an
operator's glance, not a hot path, and a cluster-wide pod cache would cost the
gateway memory proportional to every pod in the cluster. One read serves all
requests for `nodes_cache_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aijob_api.constants import GPU_RESOURCE, LABEL_JOB_NAME
from lightkube import ALL_NS, AsyncClient, operators
from lightkube.resources.core_v1 import Node, Pod

from aijob_gateway.kube.errors import answered

FINISHED_POD_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class NodeInfo:
    """What the nodes view shows of one node."""

    name: str
    labels: dict[str, str]
    gpu_capacity: int
    gpu_allocatable: int
    cpu_allocatable: str | None
    memory_allocatable: str | None
    ready: bool
    unschedulable: bool
    taints: list[str]


@dataclass(frozen=True)
class PodUsage:
    """A pod that holds resources on a node."""

    namespace: str
    name: str
    node: str
    gpu: int
    aijob: str | None


@dataclass(frozen=True)
class ClusterSnapshot:
    """Nodes and the pods placed on them, read at one moment."""

    nodes: list[NodeInfo]
    pods: list[PodUsage] = field(default_factory=list)
    read_at: float = 0.0


def _quantity_int(value: Any) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _node_info(node: Any) -> NodeInfo:
    status, spec, metadata = node.status, node.spec, node.metadata
    capacity = (status.capacity if status else None) or {}
    allocatable = (status.allocatable if status else None) or {}
    conditions = (status.conditions if status else None) or []
    ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
    taints = [
        f"{t.key}={t.value or ''}:{t.effect}" for t in ((spec.taints if spec else None) or [])
    ]
    return NodeInfo(
        name=metadata.name,
        labels=dict(metadata.labels or {}),
        gpu_capacity=_quantity_int(capacity.get(GPU_RESOURCE, 0)),
        gpu_allocatable=_quantity_int(allocatable.get(GPU_RESOURCE, 0)),
        cpu_allocatable=allocatable.get("cpu"),
        memory_allocatable=allocatable.get("memory"),
        ready=ready,
        unschedulable=bool(spec.unschedulable) if spec else False,
        taints=taints,
    )


def _pod_gpus(pod: Any) -> int:
    total = 0
    for container in pod.spec.containers or []:
        resources = container.resources
        if resources is None:
            continue
        wanted = (resources.limits or {}).get(GPU_RESOURCE) or (resources.requests or {}).get(
            GPU_RESOURCE
        )
        total += _quantity_int(wanted or 0)
    return total


def _pod_usage(pod: Any) -> PodUsage | None:
    node = pod.spec.nodeName if pod.spec else None
    phase = pod.status.phase if pod.status else None
    if not node or phase in FINISHED_POD_PHASES:
        return None
    labels = pod.metadata.labels or {}
    return PodUsage(
        namespace=pod.metadata.namespace,
        name=pod.metadata.name,
        node=node,
        gpu=_pod_gpus(pod),
        aijob=labels.get(LABEL_JOB_NAME),
    )


class ClusterReader:
    """Reads nodes and pods, memoised for a short while."""

    def __init__(
        self,
        client: AsyncClient,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._snapshot: ClusterSnapshot | None = None

    async def snapshot(self) -> ClusterSnapshot:
        """Nodes and running pods, at most `ttl_seconds` old."""
        now = self._clock()
        if self._snapshot is not None and now - self._snapshot.read_at < self._ttl:
            return self._snapshot
        with answered("list nodes and pods"):
            nodes = [_node_info(node) async for node in self._client.list(Node)]
            pods = [
                usage
                async for pod in self._client.list(
                    Pod,
                    namespace=ALL_NS,
                    fields={"status.phase": operators.not_in(list(FINISHED_POD_PHASES))},
                )
                if (usage := _pod_usage(pod)) is not None
            ]
        self._snapshot = ClusterSnapshot(nodes=nodes, pods=pods, read_at=now)
        return self._snapshot
