"""A distributed job's group: when it starts, when it restarts as a whole, what it shows (pure).

`judge_group` looks at a group's Job (`spec.distributed.nodes` N > 1) and its pods:
- suspended (no Kueue queue): started when all N pods fit at once (`capacity.Fit`), else
  Queued/InsufficientCapacity with the numbers, no pod made, nothing held;
- one pod failed (the Job, `backoffLimit` 0, failed by it): the whole attempt ends (its
  Job is deleted in the foreground and made again by the reconciler), ONE retry counted,
  up to `retryPolicy.maxRetries`; bad input (the podFailurePolicy's FailJob) and the
  deadline still end the job at once;
- one pod preempted or evicted (a disruption): the attempt ends as well, no retry spent.
The counts live in `status.group` (`group_summary`), so a Job deleted for a restart is
told from a lost one, and a failed Job is counted once however often it is seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from aijob_api.conditions import Phase, Reason
from aijob_api.distributed import GroupStatus
from aijob_api.resource import AIJob
from aijob_api.status import AIJobStatus

from aijob_operator.builders.group import group_size
from aijob_operator.capacity import Fit
from aijob_operator.status import Observed, PodFacts, describe_failure
from aijob_operator.views import JobView, PodView

RESTART_RECHECK_SECONDS: Final = 2.0
"""Look again this soon while the ended attempt's Job and pods go."""
CAPACITY_RECHECK_SECONDS: Final = 5.0
"""Look again this soon whether a waiting group fits."""
_ENDS_AT_ONCE: Final = frozenset({"PodFailurePolicy", "DeadlineExceeded"})
"""Reasons of a failed Job that end the job, not the attempt (bad input, timeoutSeconds)."""


class GroupAction(StrEnum):
    """What the reconciler does for a group (values of `decide.Action`)."""

    NOTHING = "nothing"
    START = "start-group"
    """Unsuspend the Job: all its pods fit."""
    RESTART = "restart-group"
    """Delete the attempt's Job in the foreground (the status written first); a new one
    is made once it is gone."""


@dataclass(frozen=True)
class GroupVerdict:
    """What a group's state means: an action, a phase and why, its summary."""

    action: GroupAction
    phase: Phase
    reason: str
    message: str
    group: GroupStatus
    requeue_after: float | None = None


def is_restarting(status: AIJobStatus) -> bool:
    """Whether the status says the group's last Job is being ended for a restart (so its
    disappearance is expected, and a new Job is made)."""
    return status.group is not None and status.group.ended_job is not None


def group_summary(aijob: AIJob, job: JobView | None, pods: Sequence[PodView]) -> GroupStatus:
    """The group's shape and its current pods, the counts carried over from the status."""
    nodes, processes = group_size(aijob.spec)
    known = aijob.status.group or GroupStatus(nodes=nodes, processes_per_node=processes)
    live = [pod for pod in pods if not pod.terminal and not pod.deleting]
    ended = known.ended_job
    if job is not None and job.uid != ended:
        ended = None  # a new attempt's Job exists: the restart is over
    return known.model_copy(
        update={
            "nodes": nodes,
            "processes_per_node": processes,
            "pods": len(live),
            "running": sum(1 for pod in live if pod.phase == "Running"),
            "ended_job": ended,
        }
    )


def group_observed(
    observed: Observed, group: GroupStatus, failed_for_good: bool, max_retries: int
) -> Observed:
    """What the Job says, in a group's words: its attempts are its Jobs, not its pods
    (attempt = restarts + 1), and a running group says how many of its pods run."""
    facts = group_facts(observed.facts, group, failed_for_good)
    if observed.phase is not Phase.RUNNING or observed.reason != Reason.POD_RUNNING:
        return replace(observed, facts=facts)
    message = (
        f"{group.running} of {group.nodes} pods of the group are running "
        f"(attempt {group.restarts + 1} of {max_retries + 1})"
    )
    return replace(
        observed, facts=facts, message=message if not observed.settling else observed.message
    )


