"""The AIEndpoint spec: which model to serve warm, on how many replicas, and how.

The parts an AIJob also has are the AIJob's own types, not copies: the model source
(`ModelSource`: a training AIJob of the same namespace or a URI), the model type, the
framework and its version (routed through the same table and catalog), the resources
and the priority. CEL rules (replicas within their bounds, a model type for a URI) are
attached next to the fields they guard and mirrored by validators, so clients that
import `aijob_api` get the same error before the API server does.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import ConfigDict, Field, model_validator

from aijob_api.endpoint_scaling import AutoscalingSpec
from aijob_api.priority import Priority
from aijob_api.routing import Framework
from aijob_api.spec import (
    FRAMEWORK_VERSION_PATTERN,
    ModelSource,
    ModelTypeName,
    ResourceSpec,
)
from aijob_api.validation import MODEL_TYPE_PATTERN
from aijob_api.wire import WireModel

MAX_REPLICAS: Final = 100
"""Upper bound on the replicas of one endpoint."""
DEFAULT_MAX_REPLICAS: Final = 10
MAX_CONCURRENCY: Final = 4096
DEFAULT_CONCURRENCY: Final = 16
MAX_BATCH_SIZE: Final = 4096
DEFAULT_BATCH_SIZE: Final = 32
MAX_BATCH_WAIT_MILLISECONDS: Final = 10_000
DEFAULT_BATCH_WAIT_MILLISECONDS: Final = 5
MAX_REQUEST_TIMEOUT_SECONDS: Final = 3600
DEFAULT_REQUEST_TIMEOUT_SECONDS: Final = 30


class EndpointModel(WireModel):
    """The model an endpoint serves: where it is stored, and (optionally) its type."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.type) || !has(self.source.uri)",
                    "message": "model.type is needed when model.source is a uri",
                    "fieldPath": ".type",
                }
            ]
        }
    )

    source: Annotated[
        ModelSource,
        Field(
            description=(
                "The model to load: a training AIJob of this namespace (its "
                "status.results.modelUri once it succeeded, re-read when it is re-run) or a URI."
            )
        ),
    ]
    type: Annotated[
        ModelTypeName | None,
        Field(
            description=(
                "Model type, as AIJobs name it (e.g. random_forest, mlp, bert); routes the "
                "framework when spec.framework is left out. Taken from the training job "
                "when left out; needed with a uri."
            ),
        ),
    ] = None


class BatchingSpec(WireModel):
    """Micro-batching: concurrent requests of one replica run through the model together."""

    max_batch_size: Annotated[
        int,
        Field(
            description="Most records run through the model at once (1: no batching).",
            ge=1,
            le=MAX_BATCH_SIZE,
        ),
    ] = DEFAULT_BATCH_SIZE
    max_wait_milliseconds: Annotated[
        int,
        Field(
            description="Longest a request waits for others to share its batch, in milliseconds.",
            ge=0,
            le=MAX_BATCH_WAIT_MILLISECONDS,
        ),
    ] = DEFAULT_BATCH_WAIT_MILLISECONDS


class AIEndpointSpec(WireModel):
    """Which model to serve, on how many replicas, with which resources and limits."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.minReplicas <= self.maxReplicas",
                    "message": "spec.minReplicas must not exceed spec.maxReplicas",
                    "fieldPath": ".minReplicas",
                },
                {
                    "rule": (
                        "self.replicas >= self.minReplicas && self.replicas <= self.maxReplicas"
                    ),
                    "message": (
                        "spec.replicas must be within spec.minReplicas and spec.maxReplicas"
                    ),
                    "fieldPath": ".replicas",
                },
            ]
        }
    )

    model: Annotated[EndpointModel, Field(description="The model to serve.")]
    framework: Annotated[
        Framework | None,
        Field(
            description=(
                "Framework runtime; the training job's when left out, else routed from model.type."
            ),
        ),
    ] = None
    framework_version: Annotated[
        str | None,
        Field(
            description=(
                "Runtime version from the runtime catalog; the training job's when left out, "
                "else the catalog default."
            ),
            max_length=32,
            pattern=FRAMEWORK_VERSION_PATTERN,
        ),
    ] = None
    replicas: Annotated[
        int,
        Field(
            description=(
                "Replicas wanted now, within minReplicas and maxReplicas; what the builtin "
                "autoscaler, or with autoscaling.mode external an HPA, KEDA or `kubectl "
                "scale`, changes through the scale subresource."
            ),
            ge=1,
            le=MAX_REPLICAS,
        ),
    ] = 1
    min_replicas: Annotated[
        int,
        Field(description="Fewest replicas (at least 1).", ge=1, le=MAX_REPLICAS),
    ] = 1
    max_replicas: Annotated[
        int,
        Field(description="Most replicas an autoscaler may ask for.", ge=1, le=MAX_REPLICAS),
    ] = DEFAULT_MAX_REPLICAS
    autoscaling: Annotated[
        AutoscalingSpec,
        Field(
            description=(
                "How spec.replicas follows the load: the operator's builtin autoscaler, or an "
                "external one through the scale subresource."
            ),
            json_schema_extra={"default": {}},
        ),
    ] = Field(default_factory=AutoscalingSpec)
    resources: Annotated[
        ResourceSpec,
        Field(
            description="GPUs, CPU and memory of each replica.", json_schema_extra={"default": {}}
        ),
    ] = Field(default_factory=ResourceSpec)
    priority: Annotated[
        Priority,
        Field(description="high, normal or low; the replicas' PriorityClass."),
    ] = Priority.NORMAL
    concurrency: Annotated[
        int,
        Field(
            description=(
                "Requests one replica holds at once (queued for a batch or running); more "
                "wait in the gateway's queue."
            ),
            ge=1,
            le=MAX_CONCURRENCY,
        ),
    ] = DEFAULT_CONCURRENCY
    batching: Annotated[
        BatchingSpec,
        Field(
            description="Micro-batching of concurrent requests.", json_schema_extra={"default": {}}
        ),
    ] = Field(default_factory=BatchingSpec)
    request_timeout_seconds: Annotated[
        int,
        Field(
            description="Longest a request may take, queueing included, before it fails (504).",
            ge=1,
            le=MAX_REQUEST_TIMEOUT_SECONDS,
        ),
    ] = DEFAULT_REQUEST_TIMEOUT_SECONDS
    task_type: Annotated[
        str | None,
        Field(
            description=(
                "The task type of the seed coordinator's /infer requests (e.g. "
                "text_classification) that this endpoint answers."
            ),
            max_length=63,
            pattern=MODEL_TYPE_PATTERN,
        ),
    ] = None

    @model_validator(mode="after")
    def _check_bounds(self) -> AIEndpointSpec:
        """Mirror the CEL rules, so clients get the same error before the API server."""
        if self.min_replicas > self.max_replicas:
            raise ValueError("minReplicas: must not exceed maxReplicas")
        if not self.min_replicas <= self.replicas <= self.max_replicas:
            raise ValueError("replicas: must be within minReplicas and maxReplicas")
        source = self.model.source
        if (source.training_job is None) == (source.uri is None):
            raise ValueError("model.source: needs exactly one of trainingJob or uri")
        if source.uri is not None and self.model.type is None:
            raise ValueError("model.type: needed when model.source is a uri")
        return self

    @property
    def desired_replicas(self) -> int:
        """`replicas` clamped to [minReplicas, maxReplicas] (the schema keeps it there too)."""
        return max(self.min_replicas, min(self.replicas, self.max_replicas))
