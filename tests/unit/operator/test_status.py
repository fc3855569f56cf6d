"""observe_job: the AIJob's phase, reason and message from its Job and pods (table-driven)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_operator.status import observe_job
from aijob_operator.views import JobView, PodView

from tests.unit.operator.factories import (
    aijob,
    at,
    condition,
    disrupted,
    exited,
    job_body,
    pod_body,
    unschedulable,
)

SCHEDULER = (
    "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
    "2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: "
    "3 No preemption victims found for incoming pod."
)
TRAINING = {"task": "training", "model": {"type": "mlp"}, "dataset": {"name": "digits"}}


@dataclass
class Case:
    id: str
    job: dict[str, Any]
    pods: list[dict[str, Any]] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)
    phase: Phase = Phase.QUEUED
    reason: str = Reason.JOB_CREATED
    says: tuple[str, ...] = ()
    attempts: int | None = None
    settling: bool = False


CASES = [
    Case(
        "complete",
        job_body(conditions=[condition("Complete", at_=9)], succeeded=1),
        [pod_body(phase="Succeeded", node="kwok-cpu-0", terminated=exited(0, "Completed"))],
        phase=Phase.SUCCEEDED,
        reason=Reason.COMPLETED,
        says=("finished", "attempt 1 of 3"),
        attempts=1,
    ),
    Case(
        "retries exhausted names the exit code",
        job_body(conditions=[condition("Failed", "BackoffLimitExceeded")], failed=3),
        [
            pod_body(f"train-0-{n}", phase="Failed", created=n, terminated=exited(3), failures=n)
            for n in range(3)
        ],
        phase=Phase.FAILED,
        reason=Reason.BACKOFF_LIMIT_EXCEEDED,
        says=("all 3 attempt(s) failed", "exited with code 3 (Error)", "train-0-2"),
        attempts=3,
    ),
    Case(
        "per-index limit is the same as retries exhausted",
        job_body(conditions=[condition("Failed", "FailedIndexes")], failed=1),
        [pod_body(phase="Failed", terminated=exited(1, message="Traceback\nValueError: boom"))],
        spec={"retryPolicy": {"maxRetries": 0}},
        phase=Phase.FAILED,
        reason=Reason.BACKOFF_LIMIT_EXCEEDED,
        says=("code 1", "ValueError: boom"),
    ),
    Case(
        "bad input fails at once",
        job_body(
            conditions=[condition("Failed", "PodFailurePolicy", "Container worker ... 65")],
            failed=1,
        ),
        [pod_body(phase="Failed", terminated=exited(65, message="dataset: no such data set"))],
        phase=Phase.FAILED,
        reason=Reason.BAD_INPUT,
        says=("code 65", "no such data set", "never retried"),
        attempts=1,
    ),
    Case(
        "bad input whose failed pod is not seen yet waits to quote the worker",
        job_body(
            conditions=[condition("Failed", "PodFailurePolicy", "Container worker ... 65", 25)],
            failed=1,
        ),
        [pod_body(phase="Running", node="n")],
        phase=Phase.RUNNING,
        reason=Reason.POD_RUNNING,
        says=("finishing",),
        settling=True,
    ),
    Case(
        "bad input whose failed pod never shows takes the Job's words after the wait",
        job_body(
            conditions=[condition("Failed", "PodFailurePolicy", "Container worker ... 65", -5)],
            failed=1,
        ),
        phase=Phase.FAILED,
        reason=Reason.BAD_INPUT,
        says=("Container worker ... 65", "never retried"),
    ),
    Case(
        "deadline",
        job_body(conditions=[condition("Failed", "DeadlineExceeded")]),
        [pod_body(phase="Failed", terminated=exited(137, "Error"))],
        spec={"timeoutSeconds": 5},
        phase=Phase.FAILED,
        reason=Reason.DEADLINE_EXCEEDED,
        says=("timeoutSeconds=5",),
    ),
    Case(
        "out of memory",
        job_body(conditions=[condition("Failed", "BackoffLimitExceeded")], failed=1),
        [pod_body(phase="Failed", terminated=exited(137, "OOMKilled"))],
        spec={"resources": {"memory": "256Mi"}, "retryPolicy": {"maxRetries": 0}},
        phase=Phase.FAILED,
        reason=Reason.OOM_KILLED,
        says=("OOMKilled", "256Mi"),
    ),
    Case(
        "held by Kueue",
        job_body(suspend=True),
        spec={"queue": "team-a"},
        reason=Reason.ADMISSION_PENDING,
        says=("Kueue", "team-a"),
    ),
    Case("suspended by someone", job_body(suspend=True), reason=Reason.SUSPENDED),
    Case(
        "unschedulable quotes the scheduler",
        job_body(active=1),
        [pod_body(conditions=[unschedulable(SCHEDULER)])],
        reason=Reason.UNSCHEDULABLE,
        says=(SCHEDULER,),
        attempts=1,
    ),
    Case(
        "replacement of a preempted pod waits without a retry spent",
        job_body(active=1),
        [
            pod_body("train-0-old", phase="Failed", created=1, conditions=[disrupted()]),
            pod_body("train-0-new", created=5, conditions=[unschedulable(SCHEDULER)], ignored=1),
        ],
        reason=Reason.PREEMPTED,
        says=("PreemptionByScheduler", "no retry spent", "Insufficient nvidia.com/gpu"),
        attempts=1,
    ),
    Case(
        "preempted pod still terminating",
        job_body(active=0),
        [pod_body(phase="Running", node="kwok-gpu-0", deleting=True, conditions=[disrupted()])],
        reason=Reason.PREEMPTED,
        says=("no retry spent",),
    ),
    Case(
        "running",
        job_body(active=1),
        [pod_body(phase="Running", node="kwok-gpu-1")],
        phase=Phase.RUNNING,
        reason=Reason.POD_RUNNING,
        says=("kwok-gpu-1", "attempt 1 of 3"),
        attempts=1,
    ),
    Case(
        "second attempt running",
        job_body(active=1, failed=1),
        [
            pod_body("train-0-a", phase="Failed", created=1, terminated=exited(3)),
            pod_body("train-0-b", phase="Running", created=20, node="kwok-cpu-0", failures=1),
        ],
        phase=Phase.RUNNING,
        reason=Reason.POD_RUNNING,
        says=("attempt 2 of 3",),
        attempts=2,
    ),
    Case(
        "between attempts",
        job_body(failed=1),
        [pod_body(phase="Failed", terminated=exited(3))],
        phase=Phase.RETRYING,
        reason=Reason.ATTEMPT_FAILED,
        says=("attempt 1 of 3 failed", "code 3", "back-off"),
        attempts=1,
    ),
    Case(
        "image cannot be pulled",
        job_body(active=1),
        [
            pod_body(
                node="real-node",
                waiting={"reason": "ErrImagePull", "message": "not found"},
            )
        ],
        reason=Reason.POD_PENDING,
        says=("real-node", "ErrImagePull: not found"),
    ),
    Case(
        "the namespace has no store Secret: the admin's command named",
        job_body(active=1),
        [
            pod_body(
                node="real-node",
                waiting={
                    "reason": "CreateContainerConfigError",
                    "message": 'secret "aijob-storage" not found',
                },
            )
        ],
        reason=Reason.NO_TENANT_STORE,
        says=("aijob-storage", "no object store", "python -m aijob_operator.tenants add "),
    ),
    Case(
        "another missing Secret stays a plain pending pod",
        job_body(active=1),
        [
            pod_body(
                node="real-node",
                waiting={
                    "reason": "CreateContainerConfigError",
                    "message": 'secret "their-token" not found',
                },
            )
        ],
        reason=Reason.POD_PENDING,
        says=('secret "their-token" not found',),
    ),
    Case(
        "a placed pod not yet reported by its node reads the same",
        job_body(active=1),
        [pod_body(node="kwok-cpu-0")],
        says=("is being scheduled and started",),
    ),
    Case("no pod yet", job_body(), says=("is being scheduled and started",), attempts=0),
    Case(
        "a pod not yet placed reads the same",
        job_body(active=1),
        [pod_body()],
        says=("Job train created; its pod is being scheduled and started",),
        attempts=1,
    ),
    Case(
        "the Job decided but still counts its pods",
        job_body(conditions=[condition("FailureTarget", "BackoffLimitExceeded")], failed=1),
        [pod_body(phase="Failed", terminated=exited(3))],
        phase=Phase.RUNNING,
        reason=Reason.POD_RUNNING,
        settling=True,
    ),
    Case(
        "a pod failed before the Job counted it",
        job_body(active=1, failed=0),
        [pod_body(phase="Failed", terminated=exited(3))],
        phase=Phase.RETRYING,
        reason=Reason.ATTEMPT_FAILED,
        says=("attempt 1 of 3 failed",),
    ),
    Case(
        "pod done before the Job knows",
        job_body(active=1),
        [pod_body(phase="Succeeded", terminated=exited(0, "Completed"))],
        phase=Phase.RUNNING,
        reason=Reason.POD_RUNNING,
        settling=True,
    ),
    Case(
        # Seen on the real node (tests/e2e/test_worker_killed.py): the retry's pod exited 0
        # and the Job had not recorded it yet; the first pod's failure must not read again.
        "a retry done before the Job knows is no failed attempt again",
        job_body(active=1, failed=1),
        [
            pod_body("train-0-a", phase="Failed", created=1, terminated=exited(137), failures=0),
            pod_body("train-0-b", phase="Succeeded", created=2, terminated=exited(0, "Completed")),
        ],
        phase=Phase.RUNNING,
        reason=Reason.POD_RUNNING,
        says=("exited 0",),
        settling=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_observe_job(case: Case) -> None:
    job = aijob(spec={**TRAINING, **case.spec})
    pods = [PodView.from_body(body) for body in case.pods]
    observed = observe_job(job, JobView.from_body(case.job), pods, at(30))
    assert (observed.phase, observed.reason) == (case.phase, case.reason), observed.message
    for text in case.says:
        assert text in observed.message
    if case.attempts is not None:
        assert observed.facts.attempts == case.attempts
    assert observed.settling is case.settling
    assert (observed.completion_time is not None) is observed.phase.finished


def test_failed_attempts_exclude_disruptions() -> None:
    job = job_body(active=1, failed=0)
    pods = [
        PodView.from_body(pod_body("a", phase="Failed", conditions=[disrupted()])),
        PodView.from_body(pod_body("b", phase="Running", created=9, node="n", ignored=1)),
    ]
    observed = observe_job(aijob(spec=TRAINING), JobView.from_body(job), pods, at(30))
    assert observed.facts.failed_attempts == 0
    assert observed.facts.attempts == 1
    assert observed.facts.exit_code is None
