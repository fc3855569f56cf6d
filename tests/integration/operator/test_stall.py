"""Stalls on a real API server: a worker that stops reporting while its pod runs.

The simulated (KWOK) pods run without a worker, so they never report by themselves:
the test writes `status.progress` itself when a worker would (the worker's share, as the
runtime patches it). Short limits in the spec keep each case to seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aijob_api.conditions import ConditionType, Phase, Reason
from aijob_api.models import AIJob

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout, eventually

pytestmark = pytest.mark.usefixtures("operator")

RUNS_LONG = simulated({"aijob.dev/fake-run-seconds": "600"})
"""A pod that stays Running for ten minutes: a worker stuck in a deadlock."""


def report(aijobs: AIJobs, name: str) -> datetime:
    """Write a progress report now, as the worker runtime does; return its time."""
    now = datetime.now(UTC).replace(microsecond=0)
    progress = {"percent": 10, "stage": "training", "updatedAt": now.isoformat()}
    aijobs.patch_status(name, {"progress": progress})
    return now


def conditions(job: AIJob) -> dict[str, Any]:
    return {condition.type: condition for condition in job.status.conditions}


def zulu(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_silent_worker_is_stalled_then_restarted_then_failed(aijobs: AIJobs) -> None:
    aijobs.create(
        manifest(
            "hung",
            aijobs.namespace,
            retryPolicy={"maxRetries": 1},
            stall={"reportTimeoutSeconds": 4, "restartAfterSeconds": 8, "startupGraceSeconds": 0},
            podTemplate=RUNS_LONG,
        )
    )
    running = aijobs.wait_phase("hung", Phase.RUNNING, timeout=Timeout.SIMULATED_JOB)
    first_pod = running.status.pod_name
    last = report(aijobs, "hung")  # it reported once, then hung

    stalled = aijobs.wait(
        "hung",
        lambda job: job.status.reason == Reason.STALLED,
        timeout=Timeout.SIMULATED_JOB,
        what="Stalled",
    )
    assert stalled.status.phase is Phase.RUNNING
    condition = conditions(stalled)[ConditionType.STALLED]
    assert (condition.status, condition.reason) == ("True", Reason.STALLED)
    assert f"has not reported since {zulu(last)}" in condition.message

    def warned() -> bool:
        events = [event for event in aijobs.events("hung") if event.reason == Reason.STALLED]
        assert events, "no Stalled Event yet"
        assert all(event.type == "Warning" for event in events)
        return any(zulu(last) in str(event.message) for event in events)

    eventually(warned, timeout=Timeout.API, what="a Warning Event naming the last report")

    restarted = aijobs.wait(
        "hung",
        lambda job: job.status.stall is not None and job.status.stall.restarts == 1,
        timeout=Timeout.SIMULATED_JOB,
        what="one stall restart",
    )
    assert restarted.status.stall is not None
    assert restarted.status.stall.last_pod == first_pod
    assert restarted.status.failed_attempts == 0  # a disruption, not a failure

    failed = aijobs.wait_phase(
        "hung", Phase.FAILED, reason=Reason.STALLED, timeout=Timeout.SIMULATED_JOB
    )
    status = failed.status
    assert status.pod_name != first_pod  # the second attempt's pod stalled too
    assert "since its container started" in (status.message or "")
    assert "retries are spent" in (status.message or "")
    assert status.stall is not None
    assert status.stall.restarts == 1
    assert conditions(failed)[ConditionType.STALLED].status == "True"
    assert conditions(failed)[ConditionType.FAILED].status == "True"
    eventually(lambda: aijobs.job("hung") is None, timeout=Timeout.API, what="the Job deleted")


def test_a_worker_that_reports_in_time_is_never_stalled(aijobs: AIJobs) -> None:
    aijobs.create(
        manifest(
            "steady",
            aijobs.namespace,
            stall={"reportTimeoutSeconds": 5, "restartAfterSeconds": 10, "startupGraceSeconds": 0},
            podTemplate=simulated({"aijob.dev/fake-run-seconds": "15"}),
        )
    )

    seen: set[str | None] = set()

    def reported_until_done() -> AIJob:
        report(aijobs, "steady")  # every poll is a report: one every quarter of a second
        job = aijobs.get("steady")
        seen.add(job.status.reason)
        assert job.status.phase is Phase.SUCCEEDED, f"{job.status.phase} {job.status.reason}"
        return job

    done = eventually(reported_until_done, timeout=Timeout.SIMULATED_JOB, what="Succeeded")
    assert Reason.POD_RUNNING in seen
    assert Reason.STALLED not in seen
    assert ConditionType.STALLED not in conditions(done)
    assert done.status.stall is None
    assert Reason.STALLED not in aijobs.event_reasons("steady")
