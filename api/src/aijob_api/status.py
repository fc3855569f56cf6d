"""The AIJob status, and who writes each part of it: the operator or the worker.

Every field of `AIJobStatus` carries one `WrittenBy` mark. The operator compares and
patches only its own share (`OPERATOR_STATUS_FIELDS`), the worker runtime patches only
its share (`WORKER_STATUS_FIELDS`), so neither overwrites the other; importing this
module fails if a field has no owner or two. One documented crossing: on success the
operator sets `progress.percent` to 100 (a nested merge patch of that one key), since a
job that succeeded is done whether or not its worker said so last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, Field

from aijob_api.conditions import ConditionType, Phase
from aijob_api.distributed import GroupStatus
from aijob_api.metric_history import MetricHistory
from aijob_api.routing import Framework
from aijob_api.stall import StallStatus
from aijob_api.wire import WireModel


class StatusOwner(StrEnum):
    """Who writes a part of the status."""

    OPERATOR = "operator"
    """The operator: the phase and why, conditions, the runtime, the Job and pods, times.
    (kopf, which runs inside the operator, keeps its own bookkeeping under `kopf`.)"""
    WORKER = "worker"
    """The worker in the job's pod: progress, results, the last checkpoint, metric history,
    and (a distributed job) each rank's progress."""
    GATEWAY = "gateway"
    """The gateway, which dispatches an AIEndpoint's requests: the load it sees."""


@dataclass(frozen=True)
class WrittenBy:
    """The mark on a status field that names its writer (pydantic keeps it, the schema not)."""

    owner: StatusOwner


BY_OPERATOR: Final = WrittenBy(StatusOwner.OPERATOR)
BY_WORKER: Final = WrittenBy(StatusOwner.WORKER)
BY_GATEWAY: Final = WrittenBy(StatusOwner.GATEWAY)


class StandardCondition(WireModel):
    """The standard Kubernetes condition shape; each resource narrows `type` to its own types."""

    type: Annotated[str, Field(description="Condition type.", max_length=316)]
    status: Annotated[
        Literal["True", "False", "Unknown"], Field(description="True, False or Unknown.")
    ]
    reason: Annotated[str, Field(description="CamelCase reason.", max_length=1024)] = ""
    message: Annotated[str, Field(description="Human-readable detail.", max_length=32768)] = ""
    last_transition_time: Annotated[
        datetime | None, Field(description="When the status last changed.")
    ] = None
    observed_generation: Annotated[
        int | None, Field(description="The spec generation this condition was computed from.")
    ] = None


class Condition(StandardCondition):
    """A standard Kubernetes condition."""

    type: Annotated[ConditionType, Field(description="Condition type.")]


class Progress(WireModel):
    """Live progress, written by the worker (throttled)."""

    percent: Annotated[int | None, Field(description="Percent done, 0 to 100.", ge=0, le=100)] = (
        None
    )
    epoch: Annotated[int | None, Field(description="Current epoch (1-based).", ge=0)] = None
    total_epochs: Annotated[int | None, Field(description="Epochs planned.", ge=0)] = None
    step: Annotated[int | None, Field(description="Current step within the run.", ge=0)] = None
    total_steps: Annotated[int | None, Field(description="Steps planned.", ge=0)] = None
    metrics: Annotated[
        dict[str, float], Field(description="Latest metrics, e.g. loss, accuracy.")
    ] = Field(default_factory=dict)
    eta_seconds: Annotated[
        float | None, Field(description="Estimated seconds until the end.", ge=0)
    ] = None
    stage: Annotated[
        str | None, Field(description="What the worker is doing now.", max_length=253)
    ] = None
    updated_at: Annotated[datetime | None, Field(description="When the worker wrote this.")] = None


class Artifact(WireModel):
    """A file the worker wrote through the storage layer."""

    name: Annotated[str, Field(description="Artifact name, e.g. model.", max_length=253)]
    uri: Annotated[str, Field(description="Where it is stored.", max_length=2048)]
    sha256: Annotated[str | None, Field(description="SHA-256 of its content.", max_length=64)] = (
        None
    )
    size_bytes: Annotated[int | None, Field(description="Size in bytes.", ge=0)] = None


