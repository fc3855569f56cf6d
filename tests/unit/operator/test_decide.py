"""decide: the action and the desired status of one AIJob (table-driven), and status writes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aijob_api.conditions import ConditionType, Phase, Reason
from aijob_api.models import AIJobStatus
from aijob_operator.builders.rbac import IdentityCheck
from aijob_operator.catalog import load_catalog
from aijob_operator.decide import (
    Action,
    Inputs,
    decide,
    job_event,
)
from aijob_operator.dependency import Dependency, DependencyState
from aijob_operator.job_conditions import build_conditions, status_patch
from aijob_operator.views import JobView, PodView

from tests.unit.operator.factories import aijob, at, condition, job_body, pod_body, stamp

RUNTIME = load_catalog().resolve(aijob().spec.resolved_framework)
TRAINING = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}


def inputs(
    *,
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    job: dict[str, Any] | None = None,
    pods: list[dict[str, Any]] | None = None,
    now: float = 30,
    **extra: Any,
) -> Inputs:
    return Inputs(
        aijob=aijob(spec={**TRAINING, **(spec or {})}, status=status),
        now=at(now),
        job=JobView.from_body(job) if job is not None else None,
        pods=[PodView.from_body(body) for body in pods or []],
        runtime=RUNTIME,
        **extra,
    )


FINISHED = {"phase": "Succeeded", "reason": "Completed", "completionTime": stamp(10)}


@pytest.mark.parametrize(
    ("case", "given", "action", "phase", "reason", "requeue"),
    [
        (
            "new job is created",
            inputs(),
            Action.CREATE_CHILDREN,
            Phase.PENDING,
            Reason.JOB_CREATED,
            60.0,
        ),
        (
            "job exists: status from it",
            inputs(job=job_body(active=1), pods=[pod_body(phase="Running", node="n")]),
            Action.NOTHING,
            Phase.RUNNING,
            Reason.POD_RUNNING,
            60.0,
        ),
        (
            "finished stays finished whatever the children say",
            inputs(status=FINISHED, job=job_body(conditions=[condition("Failed")])),
            Action.NOTHING,
            Phase.SUCCEEDED,
            "Completed",
            None,
        ),
        (
            "finished with a TTL waits for it",
            inputs(spec={"ttlSecondsAfterFinished": 60}, status=FINISHED, now=40),
            Action.NOTHING,
            Phase.SUCCEEDED,
            "Completed",
            30.0,
        ),
        (
            "TTL ran out",
            inputs(spec={"ttlSecondsAfterFinished": 20}, status=FINISHED, now=31),
            Action.DELETE_AIJOB,
            Phase.SUCCEEDED,
            "Completed",
            None,
        ),
        (
            "cancel deletes the Job",
            inputs(spec={"cancel": True}, job=job_body(active=1)),
            Action.DELETE_JOB,
            Phase.CANCELLED,
            Reason.CANCELLED,
            None,
        ),
        (
            "cancel before a Job exists",
            inputs(spec={"cancel": True}),
            Action.NOTHING,
            Phase.CANCELLED,
            Reason.CANCELLED,
            None,
        ),
        (
            "cancelled but the Job is still there",
            inputs(
                spec={"cancel": True},
                status={"phase": "Cancelled", "completionTime": stamp(5)},
                job=job_body(),
            ),
            Action.DELETE_JOB,
            Phase.CANCELLED,
            None,
            60.0,
        ),
        (
            "cancel after success changes nothing",
            inputs(spec={"cancel": True}, status=FINISHED),
            Action.NOTHING,
            Phase.SUCCEEDED,
            "Completed",
            None,
        ),
        (
            "no runtime",
            replace(inputs(), runtime=None, runtime_error="no framework"),
            Action.NOTHING,
            Phase.FAILED,
            Reason.INVALID_SPEC,
            None,
        ),
        (
            "a runtime gone from the catalog does not fail a running Job",
            replace(
                inputs(
                    status={"phase": "Running", "jobName": "x", "image": "aijob/worker:1"},
                    job=job_body(active=1),
                    pods=[pod_body(phase="Running", node="n")],
                ),
                runtime=None,
                runtime_error="no framework",
            ),
            Action.NOTHING,
            Phase.RUNNING,
            Reason.POD_RUNNING,
            60.0,
        ),
        (
            "a stranger has the Job's name",
            inputs(foreign_job=True),
            Action.NOTHING,
            Phase.PENDING,
            Reason.JOB_NAME_TAKEN,
            60.0,
        ),
        (
            "an identity object is a stranger's: fails, no Job",
            inputs(identity=IdentityCheck(message="ServiceAccount is not ours", fails=True)),
            Action.NOTHING,
            Phase.FAILED,
            Reason.IDENTITY_TAKEN,
            None,
        ),
        (
            "an identity object is a deleted namesake's: waits, looks again soon",
            inputs(identity=IdentityCheck(message="still a deleted AIJob's")),
            Action.NOTHING,
            Phase.PENDING,
            Reason.WAITING_FOR_IDENTITY,
            IdentityCheck.RECHECK_SECONDS,
        ),
        (
            "the status names a Job the cache lacks: look",
            inputs(status={"phase": "Running", "jobName": "train"}),
            Action.VERIFY_JOB,
            Phase.RUNNING,
            None,
            None,
        ),
        (
            "the Job is really gone: never re-created",
            inputs(status={"phase": "Running", "jobName": "train"}, job_confirmed_missing=True),
            Action.NOTHING,
            Phase.FAILED,
            Reason.JOB_LOST,
            None,
        ),
        (
            "waiting for the training job",
            inputs(dependency=Dependency(DependencyState.WAITING, message="w", retry_after=5)),
            Action.NOTHING,
            Phase.PENDING,
            Reason.WAITING_FOR_DEPENDENCY,
            5.5,
        ),
        (
            "training job failed",
            inputs(dependency=Dependency(DependencyState.FAILED, message="it failed")),
            Action.NOTHING,
            Phase.FAILED,
            Reason.DEPENDENCY_FAILED,
            None,
        ),
        (
            "settling: no write of its own",
            inputs(
                status={"phase": "Running", "reason": "PodRunning", "jobName": "train"},
                job=job_body(active=1),
                pods=[pod_body(phase="Succeeded", terminated={"exitCode": 0})],
            ),
            Action.NOTHING,
            Phase.RUNNING,
            Reason.POD_RUNNING,
            2.0,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_decide(
    case: str,
    given: Inputs,
    action: Action,
    phase: Phase,
    reason: str | None,
    requeue: float | None,
) -> None:
    decision = decide(given)
    assert decision.action is action, case
    assert decision.status.phase is phase
    assert decision.status.reason == reason
    assert decision.requeue_after == requeue


def test_ready_dependency_passes_the_model_uri() -> None:
    ready = Dependency(DependencyState.READY, model_uri="file:///m/model.joblib")
    decision = decide(inputs(dependency=ready))
    assert decision.action is Action.CREATE_CHILDREN
    assert decision.model_uri == "file:///m/model.joblib"


def test_status_keeps_worker_fields_and_records_the_runtime() -> None:
    given = inputs(
        status={"progress": {"percent": 40}, "results": {"metrics": {"accuracy": 0.9}}},
        job=job_body(active=1),
        pods=[pod_body(phase="Running", node="kwok-cpu-0")],
    )
    status = decide(given).status
    assert status.progress is not None
    assert status.progress.percent == 40
    assert status.results is not None
    assert status.results.metrics == {"accuracy": 0.9}
    assert (status.framework, status.image) == (RUNTIME.framework, RUNTIME.runtime.image)
    assert (status.job_name, status.node_name, status.attempts) == ("train", "kwok-cpu-0", 1)
    assert status.observed_generation == 1
    assert status.queued_at == at(0)


def test_conditions_follow_the_phase_and_keep_their_transition_time() -> None:
    first = build_conditions([], Phase.QUEUED, "Unschedulable", "why", "j", at(1), 1)
    by_type = {c.type: c for c in first}
    assert by_type[ConditionType.QUEUED].status == "True"
    assert by_type[ConditionType.QUEUED].message == "why"
    assert by_type[ConditionType.CREATED].reason == Reason.JOB_CREATED
    assert by_type[ConditionType.SUCCEEDED].status == "False"
    second = build_conditions(first, Phase.QUEUED, "Preempted", "again", "j", at(9), 1)
    assert {c.type: c for c in second}[ConditionType.QUEUED].last_transition_time == at(1)
    third = build_conditions(second, Phase.SUCCEEDED, "Completed", "done", "j", at(20), 2)
    by_type = {c.type: c for c in third}
    assert by_type[ConditionType.QUEUED].last_transition_time == at(20)
    assert by_type[ConditionType.SUCCEEDED].status == "True"
    assert by_type[ConditionType.SUCCEEDED].observed_generation == 2
    # Every type but Stalled, which shows only once a job has stalled (test_stall).
    assert {c.type for c in third} == set(ConditionType) - {ConditionType.STALLED}


def test_patch_holds_only_what_changed_and_never_worker_fields() -> None:
    given = inputs(job=job_body(active=1), pods=[pod_body(phase="Running", node="n")])
    desired = decide(given).status
    patch = status_patch(given.aijob.status, desired)
    assert patch["phase"] == "Running"
    assert patch["jobName"] == "train"
    assert "progress" not in patch
    assert "results" not in patch
    again = given.aijob.model_copy(update={"status": desired})
    assert status_patch(again.status, decide(replace(given, aijob=again)).status) == {}


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ({}, {"phase": "Queued", "reason": "JobCreated"}, "Normal"),
        (
            {"phase": "Queued", "reason": "JobCreated"},
            {"phase": "Queued", "reason": "Unschedulable"},
            "Warning",
        ),
        (
            {"phase": "Running", "reason": "PodRunning"},
            {"phase": "Failed", "reason": "BadInput"},
            "Warning",
        ),
        (
            {"phase": "Running", "reason": "PodRunning"},
            {"phase": "Succeeded", "reason": "Completed"},
            "Normal",
        ),
        (
            {"phase": "Running", "reason": "PodRunning"},
            {"phase": "Running", "reason": "PodRunning"},
            None,
        ),
    ],
)
def test_transition_events(before: dict[str, str], after: dict[str, str], kind: str | None) -> None:
    event = job_event(
        AIJobStatus.model_validate(before), AIJobStatus.model_validate({**after, "message": "m"})
    )
    assert (event.type if event else None) == kind
    if event is not None:
        assert event.reason == after["reason"]
        assert event.message == f"{after['phase']}: m"


def test_success_completes_the_progress_without_touching_the_rest() -> None:
    given = inputs(
        status={"progress": {"percent": 80, "epoch": 4}},
        job=job_body(conditions=[condition("Complete")], succeeded=1),
    )
    desired = decide(given).status
    assert status_patch(given.aijob.status, desired)["progress"] == {"percent": 100}
    done = AIJobStatus.model_validate(
        {"phase": "Succeeded", "progress": {"percent": 100, "epoch": 4}}
    )
    assert "progress" not in status_patch(done, desired)


@pytest.mark.parametrize(
    ("change", "patched"),
    [
        ({"phase": "Retrying"}, True),
        ({"failedAttempts": 3}, True),
        ({"nodeName": "kwok-gpu-0"}, True),
        ({"progress": {"percent": 40}}, False),
        ({"results": {"metrics": {"accuracy": 0.9}}}, False),
        ({"checkpoint": {"uri": "file:///c"}}, False),
    ],
)
def test_status_patch_writes_the_operators_share_only(
    change: dict[str, Any], patched: bool
) -> None:
    current = AIJobStatus.model_validate({"phase": "Running"})
    desired = current.model_copy(
        update=AIJobStatus.model_validate(change).model_dump(exclude_unset=True)
    )
    patch = status_patch(current, desired)
    assert bool(patch) is patched
    assert set(patch) <= set(change)


@pytest.mark.parametrize(
    ("change", "patched"),
    [
        ({"podName": "j-0-abcde", "attempts": 1}, False),
        ({"nodeName": "kwok-gpu-0"}, False),
        ({"podName": "j-0-abcde", "reason": "Unschedulable"}, True),
        ({"podName": "j-0-abcde", "phase": "Running"}, True),
        ({"failedAttempts": 1}, True),
    ],
)
def test_a_waiting_jobs_pod_details_wait_for_its_next_transition(
    change: dict[str, Any], patched: bool
) -> None:
    current = AIJobStatus.model_validate({"phase": "Queued", "reason": "JobCreated"})
    desired = current.model_copy(
        update=AIJobStatus.model_validate(change).model_dump(exclude_unset=True)
    )
    assert bool(status_patch(current, desired)) is patched


def test_routine_steps_are_counted_but_post_no_event() -> None:
    queued = AIJobStatus.model_validate({"phase": "Queued", "reason": "JobCreated"})
    running = AIJobStatus.model_validate({"phase": "Running", "reason": "PodRunning"})
    done = AIJobStatus.model_validate({"phase": "Succeeded", "reason": "Completed"})
    stuck = AIJobStatus.model_validate({"phase": "Queued", "reason": "Unschedulable"})
    steps = [
        job_event(AIJobStatus(), queued),
        job_event(queued, running),
        job_event(running, done),
        job_event(queued, stuck),
    ]
    assert [(e.reason, e.type, e.posted) for e in steps if e] == [
        ("JobCreated", "Normal", False),
        ("PodRunning", "Normal", False),
        ("Completed", "Normal", True),
        ("Unschedulable", "Warning", True),
    ]