def group_facts(facts: PodFacts, group: GroupStatus, failed_for_good: bool) -> PodFacts:
    """A group's attempts are its Jobs, not its pods: attempt = restarts + 1."""
    failed = group.restarts + (1 if failed_for_good else 0)
    return PodFacts(
        attempts=group.restarts + 1,
        failed_attempts=failed,
        pod_name=facts.pod_name,
        node_name=facts.node_name,
        exit_code=facts.exit_code,
        start_time=facts.start_time,
    )


def judge_group(
    aijob: AIJob, job: JobView, pods: Sequence[PodView], fit: Fit | None
) -> GroupVerdict | None:
    """The group's verdict, or None when the Job's own state says it all (running, done,
    failed for good)."""
    summary = group_summary(aijob, job, pods)
    if summary.ended_job == job.uid:  # already counted: wait for the Job to go
        return GroupVerdict(
            GroupAction.RESTART,
            aijob.status.phase or Phase.RETRYING,
            aijob.status.reason or Reason.ATTEMPT_FAILED,
            aijob.status.message or "the group is restarting",
            summary,
            RESTART_RECHECK_SECONDS,
        )
    if job.condition("Complete") or job.condition("SuccessCriteriaMet"):
        return None
    disrupted = next((pod for pod in pods if pod.disruption), None)
    failed = job.condition("Failed") or job.condition("FailureTarget")
    if failed is not None and failed.reason in _ENDS_AT_ONCE:
        return None
    if failed is not None or disrupted is not None:
        return _restart(aijob, job, pods, summary, disrupted)
    if job.suspended and aijob.spec.queue is None:
        return _waiting_start(summary, fit)
    return None


def _restart(
    aijob: AIJob,
    job: JobView,
    pods: Sequence[PodView],
    summary: GroupStatus,
    disrupted: PodView | None,
) -> GroupVerdict | None:
    max_retries = aijob.spec.retry_policy.max_retries
    failed_pod = next((pod for pod in pods if pod.phase == "Failed" and not pod.disruption), None)
    ended = summary.model_copy(update={"ended_job": job.uid})
    if disrupted is not None:
        ended = ended.model_copy(update={"disruptions": summary.disruptions + 1})
        message = (
            f"pod {disrupted.name} of the group was stopped ({disrupted.disruption}); "
            f"the whole group of {summary.nodes} restarts (no retry spent)"
        )
        return GroupVerdict(
            GroupAction.RESTART, Phase.QUEUED, Reason.PREEMPTED, message, ended,
            RESTART_RECHECK_SECONDS,
        )  # fmt: skip
    what = describe_failure(failed_pod) if failed_pod is not None else "a pod failed"
    if summary.restarts >= max_retries:
        message = f"all {summary.restarts + 1} attempt(s) of the group failed; the last: {what}"
        return GroupVerdict(
            GroupAction.NOTHING, Phase.FAILED, Reason.BACKOFF_LIMIT_EXCEEDED, message, summary
        )
    restarts = summary.restarts + 1
    message = (
        f"attempt {restarts} of {max_retries + 1} failed: {what}; the whole group of "
        f"{summary.nodes} pods restarts (retry {restarts} of {max_retries})"
    )
    return GroupVerdict(
        GroupAction.RESTART,
        Phase.RETRYING,
        Reason.ATTEMPT_FAILED,
        message,
        ended.model_copy(update={"restarts": restarts}),
        RESTART_RECHECK_SECONDS,
    )


def _waiting_start(summary: GroupStatus, fit: Fit | None) -> GroupVerdict:
    if fit is not None and fit.fits:
        message = f"{fit.message}: starting the group"
        return GroupVerdict(
            GroupAction.START, Phase.QUEUED, Reason.JOB_CREATED, message, summary,
            RESTART_RECHECK_SECONDS,
        )  # fmt: skip
    message = fit.message if fit is not None else f"checking whether all {summary.nodes} pods fit"
    message = f"the group waits, holding nothing, until all its pods fit: {message}"
    return GroupVerdict(
        GroupAction.NOTHING, Phase.QUEUED, Reason.INSUFFICIENT_CAPACITY, message, summary,
        CAPACITY_RECHECK_SECONDS,
    )  # fmt: skip
