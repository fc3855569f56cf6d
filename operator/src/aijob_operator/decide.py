"""The reconcile decision for one AIJob: what to do next and which status to show.

Pure: `decide` takes everything the operator knows about an AIJob (its spec and
status, its Job and pods, the runtime, the training job it depends on, the time)
and returns one action and the status the AIJob should have. The reconciler
performs the action, and writes the status only when `job_conditions.status_patch` is
not empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from aijob_api.conditions import Phase, Reason
from aijob_api.resource import AIJob
from aijob_api.stall import StallStatus
from aijob_api.status import AIJobStatus

from aijob_operator.builders.group import is_group
from aijob_operator.builders.meta import job_name
from aijob_operator.builders.rbac import IDENTITY_READY, IdentityCheck
from aijob_operator.capacity import Fit
from aijob_operator.catalog import ResolvedRuntime
from aijob_operator.dependency import NO_DEPENDENCY, Dependency, DependencyState
from aijob_operator.group_decide import (
    group_observed,
    group_summary,
    is_restarting,
    judge_group,
)
from aijob_operator.job_conditions import QUIET_REASONS, WARNING_REASONS, build_conditions
from aijob_operator.kueue import WorkloadView
from aijob_operator.refusals import PodRefusal
from aijob_operator.stall import (
    StallAction,
    StallLimits,
    after_stall_restart,
    judge_stall,
    running_pod,
)
from aijob_operator.status import PodFacts, observe_job
from aijob_operator.transitions import TransitionEvent, transition_event
from aijob_operator.views import JobView, PodView

SETTLING_RECHECK_SECONDS: Final = 2.0
"""Look again this soon when the Job controller has not yet recorded what a pod did."""


class Action(StrEnum):
    """The one thing the reconciler does for an AIJob in this pass."""

    NOTHING = "nothing"
    CREATE_CHILDREN = "create-children"
    """Create the ServiceAccount, Role, RoleBinding and Job (each only if absent)."""
    VERIFY_JOB = "verify-job"
    """The status names a Job the cache has not seen: read it from the API server."""
    DELETE_JOB = "delete-job"
    """Cancel: delete the Job and, through it, its pods."""
    DELETE_AIJOB = "delete-aijob"
    """The TTL after finishing ran out."""
    EVICT_POD = "evict-pod"
    """End a stalled attempt: evict its pod (`Decision.pod`), after the status is written."""
    START_GROUP = "start-group"
    """Unsuspend a distributed job's Job: all its pods fit (`group_decide`)."""
    RESTART_GROUP = "restart-group"
    """End a distributed job's attempt: delete its Job in the foreground, status first."""


GROUP_ACTIONS: Final = (Action.START_GROUP, Action.RESTART_GROUP)


@dataclass(frozen=True)
class Inputs:
    """Everything known about one AIJob at one moment."""

    aijob: AIJob
    now: datetime
    job: JobView | None = None
    pods: Sequence[PodView] = ()
    runtime: ResolvedRuntime | None = None
    runtime_error: str | None = None
    dependency: Dependency = NO_DEPENDENCY
    job_confirmed_missing: bool = False
    """A live read found no Job although the status names one."""
    foreign_job: bool = False
    """A Job with the AIJob's name exists and another owner controls it."""
    refusal: PodRefusal | None = None
    identity: IdentityCheck = IDENTITY_READY  # what the per-job objects found at creation mean
    recheck_seconds: float = 60.0
    stall_limits: StallLimits | None = None
    """How long the worker may go without reporting; None: not watched (jobs on endpoints)."""
    fit: Fit | None = None
    """Whether a suspended distributed job's pods all fit now (read only for those)."""
    workload: WorkloadView | None = None
    """Kueue's Workload of the Job (`kueue`), when Kueue queues it."""


@dataclass(frozen=True)
class Decision:
    """What to do, and the status the AIJob should show."""

    action: Action
    status: AIJobStatus
    requeue_after: float | None = None
    model_uri: str | None = None
    model_checksum: str | None = None
    pod: str | None = None
    """The pod `Action.EVICT_POD` ends."""


