"""The decision for an inference AIJob that names an endpoint (`spec.endpoint`): wait, run, or end.

Pure, as `aijob_operator.decide` is for jobs that get a pod: `decide_endpoint_job` takes
what the operator knows (the AIJob, the endpoint and its ready replicas, whether this
process is predicting the job's records now, how such a run ended) and returns whether
to start or stop a run, the status to show and, once the records are predicted, the
results to write with it (no worker exists to write them).

Level-based and restart-safe: a job whose status says Running but that no run of this
process predicts (the operator restarted) is started again, since inference is
idempotent; a finished job is never started again. Waiting for the endpoint to exist
and have a ready replica is bounded: it counts from when the job last began to wait
(its `Queued` condition), so a run cut short by a restart gets the full wait again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from aijob_api.conditions import ConditionType, Phase, Reason
from aijob_api.resource import AIJob
from aijob_api.routing import Framework
from aijob_api.status import MAX_STATUS_RESULTS_BYTES, AIJobStatus, Artifact, Results, StageTimings

from aijob_operator.decide import Action, Decision, Inputs, decide, desired_status

WAIT_MARGIN_SECONDS: Final = 0.5
"""Look again this long after the wait would run out (the clock of the write is coarse)."""


@dataclass(frozen=True)
class Replica:
    """A ready model server pod of the endpoint, and where it answers."""

    name: str
    address: str


@dataclass(frozen=True)
class EndpointFacts:
    """What the operator knows of the endpoint a job names (it exists)."""

    name: str
    phase: str | None = None
    message: str | None = None
    framework: Framework | None = None
    framework_version: str | None = None
    image: str | None = None
    max_batch_size: int = 32
    request_timeout_seconds: float = 30.0
    replicas: tuple[Replica, ...] = ()
    """Its ready replicas that have an address, by name."""


@dataclass(frozen=True)
class RunOutcome:
    """How a run of the job's records on the endpoint ended."""

    succeeded: bool
    reason: str = Reason.COMPLETED
    message: str = ""
    outputs: Sequence[Any] = ()
    timings: StageTimings | None = None
    pod: str | None = None
    """The replica that answered the last chunk."""
    retries: int = 0
    """Attempts after the first, over every chunk."""
    chunks: int = 0
    stored: Artifact | None = None
    """The outputs' file in the tenant's store (s3 mode), when they were written there."""
    store_problem: str | None = None
    """Why the outputs could not be written to the tenant's store."""


class RunAction(StrEnum):
    """What to do with the run of the job's records in this process."""

    NOTHING = "nothing"
    START = "start"
    """Send the records to the endpoint's replicas (the run reports its outcome back)."""
    STOP = "stop"
    """Cancel the run in progress (the job was cancelled, or finished otherwise)."""


@dataclass(frozen=True)
class EndpointJobInputs:
    """Everything known about one job on an endpoint at one moment."""

    aijob: AIJob
    now: datetime
    endpoint: EndpointFacts | None
    """None when the endpoint does not exist."""
    running_attempt: int | None = None
    """The attempt number of the run this process is making now; None without one."""
    outcome: RunOutcome | None = None
    """How this process's run of the job ended, not yet written."""
    wait_seconds: float = 300.0
    recheck_seconds: float = 60.0


@dataclass(frozen=True)
class EndpointJobDecision:
    """The run action, the status decision (action NOTHING or DELETE_AIJOB), the results."""

    run: RunAction
    decision: Decision
    results: Results | None = None
    attempt: int | None = None
    """The attempt number of a run to start."""


def decide_endpoint_job(inputs: EndpointJobInputs) -> EndpointJobDecision:
    """Decide the next run action and the desired status of one job on an endpoint."""
    aijob = inputs.aijob
    current = aijob.status
    base = Inputs(aijob=aijob, now=inputs.now, recheck_seconds=inputs.recheck_seconds)
    running = inputs.running_attempt is not None
    if (current.phase is not None and current.phase.finished) or aijob.spec.cancel:
        decision = decide(base)
        return EndpointJobDecision(RunAction.STOP if running else RunAction.NOTHING, decision)
    if inputs.outcome is not None:
        return _ended(inputs, base, inputs.outcome)
    deadline = _deadline(aijob)
    if deadline is not None and inputs.now >= deadline:
        message = f"the job ran longer than timeoutSeconds={aijob.spec.timeout_seconds}"
        if running:
            message += "; its run on the endpoint was stopped"
        status = _with_endpoint(
            desired_status(
                base, Phase.FAILED, Reason.DEADLINE_EXCEEDED, message, completion_time=inputs.now
            ),
            inputs.endpoint,
        )
        return EndpointJobDecision(
            RunAction.STOP if running else RunAction.NOTHING,
            Decision(Action.NOTHING, status, _ttl(aijob)),
        )
    if inputs.running_attempt is not None:
        status = _running(inputs, base, inputs.running_attempt)
        return EndpointJobDecision(
            RunAction.NOTHING, Decision(Action.NOTHING, status, _recheck(inputs, deadline))
        )
    endpoint = inputs.endpoint
    if endpoint is None or not endpoint.replicas:
        return _waiting(inputs, base, endpoint, deadline)
    attempt = current.attempts + 1
    status = _running(inputs, base, attempt)
    return EndpointJobDecision(
        RunAction.START,
        Decision(Action.NOTHING, status, _recheck(inputs, deadline)),
        attempt=attempt,
    )


