"""The lightkube resource classes aijob addresses: its custom resources, and raw built-in kinds.

The custom resources are generic lightkube resources (their objects are plain dicts,
validated by the `aijob_api` models where they are read), made from the group and
version in `aijob_api.constants`. A new kind is one line beside `AIJobResource`, e.g.
`AIEndpointResource: Final = custom_resource(ENDPOINT_KIND, ENDPOINT_PLURAL)`.
"""

from __future__ import annotations

from typing import Final

from aijob_api.constants import GROUP, KIND, PLURAL, VERSION
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


class RawJob(GenericNamespacedResource):
    """batch/v1 Jobs as plain dicts (decoding into typed models costs a millisecond each)."""

    _api_info = create_api_info("batch", "v1", "Job", "jobs")


class RawPod(GenericNamespacedResource):
    """v1 Pods as plain dicts."""

    _api_info = create_api_info("", "v1", "Pod", "pods")