def decide(inputs: Inputs) -> Decision:
    """Decide the next action and the desired status of one AIJob."""
    aijob = inputs.aijob
    current = aijob.status
    spec = aijob.spec
    now = inputs.now

    if current.phase is not None and current.phase.finished:
        return _finished(inputs)

    if spec.cancel:
        message = "cancelled by the user"
        if inputs.job is not None or current.job_name:
            message += f"; Job {current.job_name or job_name(_name(aijob))} and its pods deleted"
        status = desired_status(
            inputs, Phase.CANCELLED, Reason.CANCELLED, message, completion_time=now
        )
        action = Action.DELETE_JOB if inputs.job is not None else Action.NOTHING
        return Decision(action, status, requeue_after=_ttl_wait(spec.ttl_seconds_after_finished))

    if inputs.runtime_error is not None and inputs.job is None and not current.job_name:
        # Only before a Job exists: a catalog changed under a running job does not fail it.
        status = desired_status(
            inputs, Phase.FAILED, Reason.INVALID_SPEC, inputs.runtime_error, completion_time=now
        )
        return Decision(Action.NOTHING, status, _ttl_wait(spec.ttl_seconds_after_finished))

    check = inputs.identity
    if check.message is not None and inputs.job is None:  # never borrowed (builders.rbac)
        done = now if check.fails else None
        status = desired_status(
            inputs, check.phase, check.reason, check.message, completion_time=done
        )
        wait = _ttl_wait(spec.ttl_seconds_after_finished) if check.fails else check.RECHECK_SECONDS
        return Decision(Action.NOTHING, status, wait)

    if inputs.foreign_job:
        name = job_name(_name(aijob))
        message = (
            f"a Job named {name} exists and is not owned by this AIJob; "
            "waiting for it to be deleted"
        )
        status = desired_status(inputs, Phase.PENDING, Reason.JOB_NAME_TAKEN, message)
        return Decision(Action.NOTHING, status, inputs.recheck_seconds)

    if inputs.job is None:
        return _without_job(inputs)

    observed = observe_job(aijob, inputs.job, inputs.pods, now, inputs.refusal, inputs.workload)
    observed = after_stall_restart(observed, current.stall, inputs.pods)
    if is_group(spec):
        verdict = judge_group(aijob, inputs.job, inputs.pods, inputs.fit)
        summary = verdict.group if verdict else group_summary(aijob, inputs.job, inputs.pods)
        ended = (verdict.phase if verdict else observed.phase) is Phase.FAILED
        observed = group_observed(observed, summary, ended, spec.retry_policy.max_retries)
        if verdict is not None:
            status = desired_status(
                inputs, verdict.phase, verdict.reason, verdict.message, facts=observed.facts,
                job=inputs.job.name, completion_time=now if ended else None,
            ).model_copy(update={"group": verdict.group})  # fmt: skip
            wait = _ttl_wait(spec.ttl_seconds_after_finished) if ended else verdict.requeue_after
            return Decision(Action(verdict.action.value), status, wait)
    if observed.settling and current.phase is not None:
        return Decision(Action.NOTHING, current, SETTLING_RECHECK_SECONDS)
    status = desired_status(
        inputs,
        observed.phase,
        observed.reason,
        observed.message,
        facts=observed.facts,
        job=inputs.job.name,
        completion_time=observed.completion_time,
    )
    if observed.phase.finished:
        return Decision(Action.NOTHING, status, _ttl_wait(spec.ttl_seconds_after_finished))
    spent = _retries_spent_with_stall_restarts(inputs, observed.facts, status)
    if spent is not None:
        return spent
    if observed.phase is Phase.RUNNING and inputs.stall_limits is not None:
        return _watch_stall(inputs, inputs.stall_limits, observed.facts, status)
    return Decision(Action.NOTHING, status, inputs.recheck_seconds)