def _waiting(
    inputs: EndpointJobInputs,
    base: Inputs,
    endpoint: EndpointFacts | None,
    deadline: datetime | None,
) -> EndpointJobDecision:
    """Pending while the endpoint is missing or has no ready replica; Failed past the wait."""
    aijob = inputs.aijob
    name = aijob.spec.endpoint
    left = inputs.wait_seconds - (inputs.now - waiting_since(aijob, inputs.now)).total_seconds()
    if endpoint is None:
        missing = f"endpoint {name} does not exist in namespace {aijob.metadata.namespace}"
        failed_reason = Reason.ENDPOINT_NOT_FOUND
    else:
        state = f"{endpoint.phase or 'new'}: {endpoint.message}" if endpoint.message else ""
        missing = f"endpoint {name} has no ready replica" + (f" ({state})" if state else "")
        failed_reason = Reason.ENDPOINT_NOT_READY
    if left > 0:
        message = f"{missing}; waiting up to {left:.0f}s more"
        status = _with_endpoint(
            desired_status(base, Phase.PENDING, Reason.WAITING_FOR_ENDPOINT, message), endpoint
        )
        wait = min(left + WAIT_MARGIN_SECONDS, _recheck(inputs, deadline))
        return EndpointJobDecision(RunAction.NOTHING, Decision(Action.NOTHING, status, wait))
    message = f"{missing}; gave up after {inputs.wait_seconds:.0f}s"
    status = _with_endpoint(
        desired_status(base, Phase.FAILED, failed_reason, message, completion_time=inputs.now),
        endpoint,
    )
    return EndpointJobDecision(RunAction.NOTHING, Decision(Action.NOTHING, status, _ttl(aijob)))


def _running(inputs: EndpointJobInputs, base: Inputs, attempt: int) -> AIJobStatus:
    aijob = inputs.aijob
    endpoint = inputs.endpoint
    records = len((aijob.spec.input.records if aijob.spec.input else None) or [])
    message = f"predicting {records} record(s) on endpoint {aijob.spec.endpoint}"
    if endpoint is not None:
        chunks = -(-records // max(1, endpoint.max_batch_size))
        message += (
            f": {chunks} chunk(s) of at most {endpoint.max_batch_size} record(s), "
            f"{len(endpoint.replicas)} ready replica(s)"
        )
    if attempt > 1:
        message += f" (run {attempt}: the records are predicted again, inference is idempotent)"
    status = desired_status(base, Phase.RUNNING, Reason.INFERRING_ON_ENDPOINT, message)
    started = aijob.status.start_time or status.queued_at or inputs.now
    return _with_endpoint(
        status.model_copy(update={"attempts": attempt, "start_time": started}), endpoint
    )


def _ended(inputs: EndpointJobInputs, base: Inputs, outcome: RunOutcome) -> EndpointJobDecision:
    """The status of a run that ended, and (success) the results to write with it."""
    aijob = inputs.aijob
    now = inputs.now
    update: dict[str, Any] = {"failed_attempts": outcome.retries}
    if outcome.pod is not None:
        update["pod_name"] = outcome.pod
    if outcome.succeeded:
        message = outcome.message or (
            f"predicted {len(outcome.outputs)} record(s) on endpoint {aijob.spec.endpoint} "
            f"in {outcome.chunks} chunk(s), {outcome.retries} call(s) retried"
        )
        results = Results(outputs=list(outcome.outputs), timings=outcome.timings)
        if outcome.stored is not None:
            results = _with_stored(results, outcome.stored)
            message = f"{message}; results in {outcome.stored.uri}"
        elif outcome.store_problem is not None:
            message = f"{message}; results not written to the tenant's store: "
            message += outcome.store_problem
        status = desired_status(
            base, Phase.SUCCEEDED, Reason.COMPLETED, message, completion_time=now
        )
    else:
        status = desired_status(
            base, Phase.FAILED, outcome.reason, outcome.message, completion_time=now
        )
        results = None
    status = _with_endpoint(status.model_copy(update=update), inputs.endpoint)
    return EndpointJobDecision(
        RunAction.NOTHING, Decision(Action.NOTHING, status, _ttl(aijob)), results=results
    )


def _with_stored(results: Results, stored: Artifact) -> Results:
    """The results pointing at their file in the tenant's store; the outputs stay inline
    only while they fit the status' bound."""
    update: dict[str, Any] = {"output_uri": stored.uri, "artifacts": [stored]}
    if len(json.dumps(results.outputs, separators=(",", ":"))) > MAX_STATUS_RESULTS_BYTES // 2:
        update["outputs"] = None
    return results.model_copy(update=update)


def waiting_since(aijob: AIJob, now: datetime) -> datetime:
    """When the job last began to wait: its `Queued` condition's flip to True, else now."""
    for condition in aijob.status.conditions:
        if condition.type is ConditionType.QUEUED and condition.status == "True":
            return condition.last_transition_time or now
    return now


def _with_endpoint(status: AIJobStatus, endpoint: EndpointFacts | None) -> AIJobStatus:
    """The runtime the endpoint serves with, when it is known."""
    if endpoint is None or endpoint.framework is None:
        return status
    return status.model_copy(
        update={
            "framework": endpoint.framework,
            "framework_version": endpoint.framework_version or status.framework_version,
            "image": endpoint.image or status.image,
        }
    )


def _deadline(aijob: AIJob) -> datetime | None:
    timeout = aijob.spec.timeout_seconds
    created = aijob.metadata.creation_timestamp or aijob.status.queued_at
    if timeout is None or created is None:
        return None
    return created + timedelta(seconds=timeout)


def _recheck(inputs: EndpointJobInputs, deadline: datetime | None) -> float:
    if deadline is None:
        return inputs.recheck_seconds
    left = (deadline - inputs.now).total_seconds() + WAIT_MARGIN_SECONDS
    return max(WAIT_MARGIN_SECONDS, min(inputs.recheck_seconds, left))


def _ttl(aijob: AIJob) -> float | None:
    ttl = aijob.spec.ttl_seconds_after_finished
    return float(ttl) if ttl is not None else None
