"""The AIJob spec: what to run (task, model, data, resources, priority, retries).

The spec is written by users (directly, through the gateway or the CLI) and never by
aijob. Its CEL rules (per task, exactly one of two sources, immutability) are attached
with `json_schema_extra` next to the fields they guard, and mirrored by validators so
clients that import `aijob_api` get the same error before the API server does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aijob_api.cel import exactly_one_rule, immutability_rule
from aijob_api.metadata import PodTemplateMetadata
from aijob_api.priority import Priority
from aijob_api.routing import Framework, model_type_description, route_framework
from aijob_api.validation import DNS_LABEL_PATTERN, MODEL_TYPE_PATTERN, QUANTITY_PATTERN
from aijob_api.wire import WireModel

MAX_GPUS: Final = 64
"""Upper bound on GPUs one job may ask for (a sane ceiling for one pod)."""
MAX_RETRIES: Final = 10
DEFAULT_MAX_RETRIES: Final = 2
MAX_TIMEOUT_SECONDS: Final = 7 * 24 * 3600
MAX_INLINE_RECORDS: Final = 1000
"""Inline inference records are for small inputs; larger ones go in a file."""
URI_PATTERN: Final = r"^(file|s3)://.+"
FRAMEWORK_VERSION_PATTERN: Final = r"^[0-9A-Za-z][0-9A-Za-z._-]*$"
"""A runtime version of the catalog, e.g. 1.9 or 2.15."""

ModelTypeName = Annotated[
    str,
    Field(
        description=model_type_description(),
        min_length=1,
        max_length=63,
        pattern=MODEL_TYPE_PATTERN,
    ),
]
"""A model type of the table in `aijob_api.routing` (AIJobs and AIEndpoints name them alike)."""


class Task(StrEnum):
    """What a job does."""

    TRAINING = "training"
    INFERENCE = "inference"


class ModelSource(WireModel):
    """Where an inference job takes its model from: a finished training AIJob or a URI."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                exactly_one_rule(
                    "trainingJob", "uri", "model.source needs exactly one of trainingJob or uri"
                )
            ]
        }
    )

    training_job: Annotated[
        str | None,
        Field(
            description="Name of a training AIJob in the same namespace whose model to use.",
            max_length=63,
            pattern=DNS_LABEL_PATTERN,
        ),
    ] = None
    uri: Annotated[
        str | None,
        Field(
            description="URI of a saved model (file:///path or s3://bucket/key).",
            max_length=2048,
            pattern=URI_PATTERN,
        ),
    ] = None


class ModelSpec(WireModel):
    """The model to train or to run."""

    type: ModelTypeName
    name: Annotated[
        str | None,
        Field(description="A human name for the model, kept with its artifacts.", max_length=253),
    ] = None
    hyperparameters: Annotated[
        dict[str, Any],
        Field(
            description=(
                "Hyperparameters passed to the trainer, e.g. epochs, learningRate, batchSize, "
                "seed; each runner documents the ones it reads."
            ),
        ),
    ] = Field(default_factory=dict)
    source: Annotated[
        ModelSource | None,
        Field(description="For inference: the model to load."),
    ] = None


