"""Submitting, reading, listing and cancelling jobs: the gateway's core, on a cache and a store.

Reads come from the watch-backed cache, always within the caller's namespace;
writes go to the API server through the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aijob_api.conditions import Phase
from aijob_api.constants import (
    ANNOTATION_CLIENT_REQUEST_ID,
    ANNOTATION_DESCRIPTION,
    ANNOTATION_REQUEST_HASH,
    GROUP,
)
from aijob_api.inputs import dataset_uri_problem
from aijob_api.models import AIJob, AIJobSpec, ObjectMeta
from aijob_api.storage import TenantStore, spec_uri_problem
from aijob_api.tenant_resources import TenantResources, spec_resource_problem

from aijob_gateway.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    UnavailableError,
)
from aijob_gateway.kube.errors import AlreadyExistsError
from aijob_gateway.kube.job_cache import JobCache
from aijob_gateway.kube.job_store import JobStore
from aijob_gateway.kube.pod_logs import LogOptions, PodLogs
from aijob_gateway.security.keys import Tenant
from aijob_gateway.security.streams import LeasedStream, StreamSlots
from aijob_gateway.services.idempotency import (
    name_for_request_id,
    random_name,
    request_digest,
)
from aijob_gateway.services.listing import JobFilters, Page, job_phase, paginate

ANNOTATION_SUBMITTED_BY = f"{GROUP}/submitted-by-key"
"""The id (public part) of the API key that submitted the job."""
RANDOM_NAME_ATTEMPTS = 3


@dataclass(frozen=True)
class NewJob:
    """A validated submission, whatever route it came through."""

    spec: AIJobSpec
    name: str | None = None
    client_request_id: str | None = None
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        """Digest of everything the request asks for (the idempotency key excluded)."""
        return request_digest(
            {
                "name": self.name,
                "description": self.description,
                "labels": self.labels,
                "annotations": self.annotations,
                "spec": self.spec.model_dump(mode="json", by_alias=True),
            }
        )


@dataclass(frozen=True)
class Submitted:
    """The job of a submission, and whether this request created it."""

    job: AIJob
    created: bool


def tenant_store_of(store_of: Callable[[str], TenantStore], tenant: Tenant) -> TenantStore:
    """The tenant's artifact store; 422 when its namespace cannot have one."""
    try:
        return store_of(tenant.namespace)
    except ValueError as error:
        raise InvalidRequestError(f"no artifact store for this namespace: {error}") from None


