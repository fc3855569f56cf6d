"""Creating, reading, listing and deleting endpoints, and their dispatch figures.

Reads come from the watch-backed endpoint cache, always within the caller's
namespace (another tenant's endpoint is a 404, as a job is); writes go to the API
server through the store. A create is idempotent by name: the same body again
answers the existing endpoint, another body is a 409. A model named by URI must lie in the
tenant's own store (422 naming `spec.model.source.uri`, the operator's rule), before
anything is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aijob_api.constants import ANNOTATION_DESCRIPTION, ANNOTATION_REQUEST_HASH
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.metadata import ObjectMeta
from aijob_api.storage import TenantStore, uri_problem

from aijob_gateway.dispatch.dispatcher import Dispatcher
from aijob_gateway.dispatch.registry import DispatcherRegistry
from aijob_gateway.dispatch.stats import DispatchStats
from aijob_gateway.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    UnavailableError,
)
from aijob_gateway.kube.endpoint_cache import EndpointCache
from aijob_gateway.kube.endpoint_store import EndpointStore
from aijob_gateway.kube.errors import AlreadyExistsError
from aijob_gateway.security.keys import Tenant
from aijob_gateway.services.idempotency import request_digest
from aijob_gateway.services.jobs import ANNOTATION_SUBMITTED_BY, tenant_store_of
from aijob_gateway.serving.transport import PodAnswer, PodRequest

EndpointDispatchers = DispatcherRegistry[PodRequest, PodAnswer]
EndpointDispatcher = Dispatcher[PodRequest, PodAnswer]


@dataclass(frozen=True)
class NewEndpoint:
    """A validated endpoint to create."""

    name: str
    spec: AIEndpointSpec
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        """Digest of everything the request asks for."""
        return request_digest(
            {
                "name": self.name,
                "description": self.description,
                "labels": self.labels,
                "spec": self.spec.model_dump(mode="json", by_alias=True),
            }
        )


@dataclass(frozen=True)
class CreatedEndpoint:
    """The endpoint of a create, and whether this request created it."""

    endpoint: AIEndpoint
    created: bool


class EndpointService:
    """Endpoints of one tenant at a time."""

    def __init__(
        self,
        cache: EndpointCache,
        store: EndpointStore,
        dispatchers: EndpointDispatchers,
        store_of: Callable[[str], TenantStore],
    ) -> None:
        self._cache = cache
        self._store = store
        self._dispatchers = dispatchers
        self._store_of = store_of

    def _require_synced(self) -> None:
        if not self._cache.synced:
            raise UnavailableError(
                "the endpoint cache is not synced with the API server yet",
                headers={"Retry-After": "1"},
            )

    def get(self, tenant: Tenant, name: str) -> AIEndpoint:
        """One endpoint of the tenant (404 when its namespace has no such endpoint)."""
        self._require_synced()
        endpoint = self._cache.get(tenant.namespace, name)
        if endpoint is None:
            raise NotFoundError(
                f"no endpoint named {name!r} in namespace {tenant.namespace!r}", field="name"
            )
        return endpoint

    def list(self, tenant: Tenant) -> list[AIEndpoint]:
        """Every endpoint of the tenant, newest first."""
        self._require_synced()
        return self._cache.list(tenant.namespace)

    def check_confined(self, tenant: Tenant, spec: AIEndpointSpec) -> None:
        """Refuse (422 naming the field) a model URI outside the tenant's store."""
        uri = spec.model.source.uri
        if uri is None:
            return  # a training job's model: the operator checks what it recorded
        problem = uri_problem(uri, tenant_store_of(self._store_of, tenant))
        if problem is not None:
            field = "spec.model.source.uri"
            raise InvalidRequestError(f"{field}: {uri!r}: {problem}", field=field)

    async def create(self, tenant: Tenant, new: NewEndpoint) -> CreatedEndpoint:
        """Create the endpoint, or return the one an identical earlier request created."""
        self.check_confined(tenant, new.spec)
        self._require_synced()
        digest = new.digest()
        existing = self._cache.get(tenant.namespace, new.name)
        if existing is not None:
            return self._replay(existing, digest)
        try:
            created = await self._store.create(self._manifest(tenant, new, digest))
        except AlreadyExistsError:
            existing = await self._store.read(tenant.namespace, new.name)
            if existing is None:
                raise ConflictError(
                    f"endpoint {new.name!r} was deleted while this request ran; send it again"
                ) from None
            return self._replay(existing, digest)
        return CreatedEndpoint(endpoint=created, created=True)

    async def delete(self, tenant: Tenant, name: str) -> AIEndpoint:
        """Delete the endpoint; its replicas stop (requests in flight on them fail over)."""
        endpoint = self.get(tenant, name)
        await self._store.delete(tenant.namespace, name)
        self._dispatchers.forget(tenant.namespace, name)
        return endpoint

    def forget_if_deleted(self, namespace: str, name: str) -> None:
        """Drop a deleted endpoint's dispatcher once its last pod is gone (a live one keeps
        its figures, whatever its pods do)."""
        if self._cache.get(namespace, name) is None:
            self._dispatchers.forget(namespace, name)

    def dispatcher(self, endpoint: AIEndpoint) -> EndpointDispatcher:
        """The endpoint's dispatcher, at the endpoint's current per-replica concurrency."""
        return self._dispatchers.dispatcher(
            endpoint.metadata.namespace or "",
            endpoint.metadata.name or "",
            concurrency=endpoint.spec.concurrency,
        )

    def stats(self, tenant: Tenant, name: str) -> DispatchStats:
        """The endpoint's queue, in-flight requests, latency, errors and replicas' scores."""
        return self.dispatcher(self.get(tenant, name)).stats()

    @staticmethod
    def _manifest(tenant: Tenant, new: NewEndpoint, digest: str) -> AIEndpoint:
        annotations = {ANNOTATION_REQUEST_HASH: digest, ANNOTATION_SUBMITTED_BY: tenant.key_id}
        if new.description is not None:
            annotations[ANNOTATION_DESCRIPTION] = new.description
        metadata = ObjectMeta(
            name=new.name, namespace=tenant.namespace, labels=new.labels, annotations=annotations
        )
        return AIEndpoint(metadata=metadata, spec=new.spec)

    @staticmethod
    def _replay(existing: AIEndpoint, digest: str) -> CreatedEndpoint:
        if existing.metadata.annotations.get(ANNOTATION_REQUEST_HASH) == digest:
            return CreatedEndpoint(endpoint=existing, created=False)
        raise ConflictError(
            f"an endpoint named {existing.metadata.name!r} already exists with a different "
            "request; delete it first or choose another name",
            field="name",
        )