class StageTimings(WireModel):
    """Per-stage timings in milliseconds, as the seed inference server reported them."""

    prepare_ms: Annotated[float | None, Field(description="Loading model and input.", ge=0)] = None
    train_ms: Annotated[float | None, Field(description="Training.", ge=0)] = None
    infer_ms: Annotated[float | None, Field(description="Running the model.", ge=0)] = None
    postprocess_ms: Annotated[
        float | None,
        Field(description="Turning the model's outputs into results (jobs on an endpoint).", ge=0),
    ] = None
    upload_ms: Annotated[
        float | None, Field(description="Writing results and artifacts.", ge=0)
    ] = None


MAX_STATUS_RESULTS_BYTES: Final = 64 * 1024
"""Largest `status.results` a worker writes, as compact JSON. Larger results (many or large
inline outputs, many metrics) are written whole to `<artifact URI>/results.json`; the status
then holds what fits, and `results.resultsUri` names the file."""
RESULTS_FILE: Final = "results.json"
"""The file below a job's artifact URI holding results too large for the status."""


class Results(WireModel):
    """What a finished job produced."""

    metrics: Annotated[
        dict[str, float], Field(description="Final metrics, e.g. accuracy on held-out data.")
    ] = Field(default_factory=dict)
    model_uri: Annotated[
        str | None, Field(description="Where the trained model is stored.", max_length=2048)
    ] = None
    artifacts: Annotated[
        list[Artifact], Field(description="Files written, with checksums.", max_length=64)
    ] = Field(default_factory=list)
    outputs: Annotated[
        list[Any] | None,
        Field(description="Small outputs, e.g. predictions of a small inference input."),
    ] = None
    output_uri: Annotated[
        str | None, Field(description="Where large outputs were written.", max_length=2048)
    ] = None
    results_uri: Annotated[
        str | None,
        Field(
            description=(
                "Where the whole results were written when they were too large for the status "
                "(over 64 KiB as JSON); the status then holds only what fits."
            ),
            max_length=2048,
        ),
    ] = None
    timings: Annotated[
        StageTimings | None, Field(description="Per-stage timings in milliseconds.")
    ] = None
    device: Annotated[
        str | None, Field(description="Device the work ran on: cpu or cuda:N.", max_length=63)
    ] = None


class Checkpoint(WireModel):
    """The last checkpoint a worker saved; the next attempt resumes from it."""

    uri: Annotated[str, Field(description="Where the checkpoint is stored.", max_length=2048)]
    epoch: Annotated[int | None, Field(description="Epochs completed in it.", ge=0)] = None
    step: Annotated[int | None, Field(description="Steps completed in it.", ge=0)] = None
    saved_at: Annotated[datetime | None, Field(description="When it was saved.")] = None


MAX_STATUS_RANKS: Final = 1024
"""Most ranks `status.ranks` holds (a job's nodes times its processes per node)."""


