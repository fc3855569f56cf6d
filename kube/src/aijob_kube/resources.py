"""The lightkube resource classes aijob addresses: its custom resources, and raw built-in kinds.

The custom resources are generic lightkube resources (their objects are plain dicts,
validated by the `aijob_api` models where they are read), made from the group and
version in `aijob_api.constants`. A new kind is one line beside `AIJobResource`.
"""

from __future__ import annotations

from typing import Final

from aijob_api.constants import ENDPOINT_KIND, ENDPOINT_PLURAL, GROUP, KIND, PLURAL, VERSION
from lightkube.generic_resource import (
    GenericNamespacedResource,
    create_api_info,
    create_namespaced_resource,
)


def custom_resource(kind: str, plural: str) -> type[GenericNamespacedResource]:
    """A namespaced custom resource of aijob's API group and version (its `.Status` too)."""
    return create_namespaced_resource(GROUP, VERSION, kind, plural)


AIJobResource: Final = custom_resource(KIND, PLURAL)
"""The AIJob custom resource."""
AIEndpointResource: Final = custom_resource(ENDPOINT_KIND, ENDPOINT_PLURAL)
"""The AIEndpoint custom resource (its `.Scale` too)."""


class RawJob(GenericNamespacedResource):
    """batch/v1 Jobs as plain dicts (decoding into typed models costs a millisecond each)."""

    _api_info = create_api_info("batch", "v1", "Job", "jobs")


class RawPod(GenericNamespacedResource):
    """v1 Pods as plain dicts."""

    _api_info = create_api_info("", "v1", "Pod", "pods")


class RawDeployment(GenericNamespacedResource):
    """apps/v1 Deployments as plain dicts (an AIEndpoint's model servers)."""

    _api_info = create_api_info("apps", "v1", "Deployment", "deployments")


class RawService(GenericNamespacedResource):
    """v1 Services as plain dicts."""

    _api_info = create_api_info("", "v1", "Service", "services")


class RawConfigMap(GenericNamespacedResource):
    """v1 ConfigMaps as plain dicts."""

    _api_info = create_api_info("", "v1", "ConfigMap", "configmaps")


class RawLease(GenericNamespacedResource):
    """coordination.k8s.io/v1 Leases as plain dicts (the operator's leader election; a typed
    Lease would write its MicroTimes without the fractional digits the API server requires)."""

    _api_info = create_api_info("coordination.k8s.io", "v1", "Lease", "leases")


class RawEvent(GenericNamespacedResource):
    """v1 Events as plain dicts (the Job controller's FailedCreate, watched by the operator)."""

    _api_info = create_api_info("", "v1", "Event", "events")


class RawWorkload(GenericNamespacedResource):
    """Kueue's Workloads (kueue.x-k8s.io/v1beta2) as plain dicts: the one Kueue makes for each
    queued Job (watched by the operator only where Kueue is installed)."""

    _api_info = create_api_info("kueue.x-k8s.io", "v1beta2", "Workload", "workloads")
