"""Reconcile one AIJob: read what is known, decide (pure), act, write the status if it changed.

The service layer between the thin kopf handlers and the pure builders and decisions.
Every trigger (the AIJob's watch events, its Job's and pods', the training job it
waits for, the periodic re-check, the TTL) ends here through the work queue, so one
AIJob is never reconciled twice at the same time and always from the latest state.
A job that names an endpoint (`spec.endpoint`) has no Job: `EndpointJobs` decides and
runs it on the endpoint's replicas, and this writes its status as for any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from aijob_api.models import AIJob
from aijob_api.storage import StorageMode
from aijob_kube.errors import ForbiddenError, InvalidError
from pydantic import ValidationError

from aijob_operator import metrics
from aijob_operator.artifacts import ArtifactJanitor
from aijob_operator.builders.group import deadline_left
from aijob_operator.builders.job import build_job
from aijob_operator.builders.meta import identity_name, job_name
from aijob_operator.builders.pod import job_pod_settings
from aijob_operator.builders.pod_metadata import PodMetadataPolicy, pod_metadata_problem
from aijob_operator.builders.rbac import (
    IDENTITY_READY,
    IdentityCheck,
    build_role,
    build_role_binding,
    build_service_account,
    identity_check,
)
from aijob_operator.builders.status_channel import ChannelFacts
from aijob_operator.capacity_view import CapacityView
from aijob_operator.catalog import ResolvedRuntime, RuntimeCatalog, UnknownRuntimeError
from aijob_operator.config import OperatorConfig
from aijob_operator.decide import GROUP_ACTIONS, Action, Decision, Inputs, decide, job_event
from aijob_operator.dependency import Dependency, dependency_in, store_problem
from aijob_operator.events import EventPoster, PendingEvent
from aijob_operator.group_service import GroupService
from aijob_operator.informer import ChildCache
from aijob_operator.invalid import report_invalid_spec
from aijob_operator.job_conditions import status_patch
from aijob_operator.kube import KubeApi
from aijob_operator.kueue import workload_of
from aijob_operator.pacing import StatusPacer
from aijob_operator.placement import job_environment_problem
from aijob_operator.refusals import latest_refusal
from aijob_operator.stall import StallLimits, stall_limits
from aijob_operator.store import AIJobStore, Key
from aijob_operator.validated import ValidatedAIJobs
from aijob_operator.views import JobView, PodView
from aijob_operator.worker_loop import run_reconcile_worker
from aijob_operator.workqueue import WorkQueue

if TYPE_CHECKING:
    from aijob_operator.endpoint_jobs import EndpointJobs

logger = logging.getLogger(__name__)


class ChildViews(Protocol):
    """Views of child objects by the AIJob they belong to (an informer's cache, or a dict)."""

    def get(self, key: Key, default: Iterable[Any] = ..., /) -> Iterable[Any]:
        """The views of one AIJob's children."""
        ...


@dataclass
class Caches:
    """What the operator knows without asking the API server."""

    aijobs: AIJobStore
    jobs: ChildViews
    pods: ChildViews
    refusals: ChildViews = field(default_factory=ChildCache)
    """The Jobs' FailedCreate Events (`refusals.PodRefusal`), by AIJob."""
    workloads: ChildViews = field(default_factory=ChildCache)
    """Kueue's Workloads of the Jobs (`kueue.WorkloadView`), by AIJob; empty without Kueue."""


class Reconciler:
    """Turns one AIJob key into actions and a status write."""

    def __init__(
        self,
        api: KubeApi,
        caches: Caches,
        catalog: RuntimeCatalog,
        config: OperatorConfig,
        queue: WorkQueue[Key],
        events: EventPoster,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        endpoint_jobs: EndpointJobs | None = None,
        status_channel: ChannelFacts | None = None,
    ) -> None:
        self._api = api
        self._events = events
        self._endpoint_jobs = endpoint_jobs
        self._caches = caches
        self._catalog = catalog
        self._config = config
        self._queue = queue
        self._clock = clock
        self._pacer = StatusPacer(config.status_interval_seconds)
        self._validated = ValidatedAIJobs()
        self._pod_settings = job_pod_settings(config, status_channel)
        self._group = GroupService(api, self._pod_settings, CapacityView(api))
        self._stall_fallback = StallLimits(
            report_timeout=config.stall_report_timeout_seconds,
            restart_after=config.stall_restart_after_seconds,
            startup_grace=config.stall_startup_grace_seconds,
        )
        if config.storage_mode is StorageMode.HOST_PATH:
            logger.warning(
                "storage mode hostPath: every job shares %s on the node, with no isolation "
                "between tenants; use it for single-tenant development only (s3 otherwise)",
                config.artifacts_pvc or config.artifacts_host_path,
            )
        self.artifacts = ArtifactJanitor(
            api, self._pod_settings, lambda *key: caches.aijobs.get(key) is not None
        )
        """Deletes a deleted AIJob's artifacts (`handlers.aijobs` tells it)."""
        self._pod_metadata = PodMetadataPolicy(
            config.pod_label_prefixes, config.pod_annotation_prefixes
        )

    async def run_worker(self) -> None:
        """Take keys from the queue and reconcile them, forever."""
        await run_reconcile_worker(self._queue, self.reconcile)

    async def reconcile(self, key: Key) -> None:
        """Bring one AIJob's children and status in line with its spec and its pods."""
        aijob = self._validated.get(key, self._caches.aijobs.resource_version(key))
        if aijob is None:
            body = self._caches.aijobs.get(key)
            if body is None or body.get("metadata", {}).get("deletionTimestamp"):
                self._queue.discard(key)
                self._pacer.forget(key)
                if self._endpoint_jobs is not None:
                    self._endpoint_jobs.forget(key)
                return
            try:
                aijob = self._validated.put(key, AIJob.model_validate(body))
            except ValidationError as error:
                await self._write_invalid(key, body, error)
                return
        if aijob.spec.endpoint is not None and self._endpoint_jobs is not None:
            await self._reconcile_on_endpoint(key, aijob, self._endpoint_jobs)
            return
        inputs = self._inputs(key, aijob)
        inputs = replace(inputs, fit=await self._group.fit(aijob, inputs.runtime, inputs.job))
        decision = decide(inputs)

        if decision.action is Action.VERIFY_JOB:
            found = await self._api.get_job(key[0], job_name(key[1]))
            job = self._owned(found, aijob)
            inputs = self._inputs(key, aijob, job=job, confirmed_missing=found is None)
            if found is not None and job is None:
                inputs = replace(inputs, foreign_job=True)
            decision = decide(inputs)
        if decision.action is Action.CREATE_CHILDREN:  # after a verify too: a group's restart
            assert inputs.runtime is not None
            try:
                identity = await self._create_identity(aijob, inputs.runtime)
                job = None
                if identity is IDENTITY_READY:
                    job = await self._create_children(aijob, inputs.runtime, decision)
            except (InvalidError, ForbiddenError) as error:  # refused for good
                inputs = replace(inputs, runtime_error=str(error))
            else:
                if identity is not IDENTITY_READY:
                    inputs = replace(inputs, identity=identity)
                elif job is None:
                    inputs = replace(inputs, foreign_job=True)
                else:
                    fit = await self._group.fit(aijob, inputs.runtime, job)
                    inputs = replace(inputs, job=job, fit=fit)
                    self._pacer.started(key)
            decision = decide(inputs)

        if decision.action is Action.DELETE_AIJOB:
            logger.info("deleting %s/%s: ttlSecondsAfterFinished ran out", *key)
            await self._api.delete_aijob(*key)
            self._pacer.forget(key)
            return
        # The status first: an attempt ended (or a Job deleted) is never left unrecorded.
        ends = decision.action in (Action.DELETE_JOB, Action.EVICT_POD, *GROUP_ACTIONS)
        written = await self._write_status(key, aijob, decision, urgent=ends)
        if written:
            await self._group.act(aijob, decision)
        if decision.action is Action.DELETE_JOB:
            await self._api.delete_job(key[0], job_name(key[1]))
        if decision.action is Action.EVICT_POD and decision.pod is not None:
            logger.info("%s/%s: evicting pod %s: its worker stopped reporting", *key, decision.pod)
            await self._api.evict_pod(key[0], decision.pod)
        if written and decision.requeue_after is not None:
            self._queue.add_after(key, decision.requeue_after)

    async def _reconcile_on_endpoint(
        self, key: Key, aijob: AIJob, endpoint_jobs: EndpointJobs
    ) -> None:
        """A job on an endpoint: its run started or stopped, its status (and results) written."""
        verdict = await endpoint_jobs.decide(key, aijob)
        decision = verdict.decision
        if decision.action is Action.DELETE_AIJOB:
            logger.info("deleting %s/%s: ttlSecondsAfterFinished ran out", *key)
            await self._api.delete_aijob(*key)
            self._pacer.forget(key)
            return
        results = None
        if verdict.results is not None:
            results = verdict.results.model_dump(mode="json", by_alias=True, exclude_none=True)
        written = await self._write_status(key, aijob, decision, results=results)
        if written and decision.requeue_after is not None:
            self._queue.add_after(key, decision.requeue_after)

    def _inputs(
        self,
        key: Key,
        aijob: AIJob,
        *,
        job: JobView | None = None,
        confirmed_missing: bool = False,
    ) -> Inputs:
        if job is None and not confirmed_missing:
            job = self._cached_job(key, aijob)
        pods = self._cached_pods(key, job) if job is not None else ()
        runtime: ResolvedRuntime | None = None
        runtime_error: str | None = None
        try:
            runtime = self._catalog.resolve_for(aijob.spec)
        except UnknownRuntimeError as error:
            runtime_error = str(error)
        runtime_error = runtime_error or pod_metadata_problem(aijob.spec, self._pod_metadata)
        namespace = aijob.metadata.namespace or ""
        runtime_error = runtime_error or self._catalog.custom_image_problem(namespace, aijob.spec)
        runtime_error = runtime_error or self._catalog.requirements_problem(
            runtime, namespace, aijob.spec
        )
        placement = runtime.runtime.placement if runtime else None
        runtime_error = runtime_error or job_environment_problem(
            aijob.spec, placement, self._config.tenant_resources
        )
        dependency = self._dependency(key, aijob)
        runtime_error = runtime_error or store_problem(aijob, dependency, self._pod_settings.store)
        return Inputs(
            aijob=aijob,
            now=self._clock(),
            job=job,
            pods=pods,
            runtime=runtime,
            runtime_error=runtime_error,
            dependency=dependency,
            job_confirmed_missing=confirmed_missing,
            foreign_job=self._foreign_job(key, aijob) if job is None else False,
            refusal=latest_refusal(self._caches.refusals.get(key, ()), job.uid) if job else None,
            workload=workload_of(self._caches.workloads.get(key, ()), job.uid) if job else None,
            recheck_seconds=self._config.recheck_seconds,
            stall_limits=stall_limits(
                aijob.spec.stall, runtime.runtime.stall if runtime else None, self._stall_fallback
            ),
        )

    def _cached_job(self, key: Key, aijob: AIJob) -> JobView | None:
        for view in self._caches.jobs.get(key, ()):
            if isinstance(view, JobView) and view.owner_uid == aijob.metadata.uid:
                return view
        return None

    def _foreign_job(self, key: Key, aijob: AIJob) -> bool:
        name = job_name(key[1])
        return any(
            isinstance(view, JobView) and view.name == name and view.owner_uid != aijob.metadata.uid
            for view in self._caches.jobs.get(key, ())
        )

    def _cached_pods(self, key: Key, job: JobView) -> tuple[PodView, ...]:
        return tuple(
            view
            for view in self._caches.pods.get(key, ())
            if isinstance(view, PodView) and view.job_uid == job.uid
        )

    def _dependency(self, key: Key, aijob: AIJob) -> Dependency:
        return dependency_in(
            aijob,
            lambda name: self._caches.aijobs.get((key[0], name)),
            self._clock(),
            self._config.dependency_grace_seconds,
        )

    @staticmethod
    def _owned(body: dict[str, Any] | None, aijob: AIJob) -> JobView | None:
        if body is None:
            return None
        view = JobView.from_body(body)
        return view if view.owner_uid == aijob.metadata.uid else None

    async def _create_identity(self, aijob: AIJob, runtime: ResolvedRuntime) -> IdentityCheck:
        """Create the ServiceAccount, Role and RoleBinding where absent; check whose the ones
        that existed are (never borrowed: `builders.rbac.identity_check`); none on the
        status channel, whose workers hold no API credentials (one write: the Job)."""
        if self._pod_settings.status_channel is not None:
            return IDENTITY_READY
        framework = runtime.framework
        objects = (
            build_service_account(aijob, framework),
            build_role(aijob, framework),
            build_role_binding(aijob, framework),
        )
        created = await asyncio.gather(*(self._api.create(obj) for obj in objects))
        namespace, name = aijob.metadata.namespace or "", identity_name(aijob.metadata.name or "")
        found = [
            (type(obj).__name__, await self._api.get_metadata(type(obj), namespace, name))
            for obj, made in zip(objects, created, strict=True)
            if made is None
        ]
        return identity_check(found, aijob) if found else IDENTITY_READY

    async def _create_children(
        self, aijob: AIJob, runtime: ResolvedRuntime, decision: Decision
    ) -> JobView | None:
        """Create the Job (its identity exists); return it, or None if a stranger has its name."""
        addresses = await self._group.addresses(aijob, runtime)
        job = build_job(
            aijob,
            runtime,
            self._pod_settings,
            decision.model_uri,
            decision.model_checksum,
            addresses=addresses,
            group_failures=aijob.status.group.restarts if aijob.status.group else 0,
            deadline_seconds=deadline_left(aijob, self._clock()),
        )
        created = await self._api.create(job)
        if created is not None:
            if aijob.metadata.creation_timestamp is not None:
                metrics.JOB_CREATION_SECONDS.observe(
                    max(0.0, (self._clock() - aijob.metadata.creation_timestamp).total_seconds())
                )
            return JobView.from_body(created.to_dict())
        namespace, name = aijob.metadata.namespace or "", job_name(aijob.metadata.name or "")
        return self._owned(await self._api.get_job(namespace, name), aijob)

    async def _write_status(
        self,
        key: Key,
        aijob: AIJob,
        decision: Decision,
        *,
        results: dict[str, Any] | None = None,
        urgent: bool = False,
    ) -> bool:
        """Write the status if it changed; False when the write was deferred (and requeued).
        `results` (a job on an endpoint has no worker to write them) go with the phase."""
        patch = status_patch(aijob.status, decision.status)
        if results is not None:
            patch["results"] = results
        if not patch:
            return True
        final = decision.status.phase is not None and decision.status.phase.finished
        wait = self._pacer.wait(key, final or urgent)
        if wait > 0:
            self._queue.add_after(key, wait)
            return False
        namespace, name = aijob.metadata.namespace or "", aijob.metadata.name or ""
        logger.debug("%s/%s: status patch of %s", namespace, name, ", ".join(sorted(patch)))
        result = await self._api.patch_status(namespace, name, patch, aijob.metadata.uid)
        if result is None:
            return True
        self._pacer.wrote(key, final)
        self._caches.aijobs.put(result)
        metrics.observe_queue_wait(aijob, decision.status)
        event = job_event(aijob.status, decision.status)
        if event is None:
            return True
        phase = decision.status.phase
        metrics.TRANSITIONS.labels(phase=str(phase), reason=event.reason).inc()
        logger.info("%s/%s: %s %s: %s", namespace, name, phase, event.reason, event.message)
        if event.posted:
            self._events.post(
                PendingEvent(
                    namespace, name, aijob.metadata.uid, event.type, event.reason, event.message
                )
            )
        return True

    async def _write_invalid(self, key: Key, body: dict[str, Any], error: ValidationError) -> None:
        """A body the models refuse (the CRD let it through): say so once, do nothing else."""
        await report_invalid_spec(self._api, self._events, self._caches.aijobs, key, body, error)
