"""The watch-backed, in-memory cache of AIEndpoints that serves the endpoint routes.

An `ObjectCache` of AIEndpoints (see `object_cache`), the same mechanism as the job
cache: indexed by namespace first, one reflector keeps it current.
"""

from __future__ import annotations

from collections.abc import Callable

from aijob_api.constants import ENDPOINT_KIND
from aijob_api.endpoint import AIEndpoint

from aijob_gateway.kube.object_cache import ObjectCache


class EndpointCache(ObjectCache[AIEndpoint]):
    """AIEndpoints by namespace and name, kept current by a reflector."""

    def __init__(self, on_invalid: Callable[[], None] | None = None) -> None:
        super().__init__(AIEndpoint.model_validate, ENDPOINT_KIND, on_invalid)
