"""Inference jobs and endpoints that load a model from a training AIJob: wait, go, or fail.

`store_problem` keeps every URI a job names, and the model its training job recorded,
inside the tenant's own store (`aijob_api.storage`), and `endpoint_store_problem` an
AIEndpoint's model; `trainingJob` is a name, so it resolves in the own namespace only.

An inference job (or an AIEndpoint) naming `spec.model.source.trainingJob` waits in
Pending until that job succeeded, then loads the training job's
`status.results.modelUri`. It fails when the training job failed, was cancelled, is
not a training job, or still does not exist after a grace period (it may be created
just after the job or endpoint that names it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from aijob_api import contract
from aijob_api.conditions import Phase
from aijob_api.endpoint import AIEndpoint
from aijob_api.models import AIJob, ModelSource, Task
from aijob_api.storage import TenantStore, spec_uri_problem, uri_problem
from pydantic import ValidationError


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
    found: bool = True
    """False when the training job named does not exist."""
    model_checksum: str | None = None
    """The SHA-256 of the model's manifest, when the training job recorded it."""
    training_job: str | None = None
    training_job_uid: str | None = None


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
    return resolve_model_source(
        source, aijob.metadata.creation_timestamp, training, now, grace_seconds
    )


def resolve_model_source(
    source: ModelSource,
    created: datetime | None,
    training: AIJob | None,
    now: datetime,
    grace_seconds: float,
) -> Dependency:
    """The model a source names, given the training AIJob it names (or None), for an object
    created at `created` (the grace for a missing training job counts from then)."""
    if source.uri is not None:
        return Dependency(DependencyState.READY, model_uri=source.uri)
    name = source.training_job
    if training is None:
        left = grace_seconds - (now - (created or now)).total_seconds()
        if left > 0:
            return Dependency(
                DependencyState.WAITING,
                message=f"training job {name} does not exist (yet); waiting up to {left:.0f}s",
                retry_after=left,
                found=False,
            )
        return Dependency(
            DependencyState.FAILED,
            message=f"training job {name} does not exist in this namespace",
            found=False,
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
        manifest = next(
            (item for item in results.artifacts if item.name == contract.MODEL_MANIFEST_ARTIFACT),
            None,
        )
        return Dependency(
            DependencyState.READY,
            model_uri=results.model_uri,
            model_checksum=manifest.sha256 if manifest is not None else None,
            training_job=name,
            training_job_uid=training.metadata.uid,
        )
    if phase in (Phase.FAILED, Phase.CANCELLED):
        detail = f": {training.status.message}" if training.status.message else ""
        return Dependency(
            DependencyState.FAILED, message=f"training job {name} ended {phase.value}{detail}"
        )
    return Dependency(
        DependencyState.WAITING,
        message=f"waiting for training job {name} to succeed (it is {phase or 'new'})",
    )


def store_problem(
    aijob: AIJob, dependency: Dependency, store_of: Callable[[str], TenantStore]
) -> str | None:
    """Why a job reaches outside its tenant's store (the message names the field), or None.

    `store_of` gives a namespace's store; a namespace that makes no valid bucket name is
    itself the problem.
    """
    try:
        store = store_of(aijob.metadata.namespace or "")
    except ValueError as error:
        return f"no artifact store for this namespace: {error}"
    found = spec_uri_problem(aijob.spec, store)
    if found is not None:
        return found[1]
    return _recorded_model_problem(dependency, store)


def endpoint_store_problem(
    endpoint: AIEndpoint, dependency: Dependency, store_of: Callable[[str], TenantStore]
) -> str | None:
    """Why an AIEndpoint's model lies outside its tenant's store (naming the field), or None.

    The same rule as a job's: `spec.model.source.uri`, or the model its training job
    recorded, must be inside the store of the endpoint's namespace.
    """
    try:
        store = store_of(endpoint.metadata.namespace or "")
    except ValueError as error:
        return f"no artifact store for this namespace: {error}"
    uri = endpoint.spec.model.source.uri
    if uri is not None and (problem := uri_problem(uri, store)) is not None:
        return f"spec.model.source.uri: {uri!r}: {problem}"
    return _recorded_model_problem(dependency, store)


def _recorded_model_problem(dependency: Dependency, store: TenantStore) -> str | None:
    if dependency.model_uri and dependency.training_job:
        problem = uri_problem(dependency.model_uri, store)
        if problem is not None:
            return (
                f"status.results.modelUri of training job {dependency.training_job}: "
                f"{dependency.model_uri!r}: {problem}"
            )
    return None


def dependency_in(
    aijob: AIJob,
    body_of: Callable[[str], Mapping[str, Any] | None],
    now: datetime,
    grace_seconds: float,
) -> Dependency:
    """`resolve_dependency` with the training job read by name from a cache (`body_of`);
    a body the models refuse counts as none."""
    if aijob.spec.model.source is None:
        return NO_DEPENDENCY
    training = training_job_name(aijob)
    training_job = None
    if training is not None:
        body = body_of(training)
        if body is not None:
            try:
                training_job = AIJob.model_validate(body)
            except ValidationError:
                training_job = None
    return resolve_dependency(aijob, training_job, now, grace_seconds)
