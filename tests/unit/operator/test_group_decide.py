"""A distributed job's group in `decide`: gang start, whole-group restart, counts (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.conditions import Phase, Reason
from aijob_operator.capacity import Fit
from aijob_operator.catalog import load_catalog
from aijob_operator.decide import Action, Decision, Inputs, decide
from aijob_operator.views import JobView, PodView

from tests.unit.operator.factories import (
    GROUP_SPEC,
    JOB_UID,
    aijob,
    at,
    condition,
    disrupted,
    job_body,
    pod_body,
)

GROUP = {**GROUP_SPEC, "retryPolicy": {"maxRetries": 2}}
RUNTIME = load_catalog().resolve_for(aijob(spec=GROUP).spec)
CREATED = {"phase": "Queued", "reason": "JobCreated", "jobName": "train"}
NO_ROOM = Fit(False, 2, 2, "needs 4 pods x (8 nvidia.com/gpu) at once; 2 node(s) ...")
ROOM = Fit(True, 4, 4, "all 4 pods fit at once on 4 node(s)", (("g0", 1),))


def group_inputs(
    *,
    status: dict[str, Any] | None = None,
    job: dict[str, Any] | None = None,
    pods: list[dict[str, Any]] | None = None,
    spec: dict[str, Any] | None = None,
    **extra: Any,
) -> Inputs:
    return Inputs(
        aijob=aijob(spec={**GROUP, **(spec or {})}, status=status or CREATED),
        now=at(30),
        job=JobView.from_body(job) if job is not None else None,
        pods=[PodView.from_body(body) for body in pods or []],
        runtime=RUNTIME,
        **extra,
    )


def failed_pod(name: str, code: int = 1) -> dict[str, Any]:
    return pod_body(
        name, phase="Failed", node="g1", terminated={"exitCode": code, "reason": "Error"}
    )


def test_a_group_that_does_not_fit_waits_suspended_with_the_numbers() -> None:
    decision = decide(group_inputs(job=job_body(suspend=True), fit=NO_ROOM))
    assert decision.action is Action.NOTHING
    assert (decision.status.phase, decision.status.reason) == (
        Phase.QUEUED,
        Reason.INSUFFICIENT_CAPACITY,
    )
    assert "holding nothing" in (decision.status.message or "")
    assert NO_ROOM.message in (decision.status.message or "")
    assert decision.requeue_after == 5.0
    assert decision.status.group is not None
    assert (decision.status.group.nodes, decision.status.group.processes_per_node) == (4, 8)


def test_a_group_that_fits_is_started() -> None:
    decision = decide(group_inputs(job=job_body(suspend=True), fit=ROOM))
    assert decision.action is Action.START_GROUP
    assert decision.status.reason == Reason.JOB_CREATED
    assert "starting the group" in (decision.status.message or "")


def test_a_queued_group_is_left_to_kueue() -> None:
    decision = decide(group_inputs(job=job_body(suspend=True), spec={"queue": "team-a"}, fit=None))
    assert decision.action is Action.NOTHING
    assert decision.status.reason == Reason.ADMISSION_PENDING


def failed_job(reason: str = "BackoffLimitExceeded") -> dict[str, Any]:
    return job_body(failed=1, conditions=[condition("Failed", reason, "the Job failed")])


@pytest.mark.parametrize(
    ("restarts", "action", "phase", "reason", "restarts_after"),
    [
        (0, Action.RESTART_GROUP, Phase.RETRYING, Reason.ATTEMPT_FAILED, 1),
        (1, Action.RESTART_GROUP, Phase.RETRYING, Reason.ATTEMPT_FAILED, 2),
        (2, Action.NOTHING, Phase.FAILED, Reason.BACKOFF_LIMIT_EXCEEDED, 2),
    ],
)
def test_one_failed_pod_restarts_the_whole_group_counting_one_retry(
    restarts: int, action: Action, phase: Phase, reason: str, restarts_after: int
) -> None:
    status = {**CREATED, "group": {"nodes": 4, "processesPerNode": 8, "restarts": restarts}}
    pods = [failed_pod("train-1-a"), failed_pod("train-2-b")]  # rank 2 failed after rank 1
    decision = decide(group_inputs(status=status, job=failed_job(), pods=pods))
    assert decision.action is action
    assert (decision.status.phase, decision.status.reason) == (phase, reason)
    assert decision.status.group is not None
    assert decision.status.group.restarts == restarts_after
    failed = restarts_after + (1 if phase is Phase.FAILED else 0)
    assert decision.status.failed_attempts == failed  # one per attempt, not per pod
    if action is Action.RESTART_GROUP:
        assert decision.status.group.ended_job == JOB_UID
        assert "whole group of 4 pods restarts" in (decision.status.message or "")


def test_a_failed_job_is_counted_once_however_often_it_is_seen() -> None:
    first = decide(group_inputs(job=failed_job(), pods=[failed_pod("train-1-a")]))
    again = decide(
        group_inputs(
            status=first.status.model_dump(mode="json", by_alias=True, exclude_none=True),
            job=failed_job(),
            pods=[failed_pod("train-1-a")],
        )
    )
    assert again.action is Action.RESTART_GROUP  # the delete is repeated, nothing counted
    assert again.status.group == first.status.group
    assert again.status.failed_attempts == first.status.failed_attempts == 1


def restarting() -> Decision:
    """The decision on a group whose first attempt just failed."""
    return decide(group_inputs(job=failed_job(), pods=[failed_pod("train-1-a")]))


def test_the_job_of_a_restarting_group_is_made_again_not_lost() -> None:
    status = restarting().status.model_dump(mode="json", by_alias=True, exclude_none=True)
    decision = decide(group_inputs(status=status, job=None, job_confirmed_missing=True))
    assert decision.action is Action.CREATE_CHILDREN
    lost = {**CREATED}
    decision = decide(group_inputs(status=lost, job=None, job_confirmed_missing=True))
    assert decision.status.reason == Reason.JOB_LOST


def test_the_next_attempts_job_ends_the_restart() -> None:
    status = restarting().status.model_dump(mode="json", by_alias=True, exclude_none=True)
    new_job = job_body(active=4)
    new_job["metadata"]["uid"] = "2222-next-job"
    pods = [{**pod_body(f"train-{i}-x", phase="Running", node=f"g{i}")} for i in range(4)]
    for pod in pods:
        pod["metadata"]["ownerReferences"][0]["uid"] = "2222-next-job"
    decision = decide(group_inputs(status=status, job=new_job, pods=pods))
    assert decision.status.phase is Phase.RUNNING
    assert decision.status.group is not None
    assert decision.status.group.ended_job is None
    assert (decision.status.group.pods, decision.status.group.running) == (4, 4)
    assert decision.status.attempts == 2
    assert decision.status.message == "4 of 4 pods of the group are running (attempt 2 of 3)"


@pytest.mark.parametrize("reason", ["PodFailurePolicy", "DeadlineExceeded"])
def test_bad_input_and_the_deadline_end_the_job_at_once(reason: str) -> None:
    pods = [failed_pod("train-1-a", code=65)]
    decision = decide(group_inputs(job=failed_job(reason), pods=pods))
    assert decision.action is Action.NOTHING
    assert decision.status.phase is Phase.FAILED
    assert decision.status.group is not None
    assert decision.status.group.restarts == 0


def test_a_disrupted_pod_restarts_the_group_without_a_retry() -> None:
    pods = [
        pod_body("train-0-a", phase="Running", node="g0"),
        pod_body("train-1-b", phase="Failed", node="g1", conditions=[disrupted()]),
    ]
    decision = decide(group_inputs(job=job_body(active=1), pods=pods))
    assert decision.action is Action.RESTART_GROUP
    assert (decision.status.phase, decision.status.reason) == (Phase.QUEUED, Reason.PREEMPTED)
    assert decision.status.group is not None
    assert (decision.status.group.restarts, decision.status.group.disruptions) == (0, 1)
    assert decision.status.failed_attempts == 0


def test_success_of_rank_0_is_the_jobs() -> None:
    job = job_body(succeeded=1, conditions=[condition("Complete", "SuccessPolicy")])
    decision = decide(group_inputs(job=job, pods=[pod_body("train-0-a", phase="Succeeded")]))
    assert decision.status.phase is Phase.SUCCEEDED