class JobService:
    """Jobs of one tenant at a time.

    `store_of` gives a namespace's artifact store (as the operator computes it from the
    same settings): a submission naming a URI outside it is refused here, 422 naming the
    field, by the operator's own rule (`aijob_api.storage.spec_uri_problem`); `allowed`
    is the operator's allow-list of the Secrets and claims jobs may name.
    """

    def __init__(
        self,
        cache: JobCache,
        store: JobStore,
        logs: PodLogs,
        log_streams: StreamSlots,
        store_of: Callable[[str], TenantStore],
        allowed: TenantResources | None = None,
    ) -> None:
        self._cache = cache
        self._store = store
        self._logs = logs
        self._log_streams = log_streams
        self._store_of = store_of
        self._allowed = allowed or TenantResources()

    def _require_synced(self) -> None:
        if not self._cache.synced:
            raise UnavailableError(
                "the job cache is not synced with the API server yet", headers={"Retry-After": "1"}
            )

    def get(self, tenant: Tenant, name: str) -> AIJob:
        """One job of the tenant (404 when its namespace has no such job)."""
        self._require_synced()
        job = self._cache.get(tenant.namespace, name)
        if job is None:
            raise NotFoundError(
                f"no job named {name!r} in namespace {tenant.namespace!r}", field="name"
            )
        return job

    def page(
        self, tenant: Tenant, filters: JobFilters, limit: int, continue_token: str | None
    ) -> Page:
        """A page of the tenant's jobs, newest first."""
        self._require_synced()
        return paginate(self._cache.list(tenant.namespace), filters, limit, continue_token)

    def all(self, tenant: Tenant) -> list[AIJob]:
        """Every job of the tenant, newest first."""
        self._require_synced()
        return self._cache.list(tenant.namespace)

    def check_confined(self, tenant: Tenant, spec: AIJobSpec) -> None:
        """Refuse (422 naming the field) a spec whose URIs leave the tenant's store, or that
        names a Secret or claim the allow-list refuses (`aijob_api.tenant_resources`)."""
        found = spec_uri_problem(spec, tenant_store_of(self._store_of, tenant))
        found = found or spec_resource_problem(spec, self._allowed)
        if found is not None:
            raise InvalidRequestError(found[1], field=found[0])

    @staticmethod
    def check_data_format(spec: AIJobSpec) -> None:
        """Refuse (422 naming `spec.dataset.uri`) a data set in a format no worker reads."""
        if spec.dataset is not None and spec.dataset.uri is not None:
            problem = dataset_uri_problem(spec.dataset.uri)
            if problem is not None:
                raise InvalidRequestError(f"spec.dataset.uri: {problem}", field="spec.dataset.uri")

    async def submit(self, tenant: Tenant, new: NewJob) -> Submitted:
        """Create the job, or return the one an earlier identical request created."""
        self.check_confined(tenant, new.spec)
        self.check_data_format(new.spec)
        self._require_synced()
        digest = new.digest()
        idempotent = new.name is not None or new.client_request_id is not None
        if new.name is not None:
            name = new.name
        elif new.client_request_id is not None:
            name = name_for_request_id(tenant.namespace, new.client_request_id)
        else:
            name = random_name()
        if idempotent and (existing := self._cache.get(tenant.namespace, name)) is not None:
            return self._replay(existing, digest, new)
        for _ in range(RANDOM_NAME_ATTEMPTS):
            try:
                job = await self._store.create(self._manifest(tenant, new, name, digest))
                return Submitted(job=job, created=True)
            except AlreadyExistsError:
                if not idempotent:
                    name = random_name()
                    continue
                existing = await self._store.read(tenant.namespace, name)
                if existing is None:
                    raise ConflictError(
                        f"job {name!r} was deleted while this request ran; send it again"
                    ) from None
                return self._replay(existing, digest, new)
        raise ConflictError("could not find a free job name; send the request again")

    async def cancel(self, tenant: Tenant, name: str) -> AIJob:
        """Ask the operator to cancel: `spec.cancel: true`; the record stays."""
        job = self.get(tenant, name)
        phase = job_phase(job)
        if phase in (Phase.SUCCEEDED, Phase.FAILED):
            raise ConflictError(f"job {name!r} already {phase.value}; there is nothing to cancel")
        if job.spec.cancel:
            return job
        return await self._store.cancel(tenant.namespace, name)

    def results(self, tenant: Tenant, name: str) -> AIJob:
        """A finished job (409 while it still runs)."""
        job = self.get(tenant, name)
        phase = job_phase(job)
        if not phase.finished:
            raise ConflictError(
                f"job {name!r} is {phase.value}; results are there once it has finished"
            )
        return job

    async def logs(
        self,
        tenant: Tenant,
        name: str,
        *,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        follow: bool = False,
        timestamps: bool = False,
    ) -> AsyncIterator[bytes]:
        """The worker's log of the job's latest pod (409 while it has none).

        A followed log takes one of the key's stream slots until it ends (429 when they are
        all taken); a log that is not followed is capped in bytes instead.
        """
        job = self.get(tenant, name)
        pod = job.status.pod_name
        if pod is None:
            phase = job_phase(job)
            why = f": {job.status.message}" if job.status.message else ""
            raise ConflictError(f"job {name!r} has no pod yet ({phase.value}{why})")
        options = LogOptions(
            tail_lines=tail_lines, since_seconds=since_seconds, follow=follow, timestamps=timestamps
        )
        if not follow:
            return await self._logs.open(tenant.namespace, pod, options)
        lease = self._log_streams.acquire(tenant.key_id)
        try:
            stream = await self._logs.open(tenant.namespace, pod, options)
        except BaseException:
            lease.release()
            raise
        return LeasedStream(stream, lease)

    @staticmethod
    def _manifest(tenant: Tenant, new: NewJob, name: str, digest: str) -> AIJob:
        annotations = {
            **new.annotations,
            ANNOTATION_REQUEST_HASH: digest,
            ANNOTATION_SUBMITTED_BY: tenant.key_id,
        }
        if new.client_request_id is not None:
            annotations[ANNOTATION_CLIENT_REQUEST_ID] = new.client_request_id
        if new.description is not None:
            annotations[ANNOTATION_DESCRIPTION] = new.description
        metadata = ObjectMeta(
            name=name, namespace=tenant.namespace, labels=new.labels, annotations=annotations
        )
        return AIJob(metadata=metadata, spec=new.spec)

    @staticmethod
    def _replay(existing: AIJob, digest: str, new: NewJob) -> Submitted:
        if existing.metadata.annotations.get(ANNOTATION_REQUEST_HASH) == digest:
            return Submitted(job=existing, created=False)
        if new.client_request_id is not None and new.name is None:
            raise ConflictError(
                f"clientRequestId {new.client_request_id!r} was already used for a different "
                "request; use a new id for a new job",
                field="clientRequestId",
            )
        raise ConflictError(
            f"a job named {existing.metadata.name!r} already exists with a different request",
            field="name",
        )
