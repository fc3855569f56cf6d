"""An AIEndpoint's autoscaling: its settings in the spec, the load and the decision in the status.

`AutoscalingSpec` says who drives `spec.replicas`: the operator's own autoscaler
(`builtin`, from the load the gateways publish) or something else through the scale
subresource (`external`: an HPA, KEDA, `kubectl scale`). The gateways publish their
load as `GatewayLoad` entries (one per gateway pod, under its name); the operator
sums the fresh ones and explains what it decided in `AutoscalingStatus`. The rule
itself is `aijob_operator.endpoint_autoscale`; docs/endpoints.md states it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final

from pydantic import Field

from aijob_api.wire import WireModel

DEFAULT_TARGET_UTILIZATION_PERCENT: Final = 70
"""Share of `spec.concurrency` one replica is meant to hold on average."""
DEFAULT_SCALE_DOWN_DELAY_SECONDS: Final = 300
"""How long the load must ask for fewer replicas before they are removed."""
MAX_SCALE_DOWN_DELAY_SECONDS: Final = 86_400
MAX_GATEWAYS: Final = 64
"""Most gateway pods whose load one endpoint's status keeps."""


class AutoscalingMode(StrEnum):
    """Who changes `spec.replicas`."""

    BUILTIN = "builtin"
    """The aijob operator, from the load the gateways publish into the status."""
    EXTERNAL = "external"
    """Someone else, through the scale subresource (an HPA, KEDA, `kubectl scale`); the
    operator never changes `spec.replicas`."""


class AutoscalingSpec(WireModel):
    """How the replicas follow the load, within minReplicas and maxReplicas."""

    mode: Annotated[
        AutoscalingMode,
        Field(
            description=(
                "builtin: the operator sets spec.replicas from the load the gateway sees "
                "(requests outstanding per replica); external: an HPA, KEDA or kubectl scale "
                "sets it through the scale subresource and the operator never changes it."
            )
        ),
    ] = AutoscalingMode.BUILTIN
    target_utilization_percent: Annotated[
        int,
        Field(
            description=(
                "Requests outstanding per replica the builtin autoscaler aims at, in percent "
                "of spec.concurrency (70 with a concurrency of 16: 11.2 per replica)."
            ),
            ge=1,
            le=100,
        ),
    ] = DEFAULT_TARGET_UTILIZATION_PERCENT
    scale_down_delay_seconds: Annotated[
        int,
        Field(
            description=(
                "Seconds the load must ask for fewer replicas before the builtin autoscaler "
                "removes them (a scale-up is at once); then it goes to the most the load "
                "asked for during those seconds."
            ),
            ge=0,
            le=MAX_SCALE_DOWN_DELAY_SECONDS,
        ),
    ] = DEFAULT_SCALE_DOWN_DELAY_SECONDS


class GatewayLoad(WireModel):
    """The load one gateway pod holds for the endpoint, as that pod last published it."""

    in_flight: Annotated[
        int,
        Field(description="Requests this gateway pod holds: sent to a replica or queued.", ge=0),
    ]
    requests_per_second: Annotated[
        float,
        Field(description="Requests it had answered per second, over the last seconds.", ge=0),
    ]
    updated_at: Annotated[datetime, Field(description="When it wrote this entry.")]


class AutoscalingStatus(WireModel):
    """What the builtin autoscaler last decided, and why."""

    wanted_replicas: Annotated[
        int | None,
        Field(
            description=(
                "Replicas the latest load asks for, within minReplicas and maxReplicas; empty "
                "while no gateway has published a recent load (the replicas are then held)."
            ),
            ge=0,
        ),
    ] = None
    quiet_since: Annotated[
        datetime | None,
        Field(
            description=(
                "Since when the load has asked for fewer replicas than spec.replicas; they "
                "are removed spec.autoscaling.scaleDownDelaySeconds later."
            )
        ),
    ] = None
    quiet_peak: Annotated[
        int | None,
        Field(
            description="The most replicas the load asked for since quietSince: a scale-down's "
            "target.",
            ge=0,
        ),
    ] = None
    last_scale_time: Annotated[
        datetime | None,
        Field(description="When the autoscaler last changed spec.replicas."),
    ] = None
    message: Annotated[
        str | None,
        Field(description="What it decided and why, in words.", max_length=1024),
    ] = None