class DatasetSpec(WireModel):
    """Training data: a data set bundled with the framework, or a CSV file."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                exactly_one_rule("name", "uri", "dataset needs exactly one of name or uri")
            ]
        }
    )

    name: Annotated[
        str | None,
        Field(
            description="A bundled data set: iris, digits, wine, breast_cancer, or a text set.",
            max_length=63,
            pattern=MODEL_TYPE_PATTERN,
        ),
    ] = None
    uri: Annotated[
        str | None,
        Field(
            description="A CSV file (file:///path or s3://bucket/key).",
            max_length=2048,
            pattern=URI_PATTERN,
        ),
    ] = None
    target_column: Annotated[
        str | None,
        Field(
            description="The label column of a CSV data set (default: the last).", max_length=253
        ),
    ] = None
    test_fraction: Annotated[
        float,
        Field(description="Share of rows held out for evaluation.", gt=0, lt=1),
    ] = 0.2


class InferenceInput(WireModel):
    """Input of an inference job: inline records (small) or a file."""

    # Not a CEL rule: records hold any JSON (numbers, lists, objects, strings), which CEL
    # cannot type, so a rule could not name the field. Plain OpenAPI can: exactly one of.
    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["records"]}, {"required": ["uri"]}]}
    )

    records: Annotated[
        list[Any] | None,
        Field(
            description="Inline records: feature lists, objects, or strings for text models.",
            max_length=MAX_INLINE_RECORDS,
        ),
    ] = None
    uri: Annotated[
        str | None,
        Field(
            description="A CSV or JSON-lines file of records (file:///path or s3://bucket/key).",
            max_length=2048,
            pattern=URI_PATTERN,
        ),
    ] = None
    batch_size: Annotated[
        int,
        Field(description="Records per inference batch.", ge=1, le=100_000),
    ] = 64


class ResourceSpec(WireModel):
    """Compute resources of the worker pod."""

    gpu: Annotated[
        int,
        Field(description="Number of nvidia.com/gpu to request.", ge=0, le=MAX_GPUS),
    ] = 0
    cpu: Annotated[
        str | None,
        Field(
            description="CPU request and limit as a Kubernetes quantity (e.g. 500m, 2).",
            max_length=32,
            pattern=QUANTITY_PATTERN,
        ),
    ] = None
    memory: Annotated[
        str | None,
        Field(
            description="Memory request and limit as a Kubernetes quantity (e.g. 512Mi, 4Gi).",
            max_length=32,
            pattern=QUANTITY_PATTERN,
        ),
    ] = None


class RetryPolicy(WireModel):
    """How often a failed attempt is retried (bad input never is)."""

    max_retries: Annotated[
        int,
        Field(
            description="Attempts after the first one; becomes the Job's backoffLimit.",
            ge=0,
            le=MAX_RETRIES,
        ),
    ] = DEFAULT_MAX_RETRIES


IMMUTABLE_SPEC_FIELDS: Final = (
    "task",
    "framework",
    "frameworkVersion",
    "model",
    "dataset",
    "input",
    "resources",
    "priority",
    "retryPolicy",
    "timeoutSeconds",
    "queue",
    "podTemplate",
)
"""Spec fields that cannot change once the job exists (only cancel and the TTL may)."""


class AIJobSpec(WireModel):
    """What to run: task, model, data, resources, priority and retries."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.task != 'inference' || has(self.model.source)",
                    "message": "an inference job needs model.source (trainingJob or uri)",
                    "fieldPath": ".model.source",
                },
                {
                    "rule": "self.task != 'inference' || has(self.input)",
                    "message": "an inference job needs input (records or uri)",
                    "fieldPath": ".input",
                },
                {
                    "rule": "self.task != 'training' || has(self.dataset)",
                    "message": "a training job needs a dataset (name or uri)",
                    "fieldPath": ".dataset",
                },
                *[immutability_rule(field) for field in IMMUTABLE_SPEC_FIELDS],
            ]
        }
    )

    task: Annotated[
        Task,
        Field(description="training or inference."),
    ]
    framework: Annotated[
        Framework | None,
        Field(
            description="Framework runtime; routed from model.type when left out.",
        ),
    ] = None
    framework_version: Annotated[
        str | None,
        Field(
            description=(
                "Runtime version from the runtime catalog; the catalog default if left out."
            ),
            max_length=32,
            pattern=FRAMEWORK_VERSION_PATTERN,
        ),
    ] = None
    model: Annotated[
        ModelSpec,
        Field(description="The model to train or run."),
    ]
    dataset: Annotated[
        DatasetSpec | None,
        Field(description="Training data."),
    ] = None
    input: Annotated[
        InferenceInput | None,
        Field(description="Inference input."),
    ] = None
    resources: Annotated[
        ResourceSpec,
        Field(description="GPUs, CPU and memory of the worker.", json_schema_extra={"default": {}}),
    ] = Field(default_factory=ResourceSpec)
    priority: Annotated[
        Priority,
        Field(
            description="high, normal or low; mapped to a PriorityClass.",
        ),
    ] = Priority.NORMAL
    retry_policy: Annotated[
        RetryPolicy,
        Field(description="Retries of failed attempts.", json_schema_extra={"default": {}}),
    ] = Field(default_factory=RetryPolicy)
    timeout_seconds: Annotated[
        int | None,
        Field(
            description="Wall-clock limit of the whole job (all attempts), in seconds.",
            ge=1,
            le=MAX_TIMEOUT_SECONDS,
        ),
    ] = None
    ttl_seconds_after_finished: Annotated[
        int | None,
        Field(
            description="Delete the AIJob (and all it owns) this many seconds after it finished.",
            ge=0,
            le=MAX_TIMEOUT_SECONDS,
        ),
    ] = None
    queue: Annotated[
        str | None,
        Field(
            description="Kueue LocalQueue to submit the Job to; the Job is created suspended.",
            max_length=63,
            pattern=DNS_LABEL_PATTERN,
        ),
    ] = None
    pod_template: Annotated[
        PodTemplateMetadata | None,
        Field(description="Extra labels and annotations for the worker pods."),
    ] = None
    cancel: Annotated[
        bool,
        Field(
            description=(
                "Set to true to cancel: the pods stop, the record stays with phase Cancelled. "
                "Cannot be set back to false."
            ),
            json_schema_extra={
                "x-kubernetes-validations": [
                    {
                        "rule": "self || !oldSelf",
                        "message": "a cancelled job cannot be un-cancelled",
                    }
                ]
            },
        ),
    ] = False

    @model_validator(mode="after")
    def _check_task_fields(self) -> AIJobSpec:
        """Mirror the CEL rules, so clients get the same error before the API server."""
        if self.task is Task.INFERENCE:
            if self.model.source is None:
                raise ValueError("model.source: an inference job needs trainingJob or uri")
            if self.input is None:
                raise ValueError("input: an inference job needs records or uri")
        if self.task is Task.TRAINING and self.dataset is None:
            raise ValueError("dataset: a training job needs a dataset (name or uri)")
        for name, part in (
            ("model.source", self.model.source),
            ("dataset", self.dataset),
            ("input", self.input),
        ):
            if part is None:
                continue
            first, second = _exclusive_pair(part)
            if (getattr(part, first) is None) == (getattr(part, second) is None):
                raise ValueError(f"{name}: needs exactly one of {first} or {second}")
        return self

    @property
    def resolved_framework(self) -> Framework:
        """The framework the job runs on: explicit, or routed from the model type."""
        return route_framework(self.model.type, self.framework)


def _exclusive_pair(part: BaseModel) -> tuple[str, str]:
    if isinstance(part, ModelSource):
        return ("training_job", "uri")
    if isinstance(part, DatasetSpec):
        return ("name", "uri")
    return ("records", "uri")
