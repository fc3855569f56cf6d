"""Stalls: the pure verdict (table-driven), the limits' layers, and decide's actions on them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aijob_api.conditions import ConditionType, Phase, Reason
from aijob_api.stall import StallPolicy, StallStatus
from aijob_operator.catalog import load_catalog
from aijob_operator.decide import Action, Inputs, decide, job_event
from aijob_operator.job_conditions import status_patch
from aijob_operator.stall import (
    DUE_MARGIN_SECONDS,
    StallAction,
    StallLimits,
    after_stall_restart,
    judge_stall,
    stall_limits,
)
from aijob_operator.status import Observed, PodFacts
from aijob_operator.views import JobView, PodView

from tests.unit.operator.factories import aijob, at, condition, job_body, pod_body, stamp

LIMITS = StallLimits(report_timeout=60, restart_after=120, startup_grace=30)
RUNTIME = load_catalog().resolve(aijob().spec.resolved_framework)
POD = "train-0-abcde"


@pytest.mark.parametrize(
    ("case", "phase", "running", "report", "now", "retries_left", "action", "due_in"),
    [
        ("a pending pod has no clock", "Pending", None, None, 500, True, StallAction.NONE, None),
        ("no container start yet", "Running", None, None, 500, True, StallAction.NONE, None),
        # Started at 10, never reported: the grace (30) and the timeout (60) run from 10.
        ("start-up grace counts", "Running", 10, None, 99, True, StallAction.NONE, 1.0),
        ("silent past grace + timeout", "Running", 10, None, 100, True, StallAction.STALLED, 60.0),
        ("silent past the restart", "Running", 10, None, 160, True, StallAction.RESTART, None),
        ("restart, no retries left", "Running", 10, None, 160, False, StallAction.FAIL, None),
        # A report of an earlier attempt (before this container started) is no report.
        ("old attempt's report", "Running", 10, 5, 99, True, StallAction.NONE, 1.0),
        # Reported at 50: no more grace, the timeout runs from the report.
        ("reported: the timeout only", "Running", 10, 50, 109, True, StallAction.NONE, 1.0),
        ("reported, then silent", "Running", 10, 50, 110, True, StallAction.STALLED, 60.0),
        ("reported, then long silent", "Running", 10, 50, 170, True, StallAction.RESTART, None),
    ],
)
def test_judge_stall(
    case: str,
    phase: str,
    running: float | None,
    report: float | None,
    now: float,
    retries_left: bool,
    action: StallAction,
    due_in: float | None,
) -> None:
    verdict = judge_stall(
        now=at(now),
        pod_phase=phase,
        running_since=None if running is None else at(running),
        last_report=None if report is None else at(report),
        limits=LIMITS,
        retries_left=retries_left,
    )
    assert verdict.action is action, case
    expected = None if due_in is None else due_in + DUE_MARGIN_SECONDS
    assert verdict.due_in == (pytest.approx(expected) if expected is not None else None), case


def test_the_message_names_the_last_reports_time_and_the_limits() -> None:
    silent = judge_stall(
        now=at(110),
        pod_phase="Running",
        running_since=at(10),
        last_report=at(50),
        limits=LIMITS,
        retries_left=True,
    )
    assert f"has not reported since {stamp(50)}" in silent.message
    assert "limit 60 s" in silent.message
    assert f"ended at {stamp(170)} unless it reports" in silent.message
    never = judge_stall(
        now=at(100),
        pod_phase="Running",
        running_since=at(10),
        last_report=None,
        limits=LIMITS,
        retries_left=True,
    )
    assert f"since its container started at {stamp(10)}" in never.message
    assert "after a 30 s start-up grace" in never.message


FALLBACK = StallLimits(report_timeout=1800, restart_after=3600, startup_grace=600)


@pytest.mark.parametrize(
    ("case", "spec", "runtime", "expected"),
    [
        ("nothing set: the operator's", None, None, FALLBACK),
        (
            "the runtime's over the operator's",
            None,
            StallPolicy(report_timeout_seconds=100, startup_grace_seconds=5),
            StallLimits(100, 3600, 5),
        ),
        (
            "the spec's over the runtime's, field by field",
            StallPolicy(report_timeout_seconds=10, restart_after_seconds=20),
            StallPolicy(report_timeout_seconds=100, startup_grace_seconds=5),
            StallLimits(10, 20, 5),
        ),
        (
            "a restart not above the resolved timeout becomes twice it",
            StallPolicy(report_timeout_seconds=5000),
            None,
            StallLimits(5000, 10000, 600),
        ),
    ],
)
def test_stall_limits_layers(
    case: str, spec: StallPolicy | None, runtime: StallPolicy | None, expected: StallLimits
) -> None:
    assert stall_limits(spec, runtime, FALLBACK) == expected, case


def test_every_runtime_of_the_catalog_has_its_stall_limits() -> None:
    catalog = load_catalog()
    for framework, runtimes in catalog.frameworks.items():
        for version, runtime in runtimes.versions.items():
            stall = runtime.stall
            assert stall is not None, f"{framework} {version}"
            limits = stall_limits(None, stall, FALLBACK)
            assert limits.restart_after > limits.report_timeout >= 600, f"{framework} {version}"


def test_the_spec_refuses_a_restart_before_the_timeout() -> None:
    with pytest.raises(ValueError, match=r"stall\.restartAfterSeconds: 10 must be greater"):
        StallPolicy(report_timeout_seconds=10, restart_after_seconds=10)


def test_an_evicted_pod_is_told_as_a_stall_restart_not_a_preemption() -> None:
    evicted = PodView.from_body(
        pod_body(
            POD,
            phase="Failed",
            conditions=[condition("DisruptionTarget", "EvictionByEvictionAPI", "evicting")],
        )
    )
    preempted = Observed(Phase.QUEUED, Reason.PREEMPTED, "preempted", PodFacts())
    told = after_stall_restart(preempted, StallStatus(restarts=1, last_pod=POD), [evicted])
    assert (told.phase, told.reason) == (Phase.RETRYING, Reason.STALLED)
    assert f"pod {POD} was evicted because its worker stopped reporting" in told.message
    other = StallStatus(restarts=1, last_pod="another-pod")
    assert after_stall_restart(preempted, other, [evicted]) is preempted
    assert after_stall_restart(preempted, None, [evicted]) is preempted


def running(
    *,
    status: dict[str, Any] | None = None,
    now: float = 200,
    max_retries: int = 2,
    pods: list[dict[str, Any]] | None = None,
) -> Inputs:
    """A job whose pod runs since 2 (created 1), with the limits above."""
    spec = {
        "task": "training",
        "model": {"type": "random_forest"},
        "dataset": {"name": "iris"},
        "retryPolicy": {"maxRetries": max_retries},
    }
    return Inputs(
        aijob=aijob(spec=spec, status=status),
        now=at(now),
        job=JobView.from_body(job_body(active=1)),
        pods=[
            PodView.from_body(body)
            for body in pods or [pod_body(POD, phase="Running", node="n", created=1)]
        ],
        runtime=RUNTIME,
        stall_limits=LIMITS,
    )


def reported(seconds: float) -> dict[str, Any]:
    return {"progress": {"percent": 10, "updatedAt": stamp(seconds)}}


def test_a_job_that_reports_is_not_stalled_and_looks_again_when_the_limit_falls_due() -> None:
    decision = decide(running(status=reported(150), now=200))
    assert (decision.status.phase, decision.status.reason) == (Phase.RUNNING, Reason.POD_RUNNING)
    assert decision.action is Action.NOTHING
    assert decision.requeue_after == pytest.approx(10 + DUE_MARGIN_SECONDS)
    types = {condition.type for condition in decision.status.conditions}
    assert ConditionType.STALLED not in types


def test_a_silent_worker_makes_the_job_stalled_with_a_warning() -> None:
    given = running(status=reported(100), now=170)
    decision = decide(given)
    status = decision.status
    assert (status.phase, status.reason) == (Phase.RUNNING, Reason.STALLED)
    assert decision.action is Action.NOTHING
    assert decision.requeue_after == pytest.approx(50 + DUE_MARGIN_SECONDS)  # restart at 220
    stalled = {c.type: c for c in status.conditions}[ConditionType.STALLED]
    assert (stalled.status, stalled.reason) == ("True", Reason.STALLED)
    assert stamp(100) in stalled.message
    event = job_event(given.aijob.status, status)
    assert event is not None
    assert (event.type, event.reason) == ("Warning", Reason.STALLED)
    assert stamp(100) in event.message


def test_past_the_restart_limit_the_pod_is_evicted_and_counted_once() -> None:
    decision = decide(running(status=reported(100), now=230))
    assert decision.action is Action.EVICT_POD
    assert decision.pod == POD
    assert decision.status.stall == StallStatus(restarts=1, last_pod=POD)
    # The eviction did not land (or the pod is still seen running): evicted again, not counted.
    status = {**reported(100), "stall": {"restarts": 1, "lastPod": POD}}
    again = decide(running(status=status, now=240))
    assert again.action is Action.EVICT_POD
    assert again.status.stall == StallStatus(restarts=1, last_pod=POD)


def test_retries_spent_by_failures_and_stall_restarts_fail_the_job() -> None:
    status = {
        **reported(100),
        "failedAttempts": 1,
        "stall": {"restarts": 1, "lastPod": "train-0-older"},
    }
    decision = decide(running(status=status, now=230, max_retries=2))
    assert decision.action is Action.DELETE_JOB
    assert (decision.status.phase, decision.status.reason) == (Phase.FAILED, Reason.STALLED)
    assert decision.status.completion_time == at(230)
    assert "retries are spent" in (decision.status.message or "")
    conditions = {c.type: c.status for c in decision.status.conditions}
    assert conditions[ConditionType.FAILED] == conditions[ConditionType.STALLED] == "True"
    # Once Failed, a Job still there is deleted again.
    failed = decision.status.model_dump(mode="json", by_alias=True, exclude_none=True)
    after = decide(running(status=failed, now=240))
    assert (after.action, after.status.phase) == (Action.DELETE_JOB, Phase.FAILED)


def test_after_the_restart_the_new_attempt_reports_and_stalled_turns_false() -> None:
    evicted = pod_body(
        POD,
        phase="Failed",
        created=1,
        conditions=[condition("DisruptionTarget", "EvictionByEvictionAPI", "evicting")],
    )
    pending = pod_body("train-0-fghij", phase="Pending", created=240, ignored=1)
    stalled = decide(running(status=reported(100), now=170)).status
    status = stalled.model_dump(mode="json", by_alias=True, exclude_none=True)
    status["stall"] = {"restarts": 1, "lastPod": POD}
    restarting = decide(running(status=status, now=241, pods=[evicted, pending]))
    assert (restarting.status.phase, restarting.status.reason) == (Phase.RETRYING, Reason.STALLED)
    assert "was evicted because its worker stopped reporting" in (restarting.status.message or "")

    written = restarting.status.model_dump(mode="json", by_alias=True, exclude_none=True)
    new_pod = pod_body("train-0-fghij", phase="Running", node="n", created=240, ignored=1)
    fresh = running(status={**written, **reported(250)}, now=260, pods=[evicted, new_pod])
    back = decide(fresh)
    assert (back.status.phase, back.status.reason) == (Phase.RUNNING, Reason.POD_RUNNING)
    condition_ = {c.type: c for c in back.status.conditions}[ConditionType.STALLED]
    assert (condition_.status, condition_.reason) == ("False", Reason.REPORTING)
    assert back.status.stall == StallStatus(restarts=1, last_pod=POD)
    assert "stall" not in status_patch(fresh.aijob.status, back.status)


def test_jobs_without_limits_are_not_watched() -> None:
    given = replace(running(status=reported(0), now=10_000), stall_limits=None)
    decision = decide(given)
    assert (decision.status.phase, decision.status.reason) == (Phase.RUNNING, Reason.POD_RUNNING)
    assert decision.requeue_after == 60.0


def test_a_crash_after_stall_restarts_fails_the_job_once_both_spent_max_retries() -> None:
    """The Job's backoffLimit counts failures only (an eviction is a disruption): the
    operator ends the job when failures and stall restarts together pass maxRetries."""
    crashed = pod_body(
        "train-0-older", phase="Failed", created=1, terminated={"exitCode": 1, "reason": "Error"}
    )
    stall = {"restarts": 2, "lastPod": "train-0-evicted"}
    pods = [crashed, pod_body(POD, phase="Running", node="n", created=5, failures=1)]
    within = decide(running(status={**reported(150), "stall": {**stall, "restarts": 1}}, pods=pods))
    assert within.action is not Action.DELETE_JOB
    assert within.status.phase is not Phase.FAILED
    spent = decide(running(status={**reported(150), "stall": stall}, pods=pods))
    assert spent.action is Action.DELETE_JOB
    assert (spent.status.phase, spent.status.reason) == (Phase.FAILED, Reason.STALLED)
    assert spent.status.failed_attempts == 1
    assert "1 attempt(s) failed and 2 were ended for a stall" in (spent.status.message or "")
    assert "retryPolicy.maxRetries (2)" in (spent.status.message or "")