def _retries_spent_with_stall_restarts(
    inputs: Inputs, facts: PodFacts, status: AIJobStatus
) -> Decision | None:
    """An attempt failed after stall restarts, and failures and restarts together are past
    maxRetries: Failed (the Job's backoffLimit counts failures only, an eviction being a
    disruption, so without this a job could make 1 + 2 x maxRetries attempts)."""
    stall = inputs.aijob.status.stall
    max_retries = inputs.aijob.spec.retry_policy.max_retries
    if stall is None or not status.failed_attempts:
        return None
    if status.failed_attempts + stall.restarts <= max_retries:
        return None
    message = (
        f"{status.failed_attempts} attempt(s) failed and {stall.restarts} were ended for a "
        f"stall: together they spent retryPolicy.maxRetries ({max_retries})"
    )
    failed = desired_status(
        inputs, Phase.FAILED, Reason.STALLED, message, facts=facts, completion_time=inputs.now
    )
    return Decision(
        Action.DELETE_JOB, failed, _ttl_wait(inputs.aijob.spec.ttl_seconds_after_finished)
    )


def _watch_stall(
    inputs: Inputs, limits: StallLimits, facts: PodFacts, status: AIJobStatus
) -> Decision:
    """A running job whose worker went silent: Stalled, its attempt ended, or Failed."""
    current = inputs.aijob.status
    pod = running_pod(inputs.pods)
    stall = current.stall or StallStatus()
    if pod is None:
        return Decision(Action.NOTHING, status, inputs.recheck_seconds)
    verdict = judge_stall(
        now=inputs.now,
        pod_phase=pod.phase,
        running_since=pod.running_since,
        last_report=current.progress.updated_at if current.progress else None,
        limits=limits,
        retries_left=(
            stall.last_pod == pod.name  # ended already: its eviction is repeated
            or status.failed_attempts + stall.restarts < inputs.aijob.spec.retry_policy.max_retries
        ),
    )
    recheck = min(inputs.recheck_seconds, verdict.due_in or inputs.recheck_seconds)
    if verdict.action is StallAction.NONE:
        return Decision(Action.NOTHING, status, recheck)
    if verdict.action is StallAction.FAIL:
        failed = desired_status(
            inputs,
            Phase.FAILED,
            Reason.STALLED,
            verdict.message,
            facts=facts,
            completion_time=inputs.now,
        )
        ttl = _ttl_wait(inputs.aijob.spec.ttl_seconds_after_finished)
        return Decision(Action.DELETE_JOB, failed, ttl)
    stalled = desired_status(inputs, Phase.RUNNING, Reason.STALLED, verdict.message, facts=facts)
    if verdict.action is StallAction.STALLED:
        return Decision(Action.NOTHING, stalled, recheck)
    if stall.last_pod != pod.name:
        stall = StallStatus(restarts=stall.restarts + 1, last_pod=pod.name)
    ended = stalled.model_copy(update={"stall": stall})
    return Decision(Action.EVICT_POD, ended, SETTLING_RECHECK_SECONDS, pod=pod.name)


def _finished(inputs: Inputs) -> Decision:
    """A finished AIJob keeps its phase; only cancel clean-up and the TTL remain."""
    aijob = inputs.aijob
    current = aijob.status
    completion = current.completion_time or inputs.now
    status = current.model_copy(
        update={
            "completion_time": completion,
            "observed_generation": aijob.metadata.generation,
        }
    )
    if inputs.job is not None and (
        current.phase is Phase.CANCELLED or current.reason == Reason.STALLED
    ):  # the Job of a cancelled job, or of one failed for a stall, goes
        return Decision(Action.DELETE_JOB, status, requeue_after=inputs.recheck_seconds)
    ttl = aijob.spec.ttl_seconds_after_finished
    if ttl is None:
        return Decision(Action.NOTHING, status)
    left = ttl - (inputs.now - completion).total_seconds()
    if left <= 0:
        return Decision(Action.DELETE_AIJOB, status)
    return Decision(Action.NOTHING, status, requeue_after=left)


