"""The AIEndpoint status, and who writes each part of it: the operator or the gateway.

As for AIJobs (`aijob_api.status`), every field carries one `WrittenBy` mark: the
operator writes what the cluster shows (phase, conditions, replicas, the model served,
the URL), the gateway the load it dispatches (in-flight requests, requests per
second). Each compares and patches only its own share; importing this module fails if
a field has no owner or two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import Field

from aijob_api.endpoint_conditions import EndpointConditionType, EndpointPhase
from aijob_api.endpoint_scaling import MAX_GATEWAYS, AutoscalingStatus, GatewayLoad
from aijob_api.routing import Framework
from aijob_api.status import (
    BY_GATEWAY,
    BY_OPERATOR,
    StandardCondition,
    StatusOwner,
    field_owners,
    status_fields,
)
from aijob_api.wire import WireModel


class EndpointCondition(StandardCondition):
    """A standard Kubernetes condition of an AIEndpoint."""

    type: Annotated[EndpointConditionType, Field(description="Condition type.")]


class ServedModel(WireModel):
    """A stored model, as the replicas load it."""

    uri: Annotated[str, Field(description="Where the model is stored.", max_length=2048)]
    checksum: Annotated[
        str | None,
        Field(
            description=(
                "SHA-256 of the model's manifest (which holds every file's SHA-256), as the "
                "training job recorded it; what the model server reports as modelChecksum."
            ),
            max_length=64,
        ),
    ] = None
    training_job: Annotated[
        str | None,
        Field(description="The training AIJob that produced it.", max_length=253),
    ] = None
    training_job_uid: Annotated[
        str | None,
        Field(
            description="That AIJob's uid (a re-run of the same name has another).", max_length=64
        ),
    ] = None


class AIEndpointStatus(WireModel):
    """What the endpoint serves and how well, written by the operator and (load) the gateway."""

    phase: Annotated[EndpointPhase | None, BY_OPERATOR, Field(description="One-word state.")] = None
    reason: Annotated[
        str | None,
        BY_OPERATOR,
        Field(description="CamelCase reason of the phase.", max_length=1024),
    ] = None
    message: Annotated[
        str | None,
        BY_OPERATOR,
        Field(description="Why it is not ready, or what it serves, in words.", max_length=32768),
    ] = None
    conditions: Annotated[
        list[EndpointCondition],
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
        Field(description="The framework runtime that serves the model (after routing)."),
    ] = None
    framework_version: Annotated[
        str | None, BY_OPERATOR, Field(description="The runtime version used.", max_length=32)
    ] = None
    image: Annotated[
        str | None, BY_OPERATOR, Field(description="Model server image.", max_length=1024)
    ] = None
    replicas: Annotated[
        int,
        BY_OPERATOR,
        Field(description="Pods of the endpoint now, whatever their state or model.", ge=0),
    ] = 0
    ready_replicas: Annotated[
        int, BY_OPERATOR, Field(description="Pods that loaded their model and answer.", ge=0)
    ] = 0
    updated_replicas: Annotated[
        int,
        BY_OPERATOR,
        Field(description="Pods that run the current model and settings.", ge=0),
    ] = 0
    selector: Annotated[
        str | None,
        BY_OPERATOR,
        Field(
            description="Label selector of the endpoint's pods (for the scale subresource).",
            max_length=1024,
        ),
    ] = None
    model: Annotated[
        ServedModel | None,
        BY_OPERATOR,
        Field(description="The model the ready replicas serve; empty while none does."),
    ] = None
    url: Annotated[
        str | None,
        BY_OPERATOR,
        Field(
            description="In-cluster URL of the Service (Open Inference Protocol and JSON routes).",
            max_length=1024,
        ),
    ] = None
    observed_generation: Annotated[
        int | None, BY_OPERATOR, Field(description="The spec generation the status reflects.")
    ] = None
    autoscaling: Annotated[
        AutoscalingStatus | None,
        BY_OPERATOR,
        Field(description="What the builtin autoscaler last decided, and why."),
    ] = None
    in_flight: Annotated[
        int | None,
        BY_GATEWAY,
        Field(
            description=(
                "Requests being answered or queued now: the sum of the fresh gatewayLoad "
                "entries, as the gateway pod that wrote last saw them."
            ),
            ge=0,
        ),
    ] = None
    requests_per_second: Annotated[
        float | None,
        BY_GATEWAY,
        Field(
            description="Requests answered per second lately: the sum of the fresh gatewayLoad "
            "entries.",
            ge=0,
        ),
    ] = None
    load_updated_at: Annotated[
        datetime | None,
        BY_GATEWAY,
        Field(description="When a gateway pod last wrote inFlight and requestsPerSecond."),
    ] = None
    gateway_load: Annotated[
        dict[str, GatewayLoad],
        BY_GATEWAY,
        Field(
            description=(
                "The load each gateway pod holds, under the pod's name; each pod writes only "
                "its own entry (a merge patch), and the operator's autoscaler sums the fresh "
                "ones."
            ),
            max_length=MAX_GATEWAYS,
        ),
    ] = Field(default_factory=dict)
    kopf: Annotated[
        dict[str, Any] | None,
        BY_OPERATOR,
        Field(description="Bookkeeping of the operator framework (kopf); not for users."),
    ] = None


ENDPOINT_STATUS_OWNERS: Final = field_owners(AIEndpointStatus)
"""Each AIEndpoint status field (Python name) and who writes it."""
ENDPOINT_OPERATOR_STATUS_FIELDS: Final = status_fields(StatusOwner.OPERATOR, model=AIEndpointStatus)
"""The operator's share of the AIEndpoint status (Python names)."""
ENDPOINT_GATEWAY_STATUS_FIELDS: Final = status_fields(StatusOwner.GATEWAY, model=AIEndpointStatus)
"""The gateway's share of the AIEndpoint status (Python names)."""
