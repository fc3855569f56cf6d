"""An AIJob's conditions, following its phase and reason, and the status patch of the
operator's share: pure, used by `decide` (and through it by jobs on endpoints).

One condition per type, in the standard shape; a transition time moves only when the
condition flips. `Stalled` appears once a job has stalled (`aijob_operator.stall`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Literal

from aijob_api.conditions import ConditionType, Phase, Reason
from aijob_api.status import OPERATOR_STATUS_FIELDS, AIJobStatus, Condition

from aijob_operator.refusals import REFUSAL_REASONS
from aijob_operator.transitions import changed_fields, transition_time

OPERATOR_FIELDS: Final = OPERATOR_STATUS_FIELDS
"""Status fields the operator owns, as the status model declares them (`aijob_api.status`)."""
DONE_PERCENT: Final = 100
WARNING_REASONS: Final = frozenset(
    {
        Reason.UNSCHEDULABLE,
        Reason.PREEMPTED,
        Reason.ATTEMPT_FAILED,
        Reason.BACKOFF_LIMIT_EXCEEDED,
        Reason.BAD_INPUT,
        Reason.OOM_KILLED,
        Reason.DEADLINE_EXCEEDED,
        Reason.INVALID_SPEC,
        Reason.DEPENDENCY_FAILED,
        Reason.JOB_LOST,
        Reason.JOB_NAME_TAKEN,
        Reason.IDENTITY_TAKEN,
        Reason.STALLED,
        Reason.INSUFFICIENT_CAPACITY,
    }
    | REFUSAL_REASONS
)
"""Reasons whose transition is a Warning event; the others are Normal."""
QUIET_REASONS: Final = frozenset({Reason.JOB_CREATED, Reason.POD_RUNNING})
"""The routine steps of every job, which post no Event of their own: the status shows them
(with the conditions' transition times), the Job controller posts `SuccessfulCreate` on the
Job and the kubelet `Started` on the pod; each would cost every job an API write."""
QUEUED_DETAILS: Final = frozenset({"attempts", "podName", "nodeName"})
"""What a job still waiting (Queued, the same reason) learns about its pod before it runs:
written along with its next transition, not in a write of its own."""


def build_conditions(
    previous: Sequence[Condition],
    phase: Phase,
    reason: str,
    message: str,
    job: str | None,
    now: datetime,
    generation: int | None,
) -> list[Condition]:
    """One condition per type; a transition time moves only when the status flips."""
    truth = {
        ConditionType.CREATED: job is not None,
        ConditionType.QUEUED: phase in (Phase.PENDING, Phase.QUEUED, Phase.RETRYING),
        ConditionType.RUNNING: phase is Phase.RUNNING,
        ConditionType.SUCCEEDED: phase is Phase.SUCCEEDED,
        ConditionType.FAILED: phase is Phase.FAILED,
        ConditionType.CANCELLED: phase is Phase.CANCELLED,
    }
    before = {condition.type: condition for condition in previous}
    if reason == Reason.STALLED or ConditionType.STALLED in before:  # shown once it happened
        truth[ConditionType.STALLED] = reason == Reason.STALLED
    conditions = []
    for type_, is_true in truth.items():
        status: Literal["True", "False"] = "True" if is_true else "False"
        if type_ is ConditionType.CREATED and is_true:
            cond_reason, cond_message = Reason.JOB_CREATED, f"Job {job}"
        elif type_ is ConditionType.STALLED and not is_true:
            cond_reason, cond_message = Reason.REPORTING, ""
        else:
            cond_reason, cond_message = reason, (message if is_true else "")
        conditions.append(
            Condition(
                type=type_,
                status=status,
                reason=cond_reason,
                message=cond_message,
                last_transition_time=transition_time(before.get(type_), status, now),
                observed_generation=generation,
            )
        )
    return conditions


def status_patch(current: AIJobStatus, desired: AIJobStatus) -> dict[str, Any]:
    """The merge patch (camelCase) of the operator-owned fields that differ; empty if none
    (or if only `QUEUED_DETAILS` of a job still waiting changed)."""
    patch = changed_fields(current, desired, OPERATOR_FIELDS)
    waiting = current.phase is desired.phase is Phase.QUEUED
    if waiting and current.reason == desired.reason and patch.keys() <= QUEUED_DETAILS:
        return {}
    if desired.phase is Phase.SUCCEEDED and (
        current.progress is None or current.progress.percent != DONE_PERCENT
    ):
        # A succeeded job is done, whether or not its worker said so last (or at all):
        # a nested merge patch that leaves the worker's other progress fields alone.
        patch["progress"] = {"percent": DONE_PERCENT}
    return patch