def _without_job(inputs: Inputs) -> Decision:
    aijob = inputs.aijob
    current = aijob.status
    if current.job_name and not inputs.job_confirmed_missing:
        return Decision(Action.VERIFY_JOB, current)
    if current.job_name and not is_restarting(current):
        message = (
            f"Job {current.job_name} disappeared before it finished; it is not re-created, "
            "so the work never runs twice"
        )
        status = desired_status(
            inputs, Phase.FAILED, Reason.JOB_LOST, message, completion_time=inputs.now
        )
        return Decision(Action.NOTHING, status, _ttl_wait(aijob.spec.ttl_seconds_after_finished))
    dependency = inputs.dependency
    if dependency.state is DependencyState.WAITING:
        status = desired_status(
            inputs, Phase.PENDING, Reason.WAITING_FOR_DEPENDENCY, dependency.message
        )
        wait = inputs.recheck_seconds
        if dependency.retry_after is not None:
            wait = min(wait, dependency.retry_after + 0.5)
        return Decision(Action.NOTHING, status, wait)
    if dependency.state is DependencyState.FAILED:
        status = desired_status(
            inputs,
            Phase.FAILED,
            Reason.DEPENDENCY_FAILED,
            dependency.message,
            completion_time=inputs.now,
        )
        return Decision(Action.NOTHING, status, _ttl_wait(aijob.spec.ttl_seconds_after_finished))
    status = desired_status(
        inputs, Phase.PENDING, Reason.JOB_CREATED, "creating the Job", facts=None
    )
    return Decision(
        Action.CREATE_CHILDREN,
        status,
        requeue_after=inputs.recheck_seconds,
        model_uri=dependency.model_uri,
        model_checksum=dependency.model_checksum,
    )


def desired_status(
    inputs: Inputs,
    phase: Phase,
    reason: str,
    message: str,
    *,
    facts: PodFacts | None = None,
    job: str | None = None,
    completion_time: datetime | None = None,
) -> AIJobStatus:
    """The desired status: operator-owned fields recomputed, worker fields untouched."""
    aijob = inputs.aijob
    current = aijob.status
    now = _seconds(inputs.now)
    job_name_ = job or current.job_name
    update: dict[str, Any] = {
        "phase": phase,
        "reason": reason,
        "message": message,
        "job_name": job_name_,
        "queued_at": current.queued_at or aijob.metadata.creation_timestamp or now,
        "observed_generation": aijob.metadata.generation,
        "completion_time": _seconds(completion_time) if completion_time else None,
    }
    if inputs.runtime is not None:
        update["framework"] = inputs.runtime.framework
        update["framework_version"] = inputs.runtime.version
        code = aijob.spec.code
        update["image"] = (code.image if code else None) or inputs.runtime.runtime.image
    elif current.image is not None:
        # The runtime is no longer in the catalog: what the Job was made with stands.
        update["framework"] = current.framework
    else:
        update["framework"] = aijob.spec.resolved_framework
    if aijob.spec.distributed is not None or aijob.spec.resources.gpu > 1:
        update["group"] = group_summary(aijob, inputs.job, inputs.pods)
    if facts is not None:
        update.update(
            attempts=max(facts.attempts, current.attempts),
            failed_attempts=max(facts.failed_attempts, current.failed_attempts),
            pod_name=facts.pod_name or current.pod_name,
            node_name=facts.node_name or current.node_name,
            exit_code=facts.exit_code if facts.exit_code is not None else current.exit_code,
            start_time=current.start_time
            or (_seconds(facts.start_time) if facts.start_time else None),
        )
    update["conditions"] = build_conditions(
        current.conditions, phase, reason, message, job_name_, now, aijob.metadata.generation
    )
    return current.model_copy(update=update)


def job_event(current: AIJobStatus, desired: AIJobStatus) -> TransitionEvent | None:
    """The Event an AIJob's change of phase or reason deserves; None when neither changed."""
    return transition_event(current, desired, WARNING_REASONS, QUIET_REASONS)


def _ttl_wait(ttl: int | None) -> float | None:
    return float(ttl) if ttl is not None else None


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _name(aijob: AIJob) -> str:
    return aijob.metadata.name or ""
