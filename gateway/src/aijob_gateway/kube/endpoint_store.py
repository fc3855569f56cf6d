"""Writes of AIEndpoints to the API server (create, delete, the gateway's share of the
status) and the direct read they need.

A create or a status patch hands the object the API server answered with to the cache,
and a delete takes the endpoint out of it, so a client reads its own write back at once.
"""

from __future__ import annotations

from typing import Any

from aijob_api.endpoint import AIEndpoint
from aijob_kube.resources import AIEndpointResource
from lightkube import AsyncClient
from lightkube.types import PatchType

from aijob_gateway.errors import NotFoundError
from aijob_gateway.kube.endpoint_cache import EndpointCache
from aijob_gateway.kube.errors import answered


class EndpointStore:
    """Creates, reads and deletes AIEndpoints, patches the gateway's share of their status;
    translates the API server's errors."""

    def __init__(self, client: AsyncClient, cache: EndpointCache) -> None:
        self._client = client
        self._cache = cache

    async def create(self, endpoint: AIEndpoint) -> AIEndpoint:
        """Create `endpoint` (AlreadyExistsError when its name is taken)."""
        namespace = endpoint.metadata.namespace or ""
        manifest = AIEndpointResource.from_dict(endpoint.to_manifest())
        with answered(f"create AIEndpoint {namespace}/{endpoint.metadata.name}"):
            created = await self._client.create(manifest)
        stored = AIEndpoint.model_validate(dict(created))
        self._cache.upsert_if_newer(stored)
        return stored

    async def read(self, namespace: str, name: str) -> AIEndpoint | None:
        """Read one AIEndpoint from the API server itself (bypassing the cache)."""
        try:
            with answered(f"read AIEndpoint {namespace}/{name}"):
                obj = await self._client.get(AIEndpointResource, name, namespace=namespace)
        except NotFoundError:
            return None
        return AIEndpoint.model_validate(dict(obj))

    async def delete(self, namespace: str, name: str) -> None:
        """Delete the endpoint; its Deployment, Service and pods go with it (owner references)."""
        with answered(f"delete AIEndpoint {namespace}/{name}"):
            await self._client.delete(AIEndpointResource, name, namespace=namespace)
        self._cache.remove(namespace, name)

    async def patch_status(
        self, namespace: str, name: str, uid: str | None, status: dict[str, Any]
    ) -> None:
        """Merge-patch the gateway's fields of the status (its own field manager), only on the
        endpoint of `uid` (a namesake created since is a ConflictError)."""
        patch: dict[str, Any] = {"status": status}
        if uid:
            patch["metadata"] = {"uid": uid}
        with answered(f"patch the status of AIEndpoint {namespace}/{name}"):
            patched = await self._client.patch(
                AIEndpointResource.Status,
                name,
                patch,
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )
        self._cache.upsert_if_newer(AIEndpoint.model_validate(dict(patched)))
