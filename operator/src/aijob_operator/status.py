"""What an AIJob's child Job and pods say, in the AIJob's words: phase, reason, message.

`observe_job` is a pure function of the Job and its pods (level-based: no memory of
earlier events is needed), so the same cluster state always gives the same status.
The message always says why: the scheduler's own words when a pod cannot be placed,
the exit code and reason of a failed worker, OOMKilled, the deadline, a preemption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aijob_api import contract
from aijob_api.conditions import Phase, Reason
from aijob_api.models import AIJob
from aijob_api.storage import STORAGE_SECRET

from aijob_operator.kueue import WorkloadView, kueue_hold
from aijob_operator.refusals import PodRefusal, describe_refusal
from aijob_operator.views import ConditionView, ContainerExit, JobView, PodView

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_JOB_REASON_DEADLINE = "DeadlineExceeded"
_JOB_REASON_POD_FAILURE_POLICY = "PodFailurePolicy"
REJECTED_POD_WAIT_SECONDS = 30.0
"""How long a Job failed by its bad-input rule waits for its failed pod to be seen."""


@dataclass(frozen=True)
class PodFacts:
    """Facts about the attempts, whatever the phase."""

    attempts: int = 0
    failed_attempts: int = 0
    pod_name: str | None = None
    node_name: str | None = None
    exit_code: int | None = None
    start_time: datetime | None = None


@dataclass(frozen=True)
class Observed:
    """The AIJob's state as its children show it."""

    phase: Phase
    reason: str
    message: str
    facts: PodFacts
    completion_time: datetime | None = None
    settling: bool = False
    """A moment the Job controller has not caught up with (a pod ended, the Job not yet):
    not worth a status write of its own."""


def observe_job(
    aijob: AIJob,
    job: JobView,
    pods: Sequence[PodView],
    now: datetime,
    refusal: PodRefusal | None = None,
    workload: WorkloadView | None = None,
) -> Observed:
    """The status an AIJob has, given its Job, that Job's pods, the latest refusal of its
    pod by the API server (a quota, an admission), if any, and Kueue's Workload of the Job
    when Kueue queues it (`kueue`)."""
    pods = sorted(pods, key=_pod_order)
    max_attempts = aijob.spec.retry_policy.max_retries + 1
    failed_pods = [pod for pod in pods if pod.phase == "Failed" and not pod.disruption]
    if aijob.spec.queue is not None:  # Kueue's evictions suspend the Job, which deletes its pods
        failed_pods = [pod for pod in failed_pods if not pod.killed_by_deletion]
    last_failure = failed_pods[-1] if failed_pods else None
    live = [pod for pod in pods if not pod.terminal and not pod.deleting]
    current = live[-1] if live else (pods[-1] if pods else None)
    failed_count = max(job.failed, len(failed_pods))
    attempts = _attempts(job, pods, live)
    started = [pod.started for pod in pods if pod.started and pod.phase != "Pending"]
    facts = PodFacts(
        attempts=attempts,
        failed_attempts=failed_count,
        pod_name=current.name if current else None,
        node_name=current.node_name if current else None,
        exit_code=_last_exit_code(pods),
        start_time=min(started) if started else None,
    )

    if job.condition("Complete") is None and job.condition("Failed") is None:
        # The Job controller decided (SuccessCriteriaMet / FailureTarget) but still counts
        # its pods: the final numbers come with Complete / Failed, a moment later.
        ending = job.condition("SuccessCriteriaMet") or job.condition("FailureTarget")
        if ending is not None:
            return Observed(
                Phase.RUNNING,
                Reason.POD_RUNNING,
                f"the Job is finishing ({ending.reason})",
                facts,
                settling=True,
            )

    complete = job.condition("Complete")
    if complete is not None:
        finished = job.completion_time or complete.last_transition_time or now
        took = _duration(facts.start_time or job.start_time, finished)
        return Observed(
            Phase.SUCCEEDED,
            Reason.COMPLETED,
            f"the worker finished{took} (attempt {attempts} of {max_attempts})",
            facts,
            completion_time=finished,
        )

    failed = job.condition("Failed")
    if failed is not None and _awaiting_rejected_pod(failed, last_failure, now):
        # The Job failed by the bad-input rule, but the pod whose exit says why is not in
        # the cache yet: a moment later the status can quote the worker's own words.
        return Observed(
            Phase.RUNNING, Reason.POD_RUNNING, "the Job is finishing (bad input)", facts,
            settling=True,
        )  # fmt: skip
    if failed is not None:
        reason, message = _failure(aijob, failed.reason, failed.message, last_failure, attempts)
        return Observed(
            Phase.FAILED,
            reason,
            message,
            facts,
            completion_time=job.completion_time or failed.last_transition_time or now,
        )

    if job.suspended:
        if aijob.spec.queue is not None:
            reason, message = kueue_hold(job.name, aijob.spec.queue, workload)
            return Observed(Phase.QUEUED, reason, message, facts)
        return Observed(Phase.QUEUED, Reason.SUSPENDED, f"Job {job.name} is suspended", facts)

    disrupted = next((pod for pod in reversed(pods) if pod.disruption), None)
    preempted = disrupted is not None or any(pod.ignored_failure_count for pod in live)
    running = [pod for pod in live if pod.phase == "Running"]
    if running:
        pod = running[-1]
        return Observed(
            Phase.RUNNING,
            Reason.POD_RUNNING,
            f"pod {pod.name} is running on node {pod.node_name} "
            f"(attempt {attempts} of {max_attempts})",
            facts,
        )
    if live:
        return _waiting_pod(
            aijob.metadata.namespace or "", job, live[-1], disrupted, preempted, facts
        )
    if refusal is not None and refusal.newer_than([pod.created for pod in pods if pod.created]):
        # No pod, and the last word on creating one is the API server's refusal: a quota
        # (QuotaExceeded) or an admission (PodsNotCreated). Cleared once a pod exists.
        reason, message = describe_refusal(refusal, job.name)
        return Observed(Phase.QUEUED, reason, message, facts)
    if disrupted is not None:
        return Observed(
            Phase.QUEUED,
            Reason.PREEMPTED,
            f"pod {disrupted.name} was stopped ({disrupted.disruption}); a new pod follows "
            "(no retry spent)",
            facts,
        )
    # A retry's pod that exited 0 after the last failure: that failure is history, not the
    # news (seen: Retrying read again for a moment after a retry succeeded, before the Job
    # recorded it). A group's pods start together, so this never hides a group's failure.
    if last_failure is not None and not _succeeded_after(pods, last_failure):
        return Observed(
            Phase.RETRYING,
            Reason.ATTEMPT_FAILED,
            f"attempt {failed_count} of {max_attempts} failed: {describe_failure(last_failure)}; "
            "the next attempt starts after the Job's back-off",
            facts,
        )
    if any(pod.phase == "Succeeded" for pod in pods):
        return Observed(
            Phase.RUNNING,
            Reason.POD_RUNNING,
            "the worker exited 0; waiting for the Job to record its completion",
            facts,
            settling=True,
        )
    return Observed(Phase.QUEUED, Reason.JOB_CREATED, _created(job), facts)


