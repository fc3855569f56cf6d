"""The AIJob spec: what to run (task, model, data, resources, priority, retries).

The spec is written by users (directly, through the gateway or the CLI) and never by
aijob. Its CEL rules (per task, exactly one of two sources, immutability, an endpoint
for inference only) are attached with `json_schema_extra` next to the fields they
guard, and mirrored by validators so clients that import `aijob_api` get the same
error before the API server does. What jobs take in (model source, data set, inference
input) is `aijob_api.inputs`, re-exported here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import ConfigDict, Field, model_validator

from aijob_api.cel import immutability_rule
from aijob_api.code import CODE_SPEC_RULES, CodeSpec, code_problem
from aijob_api.compute import (
    DEFAULT_MAX_RETRIES,
    MAX_GPUS,
    MAX_RETRIES,
    ResourceSpec,
    RetryPolicy,
)
from aijob_api.constants import ENDPOINT_MAX_NAME_LENGTH
from aijob_api.contract import SPEC_ANNOTATION
from aijob_api.delivery import spec_delivery_problem
from aijob_api.distributed import (
    DISTRIBUTED_SPEC_RULES,
    DistributedSpec,
    distributed_problem,
)
from aijob_api.environment import (
    EnvField,
    EnvFromField,
    PlacementField,
    VolumesField,
    environment_problem,
)
from aijob_api.inputs import (
    MAX_INLINE_RECORDS,
    URI_PATTERN,
    DatasetSpec,
    InferenceInput,
    ModelSource,
    exclusive_pair,
)
from aijob_api.metadata import PodTemplateMetadata
from aijob_api.model_spec import ModelSpec, ModelTypeName
from aijob_api.pretrained import PRETRAINED_SPEC_RULES, PretrainedModel, pretrained_problem
from aijob_api.priority import Priority
from aijob_api.routing import Framework, route_framework
from aijob_api.stall import StallPolicy
from aijob_api.validation import (
    DNS_1035_LABEL_PATTERN,
    DNS_LABEL_PATTERN,
)
from aijob_api.wire import WireModel

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "FRAMEWORK_VERSION_PATTERN",
    "IMMUTABLE_SPEC_FIELDS",
    "MAX_GPUS",
    "MAX_INLINE_RECORDS",
    "MAX_RETRIES",
    "MAX_TIMEOUT_SECONDS",
    "URI_PATTERN",
    "AIJobSpec",
    "CodeSpec",
    "DatasetSpec",
    "DistributedSpec",
    "InferenceInput",
    "ModelSource",
    "ModelSpec",
    "ModelTypeName",
    "PretrainedModel",
    "ResourceSpec",
    "RetryPolicy",
    "StallPolicy",
    "Task",
]

MAX_TIMEOUT_SECONDS: Final = 7 * 24 * 3600
FRAMEWORK_VERSION_PATTERN: Final = r"^[0-9A-Za-z][0-9A-Za-z._-]*$"
"""A runtime version of the catalog, e.g. 1.9 or 2.15."""


class Task(StrEnum):
    """What a job does."""

    TRAINING = "training"
    INFERENCE = "inference"


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
    "endpoint",
    "code",
    "env",
    "envFrom",
    "volumes",
    "placement",
    "distributed",
)
"""Spec fields that cannot change once the job exists (only cancel and the TTL may)."""


class AIJobSpec(WireModel):
    """What to run: task, model, data, resources, priority and retries."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": (
                        "self.task != 'inference' || has(self.model.source) || has(self.endpoint)"
                    ),
                    "message": (
                        "an inference job needs model.source (trainingJob or uri) or endpoint"
                    ),
                    "fieldPath": ".model.source",
                },
                {
                    "rule": "!has(self.endpoint) || self.task == 'inference'",
                    "message": "spec.endpoint is for inference jobs only",
                    "fieldPath": ".endpoint",
                },
                {
                    "rule": "!has(self.endpoint) || !has(self.model.source)",
                    "message": "spec.endpoint and spec.model.source are exclusive: the endpoint "
                    "serves its own model",
                    "fieldPath": ".endpoint",
                },
                {
                    "rule": "!has(self.endpoint) || !has(self.input) || !has(self.input.uri)",
                    "message": "a job on an endpoint takes inline input.records, not input.uri",
                    "fieldPath": ".input.uri",
                },
                {
                    "rule": "self.task != 'inference' || has(self.input)",
                    "message": "an inference job needs input (records or uri)",
                    "fieldPath": ".input",
                },
                {
                    "rule": "self.task != 'training' || has(self.dataset) || has(self.code)",
                    "message": "a training job needs a dataset (name or uri) or code",
                    "fieldPath": ".dataset",
                },
                *CODE_SPEC_RULES,
                *PRETRAINED_SPEC_RULES,
                *DISTRIBUTED_SPEC_RULES,
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
        Field(description="The model to train or run.", json_schema_extra={"default": {}}),
    ] = Field(default_factory=ModelSpec)
    code: Annotated[
        CodeSpec | None,
        Field(description="Training only: your own script or module instead of model.type."),
    ] = None
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
    distributed: Annotated[
        DistributedSpec | None,
        Field(
            description=(
                "Training on several pods (nodes) or processes: each pod gets spec.resources; "
                "left out, one pod with one process per GPU."
            )
        ),
    ] = None
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
    stall: Annotated[
        StallPolicy | None,
        Field(
            description=(
                "How long the worker may go without reporting before the job is Stalled, and "
                "before its attempt is restarted; may change while the job runs."
            )
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
    env: EnvField = Field(default_factory=list)
    env_from: EnvFromField = Field(default_factory=list)
    volumes: VolumesField = Field(default_factory=list)
    placement: PlacementField = None
    pod_template: Annotated[
        PodTemplateMetadata | None,
        Field(description="Extra labels and annotations for the worker pods."),
    ] = None
    endpoint: Annotated[
        str | None,
        Field(
            description=(
                "Inference only, instead of model.source: the name of an AIEndpoint of this "
                "namespace whose warm replicas predict input.records (no Job, no pod is "
                "started; the operator sends the records in chunks of the endpoint's "
                "batching.maxBatchSize). model.type is then informative: the endpoint's "
                "model decides."
            ),
            max_length=ENDPOINT_MAX_NAME_LENGTH,
            pattern=DNS_1035_LABEL_PATTERN,
        ),
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
            if self.model.source is None and self.endpoint is None:
                raise ValueError(
                    "model.source: an inference job needs trainingJob or uri, or endpoint"
                )
            if self.input is None:
                raise ValueError("input: an inference job needs records or uri")
        if self.endpoint is not None:
            self._check_endpoint_fields()
        if self.task is Task.TRAINING and self.dataset is None and self.code is None:
            raise ValueError("dataset: a training job needs a dataset (name or uri) or code")
        task, gpus = self.task.value, self.resources.gpu
        problems = (
            code_problem(
                task=task, code=self.code, model_type=self.model.type, framework=self.framework
            ),
            pretrained_problem(
                task=task, pretrained=self.model.pretrained, has_code=self.code is not None
            ),
            distributed_problem(
                task=task,
                distributed=self.distributed,
                gpus=gpus,
                framework=self.framework,
                model_type=self.model.type,
                has_code=self.code is not None,
            ),
            environment_problem(self.env, self.volumes, self.placement, gpus),
        )
        problem = next((found for found in problems if found is not None), None)
        if problem is not None:
            raise ValueError(problem)
        for name, part in (
            ("model.source", self.model.source),
            ("dataset", self.dataset),
            ("input", self.input),
        ):
            if part is None:
                continue
            first, second = exclusive_pair(part)
            if (getattr(part, first) is None) == (getattr(part, second) is None):
                raise ValueError(f"{name}: needs exactly one of {first} or {second}")
        wire = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        problem = spec_delivery_problem(wire, SPEC_ANNOTATION)
        if problem is not None:
            raise ValueError(problem)
        return self

    def _check_endpoint_fields(self) -> None:
        if self.task is not Task.INFERENCE:
            raise ValueError("endpoint: spec.endpoint is for inference jobs only")
        if self.model.source is not None:
            raise ValueError("endpoint: spec.endpoint and spec.model.source are exclusive")
        if self.input is not None and self.input.uri is not None:
            raise ValueError("input.uri: a job on an endpoint takes inline input.records")

    @property
    def resolved_framework(self) -> Framework:
        """The framework the job runs on: explicit, or routed from the model type."""
        return route_framework(self.model.type or "", self.framework)
