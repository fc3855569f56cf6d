"""Kueue in a test cluster: whether it is installed, aijob's WorkloadPriorityClasses, and a
test's own ResourceFlavor, ClusterQueue and LocalQueue (deleted at the end).

The local cluster gets Kueue from `make kueue-up` (hack/kueue/); `make test` brings it up,
so there a missing Kueue fails the Kueue tests (`--no-env-skips`) while a user's own
cluster without it skips them, saying why. Every test's queue objects are its own (named
after its namespace, the ClusterQueue admitting only that namespace), so runs beside each
other never share quota. The WorkloadPriorityClasses are cluster-wide and shared, like the
PriorityClasses (tests/support/prerequisites.py): created when absent, never deleted.
"""

from __future__ import annotations

from typing import Any, Final

from aijob_api.priority import PRIORITY_LEVELS
from lightkube import ApiError, Client
from lightkube.generic_resource import create_global_resource, create_namespaced_resource

GROUP: Final = "kueue.x-k8s.io"
VERSION: Final = "v1beta2"
ResourceFlavor = create_global_resource(GROUP, VERSION, "ResourceFlavor", "resourceflavors")
ClusterQueue = create_global_resource(GROUP, VERSION, "ClusterQueue", "clusterqueues")
WorkloadPriorityClass = create_global_resource(
    GROUP, VERSION, "WorkloadPriorityClass", "workloadpriorityclasses"
)
LocalQueue = create_namespaced_resource(GROUP, VERSION, "LocalQueue", "localqueues")
Workload = create_namespaced_resource(GROUP, VERSION, "Workload", "workloads")
MISSING: Final = (
    "Kueue is not installed in this cluster (no kueue.x-k8s.io/v1beta2 Workloads): "
    "`make kueue-up` adds it to the local cluster"
)


def kueue_missing(kube: Client) -> str | None:
    """Why Kueue cannot be tested here, or None when its API is served."""
    try:
        next(iter(kube.list(ClusterQueue, chunk_size=1)), None)
    except ApiError as error:
        if error.status.code == 404:
            return MISSING
        raise
    return None


def ensure_workload_priority_classes(kube: Client) -> dict[str, int]:
    """aijob-high/normal/low as Kueue WorkloadPriorityClasses (the chart's values), created
    when absent; returns name to value."""
    wanted = {level.class_name: level.value for level in PRIORITY_LEVELS}
    for name, value in wanted.items():
        body = {"metadata": {"name": name}, "value": value, "description": "aijob tests"}
        try:
            kube.create(WorkloadPriorityClass.from_dict(body))
        except ApiError as error:
            if error.status.code != 409:
                raise
    return wanted


class TestQueue:
    """A test's ResourceFlavor, ClusterQueue (quota, preemption by priority) and LocalQueue."""

    __test__ = False

    def __init__(self, kube: Client, namespace: str, *, gpus: int, product: str) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = f"aijob-test-{namespace}"
        self.local = "gpus"
        self.gpus = gpus
        self.product = product

    def create(self) -> None:
        """The flavor (the test's GPU nodes), the ClusterQueue and the LocalQueue."""
        flavor = {
            "metadata": {"name": self.name},
            "spec": {"nodeLabels": {"nvidia.com/gpu.product": self.product}},
        }
        self.kube.create(ResourceFlavor.from_dict(flavor))
        self.kube.create(ClusterQueue.from_dict(self._cluster_queue()))
        local = {
            "metadata": {"name": self.local, "namespace": self.namespace},
            "spec": {"clusterQueue": self.name},
        }
        self.kube.create(LocalQueue.from_dict(local), namespace=self.namespace)

    def _cluster_queue(self) -> dict[str, Any]:
        quotas = [
            {"name": "cpu", "nominalQuota": "256"},
            {"name": "memory", "nominalQuota": "2Ti"},
            {"name": "nvidia.com/gpu", "nominalQuota": str(self.gpus)},
        ]
        return {
            "metadata": {"name": self.name},
            "spec": {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": self.namespace}
                },
                "queueingStrategy": "BestEffortFIFO",
                "preemption": {"withinClusterQueue": "LowerPriority"},
                "resourceGroups": [
                    {
                        "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                        "flavors": [{"name": self.name, "resources": quotas}],
                    }
                ],
            },
        }

    def workloads(self) -> list[dict[str, Any]]:
        """The Workloads Kueue made in the test's namespace."""
        return [dict(item) for item in self.kube.list(Workload, namespace=self.namespace)]

    def delete(self) -> None:
        """Delete what `create` made (Kueue's finalizers let each go once nothing uses it)."""
        for resource, name, namespace in (
            (LocalQueue, self.local, self.namespace),
            (ClusterQueue, self.name, None),
            (ResourceFlavor, self.name, None),
        ):
            try:
                self.kube.delete(resource, name, namespace=namespace)  # type: ignore[type-var]
            except ApiError as error:
                if error.status.code != 404:
                    raise
