"""The watch-backed, in-memory cache of AIJobs that serves every read of the gateway.

Jobs are indexed by namespace first: every read names the namespace of the
caller's API key, and there is no read across namespaces, so the cache cannot
hand one tenant another tenant's job. Objects that do not parse with the shared
models are left out (and counted) rather than served half-understood.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from aijob_api.models import AIJob
from pydantic import ValidationError

log = logging.getLogger(__name__)

_EPOCH = datetime.min.replace(tzinfo=UTC)


def newest_first_key(job: AIJob) -> tuple[float, str]:
    """Sort key of the listing order: newest first, then by name."""
    created = job.metadata.creation_timestamp or _EPOCH
    return (-created.timestamp(), job.metadata.name or "")


def _version(job: AIJob) -> int | None:
    value = job.metadata.resource_version
    return int(value) if value and value.isdigit() else None


class JobCache:
    """AIJobs by namespace and name, kept current by a reflector."""

    def __init__(self, on_invalid: Callable[[], None] | None = None) -> None:
        self._jobs: dict[str, dict[str, AIJob]] = {}
        self._sorted: dict[str, list[AIJob]] = {}
        self._on_invalid = on_invalid or (lambda: None)
        self.synced = False

    # The reflector's side.
    async def replace(self, objects: AsyncIterator[dict[str, Any]]) -> None:
        """Replace the whole content with a fresh list."""
        jobs: dict[str, dict[str, AIJob]] = {}
        async for obj in objects:
            job = self._parse(obj)
            if job is not None:
                jobs.setdefault(job.metadata.namespace or "", {})[job.metadata.name or ""] = job
        self._jobs = jobs
        self._sorted = {}
        self.synced = True

    def apply(self, event_type: str, obj: dict[str, Any]) -> None:
        """Apply one watch event."""
        metadata = obj.get("metadata") or {}
        namespace, name = metadata.get("namespace", ""), metadata.get("name", "")
        if event_type == "DELETED":
            self._remove(namespace, name)
            return
        job = self._parse(obj)
        if job is None:
            self._remove(namespace, name)
            return
        self._store(job)

    def mark_unsynced(self) -> None:
        """The watch broke; reads may be stale until the next list."""
        self.synced = False

    # The gateway's own writes (read-your-writes).
    def upsert_if_newer(self, job: AIJob) -> None:
        """Store an object the gateway just wrote, unless the cache already has a newer one."""
        current = self.get(job.metadata.namespace or "", job.metadata.name or "")
        if current is not None:
            new, old = _version(job), _version(current)
            if new is None or old is None or new <= old:
                return
        self._store(job)

    # Reads: always within one namespace.
    def get(self, namespace: str, name: str) -> AIJob | None:
        """One job of `namespace`, or None."""
        return self._jobs.get(namespace, {}).get(name)

    def list(self, namespace: str) -> list[AIJob]:
        """Every job of `namespace`, newest first (a snapshot: later changes do not alter it)."""
        snapshot = self._sorted.get(namespace)
        if snapshot is None:
            snapshot = sorted(self._jobs.get(namespace, {}).values(), key=newest_first_key)
            self._sorted[namespace] = snapshot
        return snapshot

    def size(self) -> int:
        """Number of cached jobs over all namespaces (for metrics only)."""
        return sum(len(jobs) for jobs in self._jobs.values())

    def _store(self, job: AIJob) -> None:
        namespace = job.metadata.namespace or ""
        self._jobs.setdefault(namespace, {})[job.metadata.name or ""] = job
        self._sorted.pop(namespace, None)

    def _remove(self, namespace: str, name: str) -> None:
        jobs = self._jobs.get(namespace)
        if jobs is not None and jobs.pop(name, None) is not None:
            self._sorted.pop(namespace, None)
            if not jobs:
                del self._jobs[namespace]

    def _parse(self, obj: dict[str, Any]) -> AIJob | None:
        try:
            return AIJob.model_validate(obj)
        except ValidationError as error:
            metadata = obj.get("metadata") or {}
            log.warning(
                "AIJob does not match the models; not served",
                extra={
                    "namespace": metadata.get("namespace"),
                    "job": metadata.get("name"),
                    "error": str(error).splitlines()[0],
                },
            )
            self._on_invalid()
            return None
