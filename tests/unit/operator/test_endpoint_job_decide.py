"""The decision for a job on an endpoint: wait (bounded), start, keep running, end, stop, re-run."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.conditions import ConditionType, Phase, Reason
from aijob_api.routing import Framework
from aijob_api.status import Artifact, StageTimings
from aijob_operator.decide import Action
from aijob_operator.endpoint_job_decide import (
    EndpointFacts,
    EndpointJobInputs,
    Replica,
    RunAction,
    RunOutcome,
    decide_endpoint_job,
    waiting_since,
)

from tests.unit.operator.factories import aijob, at, stamp

RECORDS = [[5.1, 3.5, 1.4, 0.2]] * 5
READY = EndpointFacts(
    name="iris",
    phase="Ready",
    framework=Framework.SKLEARN,
    framework_version="1.5",
    image="aijob/sklearn:dev",
    max_batch_size=2,
    replicas=(Replica("iris-0", "http://10.0.0.1:8080"),),
)


def job(status: dict[str, Any] | None = None, **spec: Any) -> Any:
    return aijob(
        "predict",
        spec={
            "task": "inference",
            "model": {"type": "random_forest"},
            "endpoint": "iris",
            "input": {"records": RECORDS},
            **spec,
        },
        status=status,
    )


def inputs(item: Any, now: float = 1, **extra: Any) -> EndpointJobInputs:
    return EndpointJobInputs(aijob=item, now=at(now), **{"endpoint": READY, **extra})


def queued_since(seconds: float) -> dict[str, Any]:
    """A Pending status whose Queued condition flipped True `seconds` after T0."""
    return {
        "phase": "Pending",
        "reason": Reason.WAITING_FOR_ENDPOINT,
        "conditions": [
            {"type": "Queued", "status": "True", "lastTransitionTime": stamp(seconds)},
        ],
    }


def test_a_ready_endpoint_starts_the_first_run() -> None:
    verdict = decide_endpoint_job(inputs(job()))
    assert verdict.run is RunAction.START
    assert verdict.attempt == 1
    status = verdict.decision.status
    assert (status.phase, status.reason) == (Phase.RUNNING, Reason.INFERRING_ON_ENDPOINT)
    assert "5 record(s) on endpoint iris: 3 chunk(s) of at most 2" in (status.message or "")
    assert (status.framework, status.image) == (Framework.SKLEARN, "aijob/sklearn:dev")
    assert status.job_name is None, "a job on an endpoint has no Job"
    assert status.attempts == 1
    assert status.start_time is not None


def test_a_run_under_way_is_left_alone() -> None:
    current = job({"phase": "Running", "attempts": 1})
    verdict = decide_endpoint_job(inputs(current, running_attempt=1))
    assert verdict.run is RunAction.NOTHING
    assert verdict.decision.status.phase is Phase.RUNNING


def test_running_without_a_run_here_is_run_again_after_a_restart() -> None:
    """The operator died mid-run: the status says Running, no run of this process exists."""
    current = job({"phase": "Running", "reason": Reason.INFERRING_ON_ENDPOINT, "attempts": 1})
    verdict = decide_endpoint_job(inputs(current))
    assert verdict.run is RunAction.START
    assert verdict.attempt == 2
    assert verdict.decision.status.attempts == 2
    assert "run 2" in (verdict.decision.status.message or "")


@pytest.mark.parametrize("phase", ["Succeeded", "Failed", "Cancelled"])
def test_a_finished_job_never_runs_again(phase: str) -> None:
    current = job({"phase": phase, "completionTime": stamp(5)})
    verdict = decide_endpoint_job(inputs(current, now=50))
    assert verdict.run is RunAction.NOTHING
    assert verdict.decision.status.phase is Phase(phase)


def test_cancel_stops_the_run() -> None:
    current = job({"phase": "Running", "attempts": 1}, cancel=True)
    verdict = decide_endpoint_job(inputs(current, running_attempt=1))
    assert verdict.run is RunAction.STOP
    status = verdict.decision.status
    assert (status.phase, status.reason) == (Phase.CANCELLED, Reason.CANCELLED)


def test_a_missing_endpoint_is_waited_for_then_fails() -> None:
    waiting = decide_endpoint_job(inputs(job(), endpoint=None, wait_seconds=30))
    status = waiting.decision.status
    assert (status.phase, status.reason) == (Phase.PENDING, Reason.WAITING_FOR_ENDPOINT)
    assert "endpoint iris does not exist in namespace ns" in (status.message or "")
    assert waiting.run is RunAction.NOTHING
    assert waiting.decision.requeue_after == pytest.approx(30.5)

    later = job(queued_since(1))
    failed = decide_endpoint_job(inputs(later, now=32, endpoint=None, wait_seconds=30))
    status = failed.decision.status
    assert (status.phase, status.reason) == (Phase.FAILED, Reason.ENDPOINT_NOT_FOUND)
    assert "gave up after 30s" in (status.message or "")
    assert status.completion_time is not None


def test_an_endpoint_without_ready_replicas_says_why_then_fails() -> None:
    loading = EndpointFacts(name="iris", phase="Loading", message="1 replica(s) loading the model")
    current = job(queued_since(1))
    pending = decide_endpoint_job(inputs(current, now=11, endpoint=loading, wait_seconds=30))
    status = pending.decision.status
    assert status.reason == Reason.WAITING_FOR_ENDPOINT
    assert "no ready replica (Loading: 1 replica(s) loading the model)" in (status.message or "")
    assert "20s more" in (status.message or "")
    failed = decide_endpoint_job(inputs(current, now=40, endpoint=loading, wait_seconds=30))
    assert failed.decision.status.reason == Reason.ENDPOINT_NOT_READY


def test_the_wait_counts_from_the_last_time_the_job_began_waiting() -> None:
    running = job({"phase": "Running", "conditions": [{"type": "Queued", "status": "False"}]})
    assert waiting_since(running, at(100)) == at(100)
    assert waiting_since(job(queued_since(7)), at(100)) == at(7)


def test_success_writes_the_outputs_timings_and_replica_with_the_phase() -> None:
    outcome = RunOutcome(
        succeeded=True,
        outputs=[{"prediction": "setosa"}] * 5,
        timings=StageTimings(prepare_ms=1.5, infer_ms=9.0, postprocess_ms=0.5),
        pod="iris-0",
        retries=1,
        chunks=3,
    )
    current = job({"phase": "Running", "attempts": 1})
    verdict = decide_endpoint_job(inputs(current, now=3, outcome=outcome))
    status = verdict.decision.status
    assert (status.phase, status.reason) == (Phase.SUCCEEDED, Reason.COMPLETED)
    assert (status.pod_name, status.failed_attempts) == ("iris-0", 1)
    assert "predicted 5 record(s) on endpoint iris in 3 chunk(s), 1 call(s) retried" in (
        status.message or ""
    )
    assert verdict.results is not None
    assert verdict.results.outputs == outcome.outputs
    assert verdict.results.timings == outcome.timings
    succeeded = next(c for c in status.conditions if c.type is ConditionType.SUCCEEDED)
    assert succeeded.status == "True"


STORED = Artifact(
    name="results/t1.json",
    uri="s3://aijob-team-a/jobs/t1/results/t1.json",
    sha256="f" * 64,
    size_bytes=40,
)


@pytest.mark.parametrize(
    ("outputs", "inline"),
    [([{"score": 0.5}] * 3, True), ([{"text": "x" * 200}] * 400, False)],
)
def test_stored_results_are_pointed_at_and_stay_inline_while_small(
    outputs: list[Any], inline: bool
) -> None:
    outcome = RunOutcome(succeeded=True, outputs=outputs, chunks=1, stored=STORED)
    verdict = decide_endpoint_job(inputs(job({"phase": "Running"}), now=3, outcome=outcome))
    assert verdict.results is not None
    assert verdict.results.output_uri == STORED.uri
    assert verdict.results.artifacts == [STORED]
    assert verdict.results.outputs == (outputs if inline else None)
    assert verdict.decision.status.phase is Phase.SUCCEEDED
    assert f"results in {STORED.uri}" in (verdict.decision.status.message or "")


def test_results_the_store_refused_stay_inline_and_the_message_says_why() -> None:
    outcome = RunOutcome(
        succeeded=True, outputs=[1], chunks=1, store_problem="no Secret aijob-storage"
    )
    verdict = decide_endpoint_job(inputs(job({"phase": "Running"}), now=3, outcome=outcome))
    assert verdict.results is not None
    assert (verdict.results.outputs, verdict.results.output_uri) == ([1], None)
    assert "results not written to the tenant's store: no Secret aijob-storage" in (
        verdict.decision.status.message or ""
    )


def test_a_refused_record_fails_the_job_without_results() -> None:
    outcome = RunOutcome(
        succeeded=False, reason=Reason.BAD_INPUT, message="spec.input.records[3]: bad", pod="iris-0"
    )
    verdict = decide_endpoint_job(inputs(job({"phase": "Running"}), outcome=outcome))
    status = verdict.decision.status
    assert (status.phase, status.reason, status.message) == (
        Phase.FAILED,
        Reason.BAD_INPUT,
        "spec.input.records[3]: bad",
    )
    assert verdict.results is None


def test_timeout_seconds_ends_a_job_that_waits_or_runs_too_long() -> None:
    current = job({"phase": "Running", "attempts": 1}, timeoutSeconds=10)
    early = decide_endpoint_job(inputs(current, now=4, running_attempt=1))
    assert early.decision.requeue_after == pytest.approx(6.5)
    verdict = decide_endpoint_job(inputs(current, now=11, running_attempt=1))
    assert verdict.run is RunAction.STOP
    assert verdict.decision.status.reason == Reason.DEADLINE_EXCEEDED


def test_the_ttl_deletes_a_finished_job() -> None:
    current = job({"phase": "Succeeded", "completionTime": stamp(5)}, ttlSecondsAfterFinished=10)
    assert decide_endpoint_job(inputs(current, now=16)).decision.action is Action.DELETE_AIJOB
