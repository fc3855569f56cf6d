"""A test's own simulated GPU nodes, of a GPU product of their own (deleted at the end).

Each is a KWOK node as hack/cluster/nodes.yaml writes them (8 nvidia.com/gpu, tainted), with
the label `nvidia.com/gpu.product` set to the test's own product, and the test's jobs ask
for that product (`spec.placement.gpuProduct`): other suites running on the same cluster
never take their GPUs, and these jobs never take the cluster's.
"""

from __future__ import annotations

import uuid
from typing import Final

from lightkube import ApiError, Client
from lightkube.models.core_v1 import NodeSpec, NodeStatus, Taint
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Node

from tests.support.eventually import Timeout, eventually

GPUS_PER_NODE: Final = 8


def gpu_node(name: str, product: str) -> Node:
    """A simulated GPU node of a product of its own."""
    capacity = {"cpu": "64", "memory": "512Gi", "pods": "110", "nvidia.com/gpu": str(GPUS_PER_NODE)}
    return Node(
        metadata=ObjectMeta(
            name=name,
            annotations={"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            labels={
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "type": "kwok",
                "nvidia.com/gpu.present": "true",
                "nvidia.com/gpu.product": product,
            },
        ),
        spec=NodeSpec(taints=[Taint(key="nvidia.com/gpu", value="present", effect="NoSchedule")]),
        status=NodeStatus(allocatable=capacity, capacity=capacity),
    )


class GpuNodes:
    """Simulated GPU nodes of one test, all of a GPU product of their own."""

    def __init__(self, kube: Client, stem: str = "kwok-test") -> None:
        self.kube = kube
        self.product = f"AIJOB-TEST-{uuid.uuid4().hex[:8].upper()}"
        self.stem = f"{stem}-{self.product[-8:].lower()}"
        self.made: list[str] = []

    def add(self, count: int) -> list[str]:
        """Create `count` more nodes and wait until KWOK has made them Ready; return their names.

        A node counts for the scheduler and the operator's gang start only once Ready, and
        KWOK sets that a moment after the create: a test that went on at once would see
        fewer nodes than it made.
        """
        names = [f"{self.stem}-{len(self.made) + i}" for i in range(count)]
        for name in names:
            self.kube.create(gpu_node(name, self.product))
            self.made.append(name)
        eventually(lambda: self._all_ready(names), timeout=Timeout.API, what=f"{names} Ready")
        return names

    def _all_ready(self, names: list[str]) -> bool:
        for name in names:
            status = self.kube.get(Node, name).status
            conditions = (status.conditions if status is not None else None) or []
            ready = any(item.type == "Ready" and item.status == "True" for item in conditions)
            assert ready, f"{name} not Ready yet"
        return True

    def delete(self) -> None:
        """Delete every node made."""
        for name in self.made:
            try:
                self.kube.delete(Node, name)
            except ApiError as error:
                if error.status.code != 404:
                    raise
