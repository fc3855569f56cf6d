"""Bodies of the /v1/endpoints routes: create, view, list, infer (synchronous and asynchronous)
and stats."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Final

from aijob_api.constants import ANNOTATION_DESCRIPTION, ENDPOINT_MAX_NAME_LENGTH
from aijob_api.endpoint import AIEndpoint
from aijob_api.endpoint_spec import MAX_REQUEST_TIMEOUT_SECONDS, AIEndpointSpec
from aijob_api.endpoint_status import AIEndpointStatus
from aijob_api.models import MAX_INLINE_RECORDS
from aijob_api.priority import Priority
from aijob_api.validation import DNS_1035_LABEL_PATTERN, LabelKey, LabelValue
from pydantic import Field, JsonValue

from aijob_gateway.dispatch.stats import DispatchStats
from aijob_gateway.schemas.base import ApiModel
from aijob_gateway.schemas.jobs import CLIENT_REQUEST_ID_PATTERN

MAX_INFER_RECORDS: Final = 10_000
"""Most records one synchronous request may carry (the body size limit applies too)."""


class CreateEndpointRequest(ApiModel):
    """An endpoint to create: its name, the AIEndpoint spec, and a few things of its metadata."""

    name: Annotated[
        str,
        Field(
            description=(
                "AIEndpoint name: a DNS-1035 label (a letter first); it names the Service and "
                "the routes (`/v1/endpoints/{name}/infer`)."
            ),
            max_length=ENDPOINT_MAX_NAME_LENGTH,
            pattern=DNS_1035_LABEL_PATTERN,
        ),
    ]
    description: Annotated[
        str | None,
        Field(description="A human description, kept as an annotation.", max_length=1024),
    ] = None
    labels: Annotated[
        dict[LabelKey, LabelValue],
        Field(description="Labels of the AIEndpoint.", max_length=32),
    ] = Field(default_factory=dict)
    spec: Annotated[
        AIEndpointSpec,
        Field(description="What to serve and how (see `kubectl explain aiendpoint.spec`)."),
    ]


class EndpointView(ApiModel):
    """One endpoint: what it serves, on how many replicas, and in which state."""

    name: str
    namespace: str
    uid: str | None = None
    created_at: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    spec: AIEndpointSpec
    status: AIEndpointStatus

    @classmethod
    def of(cls, endpoint: AIEndpoint) -> EndpointView:
        """The view of an AIEndpoint."""
        metadata = endpoint.metadata
        return cls(
            name=metadata.name or "",
            namespace=metadata.namespace or "",
            uid=metadata.uid,
            created_at=metadata.creation_timestamp,
            labels=metadata.labels,
            description=metadata.annotations.get(ANNOTATION_DESCRIPTION),
            spec=endpoint.spec,
            status=endpoint.status,
        )


class EndpointList(ApiModel):
    """Every endpoint of the key's namespace, newest first."""

    items: list[EndpointView]
    total: int


class InferRequest(ApiModel):
    """Records to predict, answered synchronously by a ready replica."""

    records: Annotated[
        list[JsonValue],
        Field(
            description=(
                "The records, as an inference AIJob's spec.input.records takes them: feature "
                "lists in the training order, objects keyed by feature name, or texts."
            ),
            min_length=1,
            max_length=MAX_INFER_RECORDS,
        ),
    ]
    priority: Annotated[
        Priority | None,
        Field(description="high, normal or low; the endpoint's spec.priority when left out."),
    ] = None
    timeout_seconds: Annotated[
        float | None,
        Field(
            description=(
                "Longest the request may take, queueing and retries included (504 after); "
                "capped by the endpoint's spec.requestTimeoutSeconds, its default."
            ),
            gt=0,
            le=MAX_REQUEST_TIMEOUT_SECONDS,
        ),
    ] = None


