"""Pydantic models of the AIJob resource: the single source of truth for its schema.

Python reads snake_case, the wire and YAML read camelCase. The CRD in `crds/` is
generated from these models (see `aijob_api.crd`); CEL rules that the API server
enforces are attached here with `json_schema_extra`, next to the fields they guard.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from aijob_api.conditions import ConditionType, Phase
from aijob_api.constants import KIND
from aijob_api.routing import Framework, route_framework

MAX_GPUS: Final = 64
"""Upper bound on GPUs one job may ask for (a sane ceiling for one pod)."""
MAX_RETRIES: Final = 10
DEFAULT_MAX_RETRIES: Final = 2
MAX_TIMEOUT_SECONDS: Final = 7 * 24 * 3600
MAX_INLINE_RECORDS: Final = 1000
"""Inline inference records are for small inputs; larger ones go in a file."""

QUANTITY_PATTERN: Final = (
    r"^(\+)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
"""A non-negative Kubernetes resource quantity such as `500m`, `2`, `4Gi`, `1e3`."""
DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
MODEL_TYPE_PATTERN: Final = r"^[a-z][a-z0-9_]*$"


class WireModel(BaseModel):
    """Base of every wire model: camelCase aliases, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=False,
    )


class Task(StrEnum):
    """What a job does."""

    TRAINING = "training"
    INFERENCE = "inference"


class Priority(StrEnum):
    """Scheduling priority; each maps to a PriorityClass."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class ModelSource(WireModel):
    """Where an inference job takes its model from: a finished training AIJob or a URI."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.trainingJob) != has(self.uri)",
                    "message": "model.source needs exactly one of trainingJob or uri",
                }
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
            pattern=r"^(file|s3)://.+",
        ),
    ] = None


class ModelSpec(WireModel):
    """The model to train or to run."""

    type: Annotated[
        str,
        Field(
            description=(
                "Model type: random_forest, svm, logistic_regression, gradient_boosting "
                "(sklearn); mlp, cnn, resnet, vgg, alexnet, bert, distilbert, gpt, "
                "transformer, text_classifier (pytorch); keras_dense, keras_cnn, mobilenet, "
                "efficientnet, inception (tensorflow). Routes the framework when "
                "spec.framework is left out; the runtime catalog names what each image serves."
            ),
            min_length=1,
            max_length=63,
            pattern=MODEL_TYPE_PATTERN,
        ),
    ]
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
                {
                    "rule": "has(self.name) != has(self.uri)",
                    "message": "dataset needs exactly one of name or uri",
                }
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
            pattern=r"^(file|s3)://.+",
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
            pattern=r"^(file|s3)://.+",
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


MAX_POD_METADATA_ENTRIES: Final = 32
RESERVED_LABEL_PREFIXES: Final = ("aijob.dev/", "batch.kubernetes.io/", "kueue.x-k8s.io/")
"""Label prefixes the operator and the Job controller own on worker pods."""
_LABEL_KEY_PATTERN: Final = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE_PATTERN: Final = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


class PodTemplateMetadata(WireModel):
    """Extra metadata for the worker pods: for service meshes, log shippers, cost labels."""

    labels: Annotated[
        dict[str, str],
        Field(
            description=(
                "Labels added to each worker pod. Keys under aijob.dev/, batch.kubernetes.io/ "
                "and kueue.x-k8s.io/ are reserved."
            ),
            max_length=MAX_POD_METADATA_ENTRIES,
            json_schema_extra={
                "x-kubernetes-validations": [
                    {
                        "rule": (
                            "self.all(k, !k.startsWith('aijob.dev/') && "
                            "!k.startsWith('batch.kubernetes.io/') && "
                            "!k.startsWith('kueue.x-k8s.io/'))"
                        ),
                        "message": (
                            "label keys under aijob.dev/, batch.kubernetes.io/ and "
                            "kueue.x-k8s.io/ are reserved"
                        ),
                    }
                ],
                "additionalProperties": {"type": "string", "maxLength": 63},
            },
        ),
    ] = Field(default_factory=dict)
    annotations: Annotated[
        dict[str, str],
        Field(
            description=(
                "Annotations added to each worker pod (the operator's own keys win on a clash)."
            ),
            max_length=MAX_POD_METADATA_ENTRIES,
            json_schema_extra={"additionalProperties": {"type": "string", "maxLength": 4096}},
        ),
    ] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_labels(self) -> PodTemplateMetadata:
        """Reject label keys and values the API server would refuse on the pod."""
        for key, value in self.labels.items():
            if key.startswith(RESERVED_LABEL_PREFIXES):
                raise ValueError(f"podTemplate.labels: the key {key!r} uses a reserved prefix")
            if len(key.rpartition("/")[2]) > 63 or not _LABEL_KEY_PATTERN.match(key):
                raise ValueError(f"podTemplate.labels: {key!r} is not a valid label key")
            if not _LABEL_VALUE_PATTERN.match(value):
                raise ValueError(f"podTemplate.labels[{key!r}]: {value!r} is not a valid value")
        for key in self.annotations:
            if len(key.rpartition("/")[2]) > 63 or not _LABEL_KEY_PATTERN.match(key):
                raise ValueError(f"podTemplate.annotations: {key!r} is not a valid key")
        return self


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


