"""Inference jobs that load a model from a training AIJob: wait, go, or fail.

An inference job naming `spec.model.source.trainingJob` waits in Pending until that
job succeeded, then runs with the training job's `status.results.modelUri`. It fails
when the training job failed, was cancelled, is not a training job, or still does
not exist after a grace period (it may be created just after the inference job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aijob_api.conditions import Phase
from aijob_api.models import AIJob, Task


class DependencyState(StrEnum):
    """Where an AIJob stands with respect to the model it needs."""

    NONE = "none"
    """It needs no other job (training, or a model URI given)."""
    READY = "ready"
    WAITING = "waiting"
    FAILED = "failed"


@dataclass(frozen=True)
class Dependency:
    """The answer for one AIJob: the state, the model to load, and why."""

    state: DependencyState
    model_uri: str | None = None
    message: str = ""
    retry_after: float | None = None
    """Seconds until the answer may change without any event (the grace running out)."""


NO_DEPENDENCY = Dependency(DependencyState.NONE)


def training_job_name(aijob: AIJob) -> str | None:
    """The training AIJob this job depends on, if any."""
    source = aijob.spec.model.source
    return source.training_job if source is not None else None


def resolve_dependency(
    aijob: AIJob, training: AIJob | None, now: datetime, grace_seconds: float
) -> Dependency:
    """Decide whether `aijob` can start, given the training AIJob it names (or None)."""
    source = aijob.spec.model.source
    if source is None:
        return NO_DEPENDENCY
    if source.uri is not None:
        return Dependency(DependencyState.READY, model_uri=source.uri)
    name = source.training_job
    if training is None:
        created = aijob.metadata.creation_timestamp or now
        left = grace_seconds - (now - created).total_seconds()
        if left > 0:
            return Dependency(
                DependencyState.WAITING,
                message=f"training job {name} does not exist (yet); waiting up to {left:.0f}s",
                retry_after=left,
            )
        return Dependency(
            DependencyState.FAILED,
            message=f"training job {name} does not exist in this namespace",
        )
    if training.spec.task is not Task.TRAINING:
        return Dependency(
            DependencyState.FAILED, message=f"{name} is a {training.spec.task} job, not training"
        )
    phase = training.status.phase
    if phase is Phase.SUCCEEDED:
        results = training.status.results
        if results is None or not results.model_uri:
            return Dependency(
                DependencyState.FAILED,
                message=f"training job {name} succeeded but recorded no results.modelUri",
            )
        return Dependency(DependencyState.READY, model_uri=results.model_uri)
    if phase in (Phase.FAILED, Phase.CANCELLED):
        detail = f": {training.status.message}" if training.status.message else ""
        return Dependency(
            DependencyState.FAILED, message=f"training job {name} ended {phase.value}{detail}"
        )
    return Dependency(
        DependencyState.WAITING,
        message=f"waiting for training job {name} to succeed (it is {phase or 'new'})",
    )
