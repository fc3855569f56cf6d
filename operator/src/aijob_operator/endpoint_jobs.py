"""Jobs on endpoints: inference AIJobs that name an AIEndpoint (`spec.endpoint`) and run on its
warm replicas instead of a pod of their own.

The service layer the AIJob reconciler hands such a job to. It gathers what the pure
decision needs (the endpoint from the endpoints' store, read live when the store does
not have it; its ready replicas and their addresses from the endpoint pods' informer;
whether a run of this job is under way in this process, and how the last one ended),
decides (`endpoint_job_decide`), and starts or stops the run. A run is an asyncio task
off the reconcile path (the reconcile never waits on HTTP), under a process-wide bound
on concurrent runs; when it ends it keeps its outcome here and queues the job, whose
next reconcile writes the status and results in one patch. Nothing but that patch
records progress, so an operator that dies mid-run leaves a job Running without
results, which the next operator runs again; a finished job is never run again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aijob_api.conditions import Reason
from aijob_api.endpoint import AIEndpoint
from aijob_api.models import AIJob
from aijob_kube.resources import AIEndpointResource
from pydantic import ValidationError

from aijob_operator.artifacts import ResultsNotStoredError, ResultWriter
from aijob_operator.endpoint_job_calls import Post, RunPlan, run_records
from aijob_operator.endpoint_job_decide import (
    EndpointFacts,
    EndpointJobDecision,
    EndpointJobInputs,
    Replica,
    RunAction,
    RunOutcome,
    decide_endpoint_job,
)
from aijob_operator.endpoint_views import EndpointPodView
from aijob_operator.kube import KubeApi
from aijob_operator.store import EndpointStore, Key
from aijob_operator.workqueue import WorkQueue

if TYPE_CHECKING:
    from aijob_operator.reconciler import ChildViews

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Run:
    """A run under way: the job's uid (a namesake is another job), its attempt, its task."""

    uid: str | None
    attempt: int
    task: asyncio.Task[None]


@dataclass(frozen=True)
class EndpointJobSettings:
    """The operator's settings for jobs on endpoints (from `OperatorConfig`)."""

    wait_seconds: float
    call_attempts: int
    concurrency: int
    recheck_seconds: float