class InferResponse(ApiModel):
    """The replica's outputs, where they were computed and how long each stage took."""

    endpoint: str
    model_name: Annotated[str | None, Field(description="The model the replica serves.")] = None
    model_checksum: Annotated[
        str | None, Field(description="SHA-256 of the served model's manifest.")
    ] = None
    outputs: Annotated[
        list[JsonValue], Field(description="One output per record, in the records' order.")
    ]
    timings: Annotated[
        dict[str, int | float],
        Field(
            description=(
                "Milliseconds (and batch figures) of the replica's stages (queueMs, prepareMs, "
                "inferMs, postprocessMs, batchSize, batchRequests) and of the gateway: "
                "dispatchMs (waiting for a replica, earlier attempts), roundTripMs (the "
                "answering attempt's HTTP exchange), totalMs (both)."
            )
        ),
    ]
    pod: Annotated[str, Field(description="The replica (pod) that answered.")]
    attempts: Annotated[int, Field(description="Attempts made, the answering one included.")]
    retries: Annotated[int, Field(description="Attempts after the first (on another replica).")]


class AsyncInferRequest(ApiModel):
    """Records to predict later on the endpoint's warm replicas: an inference AIJob naming it."""

    records: Annotated[
        list[JsonValue],
        Field(
            description=(
                "The records, as for the synchronous route; they are kept in the AIJob's "
                "spec.input.records, hence at most 1,000."
            ),
            min_length=1,
            max_length=MAX_INLINE_RECORDS,
        ),
    ]
    priority: Annotated[
        Priority | None,
        Field(description="high, normal or low; the endpoint's spec.priority when left out."),
    ] = None
    client_request_id: Annotated[
        str | None,
        Field(
            description=(
                "Idempotency key (or the Idempotency-Key header): the same id and body answer "
                "the same job; the same id with another body is a 409."
            ),
            pattern=CLIENT_REQUEST_ID_PATTERN,
        ),
    ] = None


class AsyncInferAccepted(ApiModel):
    """The job that will predict the records, and where to poll it."""

    job: Annotated[str, Field(description="The AIJob's name (`GET /v1/jobs/{job}`).")]
    endpoint: str
    phase: Annotated[str, Field(description="The job's phase now (Pending at first).")]
    url: Annotated[str, Field(description="Where to poll the job: `/v1/jobs/{job}`.")]
    results_url: Annotated[
        str, Field(description="Its results once finished: `/v1/jobs/{job}/results`.")
    ]
    created: Annotated[bool, Field(description="False when an identical request made it before.")]


class LatencyView(ApiModel):
    """Latency of the answered requests of the recent window, in milliseconds."""

    count: int
    p50_ms: float | None
    p99_ms: float | None


class PodStatsView(ApiModel):
    """One replica's load and performance score."""

    name: str
    address: str
    ready: bool
    outstanding: int
    concurrency: int
    latency_ms: float | None
    error_rate: float
    score: Annotated[float, Field(description="Good answers per second of one request slot.")]
    served: int
    faults: int


class EndpointStats(ApiModel):
    """The endpoint's dispatch at a glance: queue, in-flight, latency, errors, each replica."""

    endpoint: str
    queue_limit: int
    queued: int
    queued_by_priority: dict[str, int]
    queue_high_watermark: int
    in_flight: Annotated[int, Field(description="Requests holding a slot on a replica.")]
    in_progress: Annotated[int, Field(description="Requests queued or in flight.")]
    received: int
    answered: int
    rejected: Annotated[int, Field(description="Answered with the replica's refusal (422...).")]
    cancelled: int
    retries: int
    failed: Annotated[int, Field(description="Requests ended by an error (sum of errors).")]
    errors: Annotated[dict[str, int], Field(description="Failed requests by problem type.")]
    latency: LatencyView
    latency_by_priority: dict[str, LatencyView]
    ready_pods: int
    busy_pods: Annotated[int, Field(description="Ready replicas at their concurrency.")]
    concurrency: Annotated[int, Field(description="Requests one replica holds at once.")]
    pods: list[PodStatsView]

    @classmethod
    def of(cls, endpoint: str, stats: DispatchStats) -> EndpointStats:
        """The view of a dispatcher's snapshot."""
        return cls.model_validate(
            {**dataclasses.asdict(stats), "endpoint": endpoint, "failed": stats.failed}
        )
