"""Writes of AIJobs to the API server (create, cancel) and the few direct reads they need.

Every write returns the object the API server answered with and hands it to the
cache, so a client that creates a job and reads it back at once sees it.
"""

from __future__ import annotations

from typing import Any

from aijob_api.models import AIJob
from aijob_kube.resources import AIJobResource
from lightkube import AsyncClient
from lightkube.types import PatchType

from aijob_gateway.errors import NotFoundError
from aijob_gateway.kube.errors import answered
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
        with answered(what):
            created = await self._client.create(AIJobResource.from_dict(job.to_manifest()))
        return self._remember(created)

    async def read(self, namespace: str, name: str) -> AIJob | None:
        """Read one AIJob from the API server itself (bypassing the cache)."""
        what = f"read AIJob {namespace}/{name}"
        try:
            with answered(what):
                obj = await self._client.get(AIJobResource, name, namespace=namespace)
        except NotFoundError:
            return None
        return self._remember(obj)

    async def cancel(self, namespace: str, name: str) -> AIJob:
        """Set `spec.cancel: true` (a merge patch); the operator stops the pods."""
        what = f"cancel AIJob {namespace}/{name}"
        with answered(what):
            patched = await self._client.patch(
                AIJobResource,
                name,
                {"spec": {"cancel": True}},
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )
        return self._remember(patched)

    def _remember(self, obj: Any) -> AIJob:
        job = AIJob.model_validate(dict(obj))
        self._cache.upsert_if_newer(job)
        return job
