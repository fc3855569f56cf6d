"""Kueue's Workload of a queued job: its owner, and the status words while Kueue holds the Job."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_operator.kueue import WorkloadView, kueue_hold, workload_of, workload_owner
from aijob_operator.status import observe_job
from aijob_operator.views import JobView, PodView

from tests.unit.operator.factories import (
    JOB_UID,
    aijob,
    at,
    condition,
    exited,
    job_body,
    pod_body,
    stamp,
)

QUOTA = (
    "couldn't assign flavors to pod set main: insufficient unused quota for "
    "nvidia.com/gpu in flavor gpu, 4 more needed"
)
TRAINING = {"task": "training", "model": {"type": "mlp"}, "dataset": {"name": "digits"}}
PREEMPTION = (
    "Preempted to accommodate a workload (UID: u1, JobUID: j1) due to prioritization in "
    "the ClusterQueue"
)


def false(type_: str, reason: str, message: str) -> dict[str, Any]:
    """A False condition."""
    return {**condition(type_, reason, message), "status": "False"}


def workload(
    *conditions: dict[str, Any], owner: str = "train", active: bool = True
) -> dict[str, Any]:
    """A Workload as Kueue makes it for the Job `owner`."""
    return {
        "metadata": {
            "name": f"job-{owner}-1a2b3",
            "namespace": "ns",
            "labels": {"kueue.x-k8s.io/job-uid": JOB_UID},
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": owner,
                    "uid": JOB_UID,
                    "controller": True,
                }
            ],
        },
        "spec": {"queueName": "team", "active": active},
        "status": {"conditions": list(conditions)},
    }


@pytest.mark.unit
def test_owner_is_the_aijob_named_as_the_job() -> None:
    assert workload_owner(workload()) == ("ns", "train")
    other = workload()
    other["metadata"]["ownerReferences"][0]["apiVersion"] = "jobset.x-k8s.io/v1alpha2"
    assert workload_owner(other) is None
    assert workload_owner({"metadata": {"namespace": "ns"}}) is None


@pytest.mark.unit
def test_workload_of_picks_the_jobs_own() -> None:
    view = WorkloadView.from_body(workload())
    assert workload_of([view], JOB_UID) is view
    assert workload_of([view], "another-job") is None


@pytest.mark.unit
@pytest.mark.parametrize(
    ("conditions", "active", "reason", "says"),
    [
        ((), True, Reason.ADMISSION_PENDING, ("not yet considered by Kueue",)),
        (
            (false("QuotaReserved", "Pending", QUOTA),),
            True,
            Reason.ADMISSION_PENDING,
            ("Kueue queue team", "Pending: " + QUOTA),
        ),
        (
            (
                condition("Evicted", "Preempted", PREEMPTION),
                condition("Preempted", "InClusterQueue", PREEMPTION),
                false("QuotaReserved", "Pending", QUOTA),
            ),
            True,
            Reason.PREEMPTED,
            ("Kueue evicted it", PREEMPTION, "no retry spent", "now Pending: " + QUOTA),
        ),
        (
            (condition("Evicted", "PodsReadyTimeout", "pods not ready in time"),),
            True,
            Reason.ADMISSION_PENDING,
            ("Kueue evicted it (PodsReadyTimeout: pods not ready in time)",),
        ),
        (
            (condition("QuotaReserved", "QuotaReserved"), false("Admitted", "", "checks: 1")),
            True,
            Reason.ADMISSION_PENDING,
            ("quota reserved, not admitted yet", "checks: 1"),
        ),
        (
            (condition("QuotaReserved", "QuotaReserved"), condition("Admitted", "Admitted")),
            True,
            Reason.ADMISSION_PENDING,
            ("admitted; Kueue is starting the Job",),
        ),
        ((), False, Reason.ADMISSION_PENDING, ("deactivated",)),
    ],
)
def test_hold_in_kueues_words(
    conditions: tuple[dict[str, Any], ...], active: bool, reason: str, says: tuple[str, ...]
) -> None:
    view = WorkloadView.from_body(workload(*conditions, active=active))
    got_reason, message = kueue_hold("train", "team", view)
    assert got_reason == reason
    for words in says:
        assert words in message


@pytest.mark.unit
def test_no_workload_yet_names_what_kueue_needs() -> None:
    reason, message = kueue_hold("train", "team", None)
    assert reason == Reason.ADMISSION_PENDING
    assert "LocalQueue" in message
    assert "WorkloadPriorityClass" in message


@pytest.mark.unit
def test_a_suspended_queued_job_is_queued_with_kueues_reason() -> None:
    queued = aijob(spec={**TRAINING, "queue": "team"})
    job = JobView.from_body(job_body(suspend=True))
    view = WorkloadView.from_body(workload(false("QuotaReserved", "Pending", QUOTA)))
    observed = observe_job(queued, job, (), at(10), workload=view)
    assert observed.phase is Phase.QUEUED
    assert observed.reason == Reason.ADMISSION_PENDING
    assert QUOTA in observed.message


def killed(finished: float) -> dict[str, Any]:
    """A Failed worker pod deleted at 11 s (`pod_body`), its container ended at `finished`."""
    ended = {**exited(137), "finishedAt": stamp(finished)}
    return pod_body(phase="Failed", node="kwok-gpu-0", terminated=ended, deleting=True)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("queue", "finished", "counted"),
    [
        ("team", 12, 0),  # Kueue evicted it: the suspended Job deleted its pod, which then ended
        ("team", 5, 1),  # it failed by itself, and was deleted later
        (None, 12, 1),  # without Kueue nothing changes: a deleted pod's failure counts
    ],
)
def test_a_pod_killed_by_kueues_eviction_spends_no_retry(
    queue: str | None, finished: float, counted: int
) -> None:
    spec = {**TRAINING, "queue": queue} if queue else TRAINING
    job = JobView.from_body(job_body(suspend=queue is not None))
    pods = [PodView.from_body(killed(finished))]
    observed = observe_job(aijob(spec=spec), job, pods, at(20))
    assert observed.facts.failed_attempts == counted
