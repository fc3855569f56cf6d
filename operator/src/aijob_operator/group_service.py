"""The reconciler's calls for a distributed job's group: rank Services, gang start, restart.

A service between the reconciler and the API server, as `kube` is: it makes each rank's
Service before the group's Job (and reads back one made by an earlier attempt, never one
another owner holds), asks the `CapacityView` whether a suspended group fits, and performs
the group's actions of the pure decision (`decide.Action.START_GROUP`, `RESTART_GROUP`).
"""

from __future__ import annotations

import logging
from typing import Any

from aijob_api.models import AIJob
from aijob_kube.errors import InvalidError
from lightkube.resources.core_v1 import Service

from aijob_operator.builders.group import (
    build_rank_service,
    group_request,
    group_size,
    is_group,
)
from aijob_operator.builders.meta import job_name
from aijob_operator.builders.pod import PodSettings
from aijob_operator.capacity import Fit
from aijob_operator.capacity_view import CapacityView
from aijob_operator.catalog import ResolvedRuntime
from aijob_operator.decide import Action, Decision
from aijob_operator.kube import KubeApi
from aijob_operator.views import JobView, controller_uid

logger = logging.getLogger(__name__)


class GroupService:
    """Rank Services, gang start and group restarts, for the reconciler."""

    def __init__(self, api: KubeApi, settings: PodSettings, capacity: CapacityView) -> None:
        self._api = api
        self._settings = settings
        self._capacity = capacity

    async def addresses(self, aijob: AIJob, runtime: ResolvedRuntime) -> list[str]:
        """The rank Services' ClusterIPs in rank order, each Service made if absent; none for
        a job of one pod. InvalidError when a Service of that name is not this AIJob's."""
        if not is_group(aijob.spec):
            return []
        nodes = group_size(aijob.spec)[0]
        found: list[str] = []
        for rank in range(nodes):
            service = build_rank_service(aijob, runtime, rank)
            created = await self._api.create(service)
            body = created.to_dict() if created is not None else await self._existing(service)
            address = (body.get("spec") or {}).get("clusterIP") or ""
            if controller_uid(body.get("metadata") or {}) != aijob.metadata.uid or not address:
                name = service.metadata.name if service.metadata else ""
                raise InvalidError(
                    f"making Service {name}",
                    f"spec.distributed: a Service named {name} exists and is not this "
                    "AIJob's (or has no ClusterIP): rank addresses cannot be given",
                )
            found.append(address)
        return found

    async def _existing(self, service: Service) -> dict[str, Any]:
        metadata = service.metadata
        assert metadata is not None
        body = await self._api.get_service(metadata.namespace or "", metadata.name or "")
        return body or {}

    async def fit(
        self, aijob: AIJob, runtime: ResolvedRuntime | None, job: JobView | None
    ) -> Fit | None:
        """For a suspended group that starts itself (no Kueue queue): whether all its pods
        fit now (room reserved when they do); None for any other job."""
        spec = aijob.spec
        if job is None or runtime is None or not job.suspended or spec.queue is not None:
            return None
        if not is_group(spec) or spec.cancel:
            return None
        request = group_request(aijob, runtime, self._settings)
        owner = aijob.metadata.uid or job.uid  # one reservation per AIJob, across attempts
        return await self._capacity.claim(owner, request, group_size(spec)[0])

    async def act(self, aijob: AIJob, decision: Decision) -> None:
        """Start or end the group's Job, as decided (its status is written already)."""
        namespace, name = aijob.metadata.namespace or "", job_name(aijob.metadata.name or "")
        if decision.action is Action.START_GROUP:
            logger.info("%s/%s: all pods of the group fit: starting Job %s", namespace, name, name)
            await self._api.unsuspend_job(namespace, name)
        elif decision.action is Action.RESTART_GROUP:
            await self._api.delete_job_group(namespace, name)
