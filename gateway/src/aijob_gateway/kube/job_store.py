"""Writes of AIJobs to the API server (create, cancel) and the few direct reads they need.

Every write returns the object the API server answered with and hands it to the
cache, so a client that creates a job and reads it back at once sees it.
"""

from __future__ import annotations

from typing import Any

from aijob_api.models import AIJob
from lightkube import ApiError, AsyncClient
from lightkube.types import PatchType

from aijob_gateway.kube.client import AIJobResource
from aijob_gateway.kube.errors import TRANSPORT_ERRORS, translate, unreachable
from aijob_gateway.kube.job_cache import JobCache


class JobStore:
    """Creates and cancels AIJobs; translates the API server's errors."""

    def __init__(self, client: AsyncClient, cache: JobCache) -> None:
        self._client = client
        self._cache = cache

    async def create(self, job: AIJob) -> AIJob:
        """Create `job` (AlreadyExistsError when its name is taken)."""
        namespace = job.metadata.namespace or ""
        what = f"create AIJob {namespace}/{job.metadata.name}"
        try:
            created = await self._client.create(AIJobResource(job.to_manifest()))
        except ApiError as error:
            raise translate(error, what) from error
        except TRANSPORT_ERRORS as error:
            raise unreachable(what, error) from error
        return self._remember(created)

    async def read(self, namespace: str, name: str) -> AIJob | None:
        """Read one AIJob from the API server itself (bypassing the cache)."""
        what = f"read AIJob {namespace}/{name}"
        try:
            obj = await self._client.get(AIJobResource, name, namespace=namespace)
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise translate(error, what) from error
        except TRANSPORT_ERRORS as error:
            raise unreachable(what, error) from error
        return self._remember(obj)

    async def cancel(self, namespace: str, name: str) -> AIJob:
        """Set `spec.cancel: true` (a merge patch); the operator stops the pods."""
        what = f"cancel AIJob {namespace}/{name}"
        try:
            patched = await self._client.patch(
                AIJobResource,
                name,
                {"spec": {"cancel": True}},
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )
        except ApiError as error:
            raise translate(error, what) from error
        except TRANSPORT_ERRORS as error:
            raise unreachable(what, error) from error
        return self._remember(patched)

    def _remember(self, obj: Any) -> AIJob:
        job = AIJob.model_validate(dict(obj))
        self._cache.upsert_if_newer(job)
        return job