def _succeeded_after(pods: Sequence[PodView], failure: PodView) -> bool:
    """Whether a pod created after `failure` (a later attempt) exited 0."""
    return failure.created is not None and any(
        pod.phase == "Succeeded" and pod.created is not None and pod.created > failure.created
        for pod in pods
    )


def _created(job: JobView) -> str:
    return f"Job {job.name} created; its pod is being scheduled and started"


def describe_failure(pod: PodView) -> str:
    """How a failed pod ended: the exit code and reason, or the pod's own reason."""
    if pod.exit is not None:
        return f"pod {pod.name}: {describe_exit(pod.exit)}"
    if pod.reason or pod.message:
        text = ": ".join(part for part in (pod.reason, pod.message) if part)
        return f"pod {pod.name}: {text}"
    return f"pod {pod.name} failed"


def describe_exit(exit_: ContainerExit) -> str:
    """`container worker exited with code 3 (Error): last line of its message`."""
    reason = f" ({exit_.reason})" if exit_.reason else ""
    detail = _last_line(exit_.message)
    suffix = f": {detail}" if detail else ""
    return f"container {contract.CONTAINER_NAME} exited with code {exit_.exit_code}{reason}{suffix}"


def _awaiting_rejected_pod(
    failed: ConditionView, last_failure: PodView | None, now: datetime
) -> bool:
    """Whether a Job failed by its pod failure policy still lacks the failed pod's exit (for
    at most `REJECTED_POD_WAIT_SECONDS`, in case that pod is gone for good)."""
    if failed.reason != _JOB_REASON_POD_FAILURE_POLICY:
        return False
    if last_failure is not None and last_failure.exit is not None:
        return False
    since = failed.last_transition_time
    return since is not None and (now - since).total_seconds() < REJECTED_POD_WAIT_SECONDS