class AIJobStatus(WireModel):
    """What is happening to the job, written by the operator and (progress, results) the worker."""

    phase: Annotated[Phase | None, BY_OPERATOR, Field(description="One-word state.")] = None
    reason: Annotated[
        str | None,
        BY_OPERATOR,
        Field(description="CamelCase reason of the phase.", max_length=1024),
    ] = None
    message: Annotated[
        str | None,
        BY_OPERATOR,
        Field(description="Why it waits or why it failed, in words.", max_length=32768),
    ] = None
    conditions: Annotated[
        list[Condition],
        BY_OPERATOR,
        Field(
            description="Standard conditions.",
            max_length=16,
            json_schema_extra={
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
            },
        ),
    ] = Field(default_factory=list)
    framework: Annotated[
        Framework | None,
        BY_OPERATOR,
        Field(description="The framework the job runs on (after routing)."),
    ] = None
    framework_version: Annotated[
        str | None, BY_OPERATOR, Field(description="The runtime version used.", max_length=32)
    ] = None
    image: Annotated[
        str | None, BY_OPERATOR, Field(description="Worker image.", max_length=1024)
    ] = None
    attempts: Annotated[
        int, BY_OPERATOR, Field(description="Worker pods started so far.", ge=0)
    ] = 0
    failed_attempts: Annotated[
        int, BY_OPERATOR, Field(description="Attempts that failed (disruptions not counted).", ge=0)
    ] = 0
    job_name: Annotated[
        str | None, BY_OPERATOR, Field(description="The child Job.", max_length=253)
    ] = None
    pod_name: Annotated[
        str | None,
        BY_OPERATOR,
        Field(description="The current or last worker pod.", max_length=253),
    ] = None
    node_name: Annotated[
        str | None,
        BY_OPERATOR,
        Field(description="The node of the current or last pod.", max_length=253),
    ] = None
    exit_code: Annotated[
        int | None,
        BY_OPERATOR,
        Field(description="Exit code of the last finished worker container."),
    ] = None
    start_time: Annotated[
        datetime | None, BY_OPERATOR, Field(description="When a worker first ran.")
    ] = None
    completion_time: Annotated[
        datetime | None, BY_OPERATOR, Field(description="When the job finished.")
    ] = None
    queued_at: Annotated[
        datetime | None, BY_OPERATOR, Field(description="When the job was accepted.")
    ] = None
    observed_generation: Annotated[
        int | None, BY_OPERATOR, Field(description="The spec generation the status reflects.")
    ] = None
    stall: Annotated[
        StallStatus | None,
        BY_OPERATOR,
        Field(description="Attempts ended because their worker stopped reporting."),
    ] = None
    group: Annotated[
        GroupStatus | None,
        BY_OPERATOR,
        Field(
            description=(
                "A distributed or multi-process job's group: nodes, processes per node, pods "
                "and running pods of the current attempt, group restarts."
            )
        ),
    ] = None
    progress: Annotated[Progress | None, BY_WORKER, Field(description="Live progress.")] = None
    results: Annotated[
        Results | None, BY_WORKER, Field(description="Results of a finished job.")
    ] = None
    checkpoint: Annotated[
        Checkpoint | None, BY_WORKER, Field(description="Last saved checkpoint.")
    ] = None
    metric_history: Annotated[
        MetricHistory | None,
        BY_WORKER,
        Field(
            description=(
                "Each metric's series (loss, accuracy...) by step or epoch, downsampled to at "
                "most 200 points per series and 8 series."
            )
        ),
    ] = None
    ranks: Annotated[
        dict[str, Progress] | None,
        BY_WORKER,
        Field(
            description=(
                "A distributed job's progress per process, by global rank ('0', '1', ...): "
                "each rank writes only its own key; rank 0 also writes `progress`."
            ),
            max_length=MAX_STATUS_RANKS,
        ),
    ] = None
    kopf: Annotated[
        dict[str, Any] | None,
        BY_OPERATOR,
        Field(description="Bookkeeping of the operator framework (kopf); not for users."),
    ] = None


def field_owners(model: type[BaseModel]) -> dict[str, StatusOwner]:
    """Each field of a status model and its writer; TypeError if one has no mark or two."""
    owners: dict[str, StatusOwner] = {}
    for name, info in model.model_fields.items():
        marks = [mark.owner for mark in info.metadata if isinstance(mark, WrittenBy)]
        if len(marks) != 1:
            raise TypeError(
                f"{model.__name__}.{name} needs exactly one WrittenBy mark, has {len(marks)}"
            )
        owners[name] = marks[0]
    return owners


STATUS_OWNERS: Final = field_owners(AIJobStatus)
"""Each status field (Python name) and who writes it."""


def status_fields(
    owner: StatusOwner, *, by_alias: bool = False, model: type[BaseModel] = AIJobStatus
) -> tuple[str, ...]:
    """The fields of a status model (the AIJob's by default) that `owner` writes: Python
    names, or camelCase wire names."""
    fields = model.model_fields
    return tuple(
        (fields[name].alias or name) if by_alias else name
        for name, writer in field_owners(model).items()
        if writer is owner
    )


OPERATOR_STATUS_FIELDS: Final = status_fields(StatusOwner.OPERATOR)
"""The operator's share of the status (Python names)."""
WORKER_STATUS_FIELDS: Final = status_fields(StatusOwner.WORKER)
"""The worker's share of the status (Python names; wire names with `by_alias`)."""
