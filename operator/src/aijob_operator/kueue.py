"""Kueue's word on a queued AIJob: the Workload Kueue makes for its Job, read into a view.

A job with `spec.queue` gets a Job created suspended with the queue's label
(`builders.job`). Kueue makes a Workload for it (owned by the Job) and, once the queue's
ClusterQueue has quota, admits it: it unsuspends the Job. The operator never touches
`suspend` of such a Job. While the Job is suspended, the AIJob is Queued with the words
of the Workload's conditions: QuotaReserved False (why no quota, in Kueue's words),
Evicted/Preempted True (a higher-priority workload took the quota: Preempted, no retry
spent; Kueue admits it again later), or QuotaReserved without Admitted (admission checks).

The operator watches Workloads only where Kueue's API is served (`KubeApi.workloads_served`,
read at start-up): a cluster without Kueue has no such informer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from aijob_api.conditions import Reason

from aijob_operator.views import (
    Body,
    ChildKey,
    ConditionView,
    controller_uid,
    join_reason,
    parse_conditions,
)

QUOTA_RESERVED: Final = "QuotaReserved"
ADMITTED: Final = "Admitted"
EVICTED: Final = "Evicted"
PREEMPTED: Final = "Preempted"


@dataclass(frozen=True, slots=True)
class WorkloadView:
    """What the operator needs of a Kueue Workload."""

    name: str
    job_uid: str | None
    """The uid of the Job that owns it (its controller)."""
    active: bool
    conditions: tuple[ConditionView, ...]

    def condition(self, type_: str) -> ConditionView | None:
        """The condition of this type when its status is True."""
        return next((c for c in self.conditions if c.type == type_ and c.status == "True"), None)

    def false_condition(self, type_: str) -> ConditionView | None:
        """The condition of this type when its status is False."""
        return next((c for c in self.conditions if c.type == type_ and c.status == "False"), None)

    @classmethod
    def from_body(cls, body: Body) -> WorkloadView:
        """Read a Workload as the API server returns it."""
        metadata = body.get("metadata", {})
        spec = body.get("spec", {}) or {}
        status = body.get("status", {}) or {}
        return cls(
            name=metadata.get("name", ""),
            job_uid=controller_uid(metadata),
            active=spec.get("active", True) is not False,
            conditions=parse_conditions(status.get("conditions")),
        )


def workload_owner(body: Body) -> ChildKey | None:
    """The AIJob a Workload belongs to: the one named as the batch/v1 Job that controls it
    (a Job is named after its AIJob, `builders.meta.job_name`); None for other owners."""
    metadata = body.get("metadata", {})
    namespace = metadata.get("namespace")
    for owner in metadata.get("ownerReferences") or ():
        is_job = owner.get("kind") == "Job" and owner.get("apiVersion") == "batch/v1"
        if owner.get("controller") and is_job and namespace and owner.get("name"):
            return (namespace, str(owner["name"]))
    return None


def kueue_hold(job: str, queue: str, workload: WorkloadView | None) -> tuple[str, str]:
    """The reason and message of an AIJob whose Job Kueue holds suspended."""
    if workload is None:
        return (
            Reason.ADMISSION_PENDING,
            f"Job {job} is suspended until Kueue admits it from queue {queue} (Kueue has not "
            "made its Workload yet; it cannot while the queue's LocalQueue or the job's "
            "WorkloadPriorityClass is missing)",
        )
    where = f"Job {job} waits in Kueue queue {queue} (Workload {workload.name})"
    evicted = workload.condition(PREEMPTED) or workload.condition(EVICTED)
    if evicted is not None and workload.condition(QUOTA_RESERVED) is None:
        pending = workload.false_condition(QUOTA_RESERVED)
        now = f"; now {join_reason(pending.reason, pending.message)}" if pending else ""
        reason = Reason.PREEMPTED if _preempted(workload) else Reason.ADMISSION_PENDING
        return (
            reason,
            f"{where}: Kueue evicted it ({join_reason(evicted.reason, evicted.message)}); it is "
            f"admitted again when the quota allows, no retry spent{now}",
        )
    if not workload.active:
        return (Reason.ADMISSION_PENDING, f"{where}: the Workload is deactivated")
    pending = workload.false_condition(QUOTA_RESERVED)
    if pending is not None:
        why = join_reason(pending.reason, pending.message)
        return (Reason.ADMISSION_PENDING, f"{where}: {why}")
    if workload.condition(QUOTA_RESERVED) is not None and workload.condition(ADMITTED) is None:
        checks = workload.false_condition(ADMITTED)
        detail = f": {join_reason(checks.reason, checks.message)}" if checks else ""
        return (Reason.ADMISSION_PENDING, f"{where}: quota reserved, not admitted yet{detail}")
    if workload.condition(ADMITTED) is not None:
        return (Reason.ADMISSION_PENDING, f"{where}: admitted; Kueue is starting the Job")
    return (Reason.ADMISSION_PENDING, f"{where}: not yet considered by Kueue")


def _preempted(workload: WorkloadView) -> bool:
    evicted = workload.condition(EVICTED)
    return workload.condition(PREEMPTED) is not None or (
        evicted is not None and evicted.reason == PREEMPTED
    )


def workload_of(views: Iterable[object], job_uid: str) -> WorkloadView | None:
    """The Workload of a Job among an AIJob's cached views."""
    return next((v for v in views if isinstance(v, WorkloadView) and v.job_uid == job_uid), None)