def _failure(
    aijob: AIJob,
    job_reason: str,
    job_message: str,
    last_failure: PodView | None,
    attempts: int,
) -> tuple[str, str]:
    spec = aijob.spec
    if job_reason == _JOB_REASON_DEADLINE:
        return (
            Reason.DEADLINE_EXCEEDED,
            f"the job ran longer than timeoutSeconds={spec.timeout_seconds}; its pod was stopped",
        )
    exit_ = last_failure.exit if last_failure else None
    if job_reason == _JOB_REASON_POD_FAILURE_POLICY or (
        exit_ is not None and exit_.exit_code == contract.EXIT_BAD_INPUT
    ):
        what = describe_failure(last_failure) if last_failure else job_message
        return (
            Reason.BAD_INPUT,
            f"the worker rejected its input ({what}); bad input is never retried",
        )
    if exit_ is not None and exit_.reason == "OOMKilled":
        limit = spec.resources.memory or "the runtime default"
        return (
            Reason.OOM_KILLED,
            f"the worker ran out of memory: pod {last_failure.name if last_failure else ''} was "
            f"OOMKilled (exit code {exit_.exit_code}, memory limit {limit}); "
            f"{attempts} attempt(s) failed",
        )
    if last_failure is not None:
        return (
            Reason.BACKOFF_LIMIT_EXCEEDED,
            f"all {attempts} attempt(s) failed; the last: {describe_failure(last_failure)}",
        )
    return (Reason.BACKOFF_LIMIT_EXCEEDED, f"the Job failed ({job_reason}): {job_message}")


def _waiting_pod(
    namespace: str,
    job: JobView,
    pod: PodView,
    disrupted: PodView | None,
    preempted: bool,
    facts: PodFacts,
) -> Observed:
    prefix = ""
    if preempted:
        why = f" ({disrupted.disruption})" if disrupted is not None else ""
        prefix = f"preempted{why}, no retry spent; "
    reason = Reason.PREEMPTED if preempted else None
    if pod.unschedulable:
        return Observed(
            Phase.QUEUED,
            reason or Reason.UNSCHEDULABLE,
            f"{prefix}pod {pod.name} cannot be scheduled: {pod.unschedulable}",
            facts,
        )
    if pod.node_name is None:
        if reason is None:
            # Same words as before the pod existed: the moments in between are not worth a
            # status write (and an Event) of their own.
            return Observed(Phase.QUEUED, Reason.JOB_CREATED, _created(job), facts)
        return Observed(
            Phase.QUEUED, reason, f"{prefix}pod {pod.name} waits for the scheduler", facts
        )
    if reason is None and pod.waiting is None:
        return Observed(Phase.QUEUED, Reason.JOB_CREATED, _created(job), facts)
    if reason is None and waits_for_tenant_store(pod.waiting):
        return Observed(
            Phase.QUEUED,
            Reason.NO_TENANT_STORE,
            f"pod {pod.name} waits for the Secret {STORAGE_SECRET}: namespace {namespace} has "
            f"no object store yet; an admin runs `python -m aijob_operator.tenants add "
            f"{namespace}` (docs/real-cluster.md), then the pod starts",
            facts,
        )
    waiting = f": {pod.waiting}" if pod.waiting else ""
    return Observed(
        Phase.QUEUED,
        reason or Reason.POD_PENDING,
        f"{prefix}pod {pod.name} is starting on node {pod.node_name}{waiting}",
        facts,
    )


def waits_for_tenant_store(waiting: str | None) -> bool:
    """Whether the kubelet holds the worker for want of the namespace's store Secret."""
    return bool(
        waiting
        and waiting.startswith("CreateContainerConfigError")
        and f'secret "{STORAGE_SECRET}" not found' in waiting
    )


def _attempts(job: JobView, pods: Sequence[PodView], live: Sequence[PodView]) -> int:
    """The number of the current (or last) attempt; disruptions do not count."""
    from_job = job.failed + (1 if (live or job.active or job.succeeded) else 0)
    from_pods = max((pod.failure_count + 1 for pod in pods), default=0)
    return max(from_job, from_pods)


def _last_exit_code(pods: Sequence[PodView]) -> int | None:
    ended = [pod for pod in pods if pod.exit is not None and not pod.disruption]
    return ended[-1].exit.exit_code if ended and ended[-1].exit else None


def _pod_order(pod: PodView) -> tuple[datetime, str]:
    return (pod.created or _EPOCH, pod.name)


def _duration(start: datetime | None, end: datetime) -> str:
    if start is None:
        return ""
    seconds = max(0, int((end - start).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f" in {hours}h{minutes:02d}m"
    if minutes:
        return f" in {minutes}m{seconds:02d}s"
    return f" in {seconds}s"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