class EndpointJobs:
    """Decides, starts and stops the runs of jobs on endpoints; keeps their outcomes."""

    def __init__(
        self,
        api: KubeApi,
        endpoints: EndpointStore,
        endpoint_pods: ChildViews,
        post: Post,
        queue: WorkQueue[Key],
        settings: EndpointJobSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        results: ResultWriter | None = None,
    ) -> None:
        self._api = api
        self._endpoints = endpoints
        self._pods = endpoint_pods
        self._post = post
        self._queue = queue
        self._settings = settings
        self._clock = clock
        self._results = results
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._runs: dict[Key, _Run] = {}
        self._outcomes: dict[Key, tuple[str | None, RunOutcome]] = {}

    async def decide(self, key: Key, aijob: AIJob) -> EndpointJobDecision:
        """Decide what the job needs now; start or stop its run accordingly."""
        uid = aijob.metadata.uid
        run = self._runs.get(key)
        if run is not None and run.uid != uid:  # a namesake: the old job's run is moot
            self.forget(key)
            run = None
        stored = self._outcomes.get(key)
        outcome = stored[1] if stored is not None and stored[0] == uid else None
        finished = aijob.status.phase is not None and aijob.status.phase.finished
        endpoint = None
        if not finished and not aijob.spec.cancel and aijob.spec.endpoint is not None:
            endpoint = await self._endpoint_facts(key[0], aijob.spec.endpoint)
        verdict = decide_endpoint_job(
            EndpointJobInputs(
                aijob=aijob,
                now=self._clock(),
                endpoint=endpoint,
                running_attempt=run.attempt if run is not None else None,
                outcome=outcome,
                wait_seconds=self._settings.wait_seconds,
                recheck_seconds=self._settings.recheck_seconds,
            )
        )
        if finished:
            self._outcomes.pop(key, None)
        if verdict.run is RunAction.STOP:
            self._stop(key)
        elif verdict.run is RunAction.START and endpoint is not None:
            self._start(key, aijob, endpoint, verdict.attempt or 1)
        return verdict

    def forget(self, key: Key) -> None:
        """The job is gone (or replaced): stop its run, drop its outcome."""
        self._stop(key)
        self._outcomes.pop(key, None)

    async def _endpoint_facts(self, namespace: str, name: str) -> EndpointFacts | None:
        """The endpoint and its ready replicas; None when it does not exist."""
        body = self._endpoints.get((namespace, name))
        if body is None:
            # The store may not have listed every endpoint yet, right after a start.
            body = await self._api.get(AIEndpointResource, namespace, name)
            if body is None:
                return None
            self._endpoints.put(body)
        if body.get("metadata", {}).get("deletionTimestamp"):
            return None
        try:
            endpoint = AIEndpoint.model_validate(body)
        except ValidationError:
            return EndpointFacts(name=name, phase="Invalid", message="its spec does not validate")
        status = endpoint.status
        return EndpointFacts(
            name=name,
            phase=status.phase.value if status.phase is not None else None,
            message=status.message,
            framework=status.framework,
            framework_version=status.framework_version,
            image=status.image,
            max_batch_size=endpoint.spec.batching.max_batch_size,
            request_timeout_seconds=float(endpoint.spec.request_timeout_seconds),
            replicas=self._replicas((namespace, name)),
        )

    def _replicas(self, endpoint: Key) -> tuple[Replica, ...]:
        """The endpoint's ready pods that have an address, by name."""
        ready: list[Replica] = []
        for view in self._pods.get(endpoint, ()):
            if isinstance(view, EndpointPodView) and view.ready and view.address:
                ready.append(Replica(name=view.name, address=view.address))
        return tuple(sorted(ready, key=lambda replica: replica.name))

    def _start(self, key: Key, aijob: AIJob, endpoint: EndpointFacts, attempt: int) -> None:
        plan = RunPlan(
            endpoint=endpoint.name,
            records=list((aijob.spec.input.records if aijob.spec.input else None) or []),
            chunk_size=endpoint.max_batch_size,
            timeout_seconds=endpoint.request_timeout_seconds,
            max_attempts=self._settings.call_attempts,
        )
        uid = aijob.metadata.uid
        task = asyncio.create_task(
            self._run(key, uid, plan), name=f"endpoint-job-{key[0]}/{key[1]}"
        )
        self._runs[key] = _Run(uid=uid, attempt=attempt, task=task)
        logger.info(
            "%s/%s: run %d on endpoint %s: %d record(s) in %d chunk(s)",
            *key,
            attempt,
            endpoint.name,
            len(plan.records),
            plan.chunks,
        )

    async def _run(self, key: Key, uid: str | None, plan: RunPlan) -> None:
        """Predict the records (when a slot is free), keep the outcome, queue the job."""
        endpoint = (key[0], plan.endpoint)
        try:
            async with self._slots:
                outcome = await run_records(plan, lambda: self._replicas(endpoint), self._post)
            if outcome.succeeded:
                outcome = await self._store(key, outcome)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not leave the job Running forever
            logger.exception("%s/%s: the run on endpoint %s failed", *key, plan.endpoint)
            outcome = RunOutcome(
                succeeded=False,
                reason=Reason.ENDPOINT_CALL_FAILED,
                message=f"the operator's run on endpoint {plan.endpoint} failed: {error!r}",
            )
        current = self._runs.get(key)
        if current is not None and current.task is asyncio.current_task():
            del self._runs[key]
        self._outcomes[key] = (uid, outcome)
        self._queue.add(key, urgent=True)

    async def _store(self, key: Key, outcome: RunOutcome) -> RunOutcome:
        """The outcome with its outputs written to the tenant's store (s3 mode), or with why
        they could not be (the outputs stay in the status)."""
        if self._results is None:
            return outcome
        try:
            stored = await self._results.write(key[0], key[1], outcome.outputs)
        except ResultsNotStoredError as error:
            logger.warning("%s/%s: results not stored: %s", *key, error)
            return replace(outcome, store_problem=str(error))
        return replace(outcome, stored=stored)

    def _stop(self, key: Key) -> None:
        run = self._runs.pop(key, None)
        if run is not None and not run.task.done():
            run.task.cancel()
            logger.info("%s/%s: run on the endpoint stopped", *key)