def _immutability_rule(field: str) -> dict[str, Any]:
    return {
        "rule": (
            f"has(self.{field}) == has(oldSelf.{field}) && "
            f"(!has(self.{field}) || self.{field} == oldSelf.{field})"
        ),
        "message": f"spec.{field} is immutable",
        "fieldPath": f".{field}",
        "reason": "FieldValueForbidden",
    }


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
                *[_immutability_rule(field) for field in IMMUTABLE_SPEC_FIELDS],
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
            pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$",
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


class Condition(WireModel):
    """A standard Kubernetes condition."""

    type: Annotated[ConditionType, Field(description="Condition type.")]
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
    upload_ms: Annotated[
        float | None, Field(description="Writing results and artifacts.", ge=0)
    ] = None


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


class AIJobStatus(WireModel):
    """What is happening to the job, written by the operator and (progress, results) the worker."""

    phase: Annotated[Phase | None, Field(description="One-word state.")] = None
    reason: Annotated[
        str | None, Field(description="CamelCase reason of the phase.", max_length=1024)
    ] = None
    message: Annotated[
        str | None,
        Field(description="Why it waits or why it failed, in words.", max_length=32768),
    ] = None
    conditions: Annotated[
        list[Condition],
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
        Framework | None, Field(description="The framework the job runs on (after routing).")
    ] = None
    framework_version: Annotated[
        str | None, Field(description="The runtime version used.", max_length=32)
    ] = None
    image: Annotated[str | None, Field(description="Worker image.", max_length=1024)] = None
    attempts: Annotated[int, Field(description="Worker pods started so far.", ge=0)] = 0
    failed_attempts: Annotated[
        int, Field(description="Attempts that failed (disruptions not counted).", ge=0)
    ] = 0
    job_name: Annotated[str | None, Field(description="The child Job.", max_length=253)] = None
    pod_name: Annotated[
        str | None, Field(description="The current or last worker pod.", max_length=253)
    ] = None
    node_name: Annotated[
        str | None, Field(description="The node of the current or last pod.", max_length=253)
    ] = None
    exit_code: Annotated[
        int | None, Field(description="Exit code of the last finished worker container.")
    ] = None
    start_time: Annotated[datetime | None, Field(description="When a worker first ran.")] = None
    completion_time: Annotated[datetime | None, Field(description="When the job finished.")] = None
    queued_at: Annotated[datetime | None, Field(description="When the job was accepted.")] = None
    observed_generation: Annotated[
        int | None, Field(description="The spec generation the status reflects.")
    ] = None
    progress: Annotated[Progress | None, Field(description="Live progress.")] = None
    results: Annotated[Results | None, Field(description="Results of a finished job.")] = None
    checkpoint: Annotated[Checkpoint | None, Field(description="Last saved checkpoint.")] = None
    kopf: Annotated[
        dict[str, Any] | None,
        Field(description="Bookkeeping of the operator framework (kopf); not for users."),
    ] = None


class ObjectMeta(BaseModel):
    """The part of Kubernetes object metadata aijob reads."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    generation: int | None = None
    resource_version: str | None = None
    creation_timestamp: datetime | None = None
    deletion_timestamp: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class AIJob(BaseModel):
    """The AIJob custom resource."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    api_version: Literal["aijob.dev/v1alpha1"] = "aijob.dev/v1alpha1"
    kind: Literal["AIJob"] = KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AIJobSpec
    status: AIJobStatus = Field(default_factory=AIJobStatus)

    def to_manifest(self) -> dict[str, Any]:
        """The object as the API server wants it (camelCase, no empty fields)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
