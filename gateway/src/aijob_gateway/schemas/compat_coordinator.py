"""Bodies of the routes compatible with seed 004's inference coordinator (snake_case, as it had).

Requests take the seed's `InferenceRequest` (`request_id`, `task_type`, `data`; unknown
fields ignored, as its models did); answers have its shapes: `InferenceResponse`
(`request_id`, `worker_id`, `result`, `latency` in seconds, `retry_count`), the
queued and processing answers of its asynchronous routes, and the dictionaries of its
`/status`, `/queue/stats` and `/workers/performance`, keyed by worker (here: by the
endpoint's pod).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, JsonValue, RootModel

from aijob_gateway.schemas.compat import SeedModel
from aijob_gateway.schemas.jobs import CLIENT_REQUEST_ID_PATTERN

WorkerState = Literal["healthy", "busy", "starting", "error"]
"""`healthy` (ready, below its concurrency), `busy` (ready, at it), `starting` (not ready:
loading, or draining), `error` (not ready after failing requests)."""


class CoordinatorInferRequest(SeedModel):
    """POST /infer, /priority/infer and /infer/async, as the seed took them."""

    request_id: Annotated[
        str | None,
        Field(
            description=(
                "The client's id of the request (generated when left out); for /infer/async the "
                "key of its result (`GET /result/{request_id}`), and idempotent there."
            ),
            pattern=CLIENT_REQUEST_ID_PATTERN,
        ),
    ] = None
    task_type: Annotated[
        str,
        Field(
            description=(
                "The task, e.g. text_classification: the endpoint whose spec.taskType it is."
            ),
            min_length=1,
            max_length=63,
        ),
    ]
    data: Annotated[
        JsonValue,
        Field(
            description=(
                "One record for the endpoint's model: a text, a list of feature values, or an "
                "object keyed by feature name."
            )
        ),
    ]


class CoordinatorInferResponse(BaseModel):
    """The seed's `InferenceResponse`; `status` and what follows only on `GET /result/...`."""

    request_id: str
    worker_id: Annotated[str | None, Field(description="The pod that answered.")] = None
    result: Annotated[
        dict[str, Any] | None,
        Field(
            description=(
                "The record's output (prediction, confidence, ...) with the seed's worker_id, "
                "task_type and model_info."
            )
        ),
    ] = None
    latency: Annotated[float | None, Field(description="Seconds from request to answer.")] = None
    retry_count: Annotated[int | None, Field(description="Attempts on another pod.")] = None
    status: Annotated[
        str | None,
        Field(
            description="Asynchronous requests: queued, processing, completed, failed, cancelled."
        ),
    ] = None
    started_at: Annotated[
        float | None, Field(description="When processing started (seconds since the epoch).")
    ] = None
    error: Annotated[str | None, Field(description="Why it failed.")] = None
    job: Annotated[str | None, Field(description="The AIJob behind an asynchronous request.")] = (
        None
    )


class CoordinatorQueued(BaseModel):
    """The answer of POST /infer/async."""

    request_id: str
    status: Literal["queued"] = "queued"
    message: str = "Task queued for processing"
    job: Annotated[str, Field(description="The AIJob that holds the request (`/v1/jobs/{job}`).")]


class CoordinatorStats(BaseModel):
    """The seed's request counters (synchronous requests, since the gateway started)."""

    total_requests: int
    successful_requests: int
    failed_requests: int
    queue_high_watermark: int


class WorkerDetail(BaseModel):
    """One pod in `/queue/stats`'s `workers_detail`."""

    status: WorkerState
    current_tasks: int
    avg_latency: float
    total_processed: int
    score: float
    endpoint: str
    task_type: str | None = None


class QueueStats(BaseModel):
    """GET /queue/stats, over every endpoint of the key's namespace."""

    queue_size: int
    active_tasks: int
    total_workers: int
    healthy_workers: int
    busy_workers: int
    error_workers: int
    stats: CoordinatorStats
    workers_detail: dict[str, WorkerDetail]


class WorkerStatus(BaseModel):
    """One pod in `/status`'s `workers`."""

    status: WorkerState
    current_tasks: int
    last_heartbeat: Annotated[
        float | None, Field(description="Not kept: pods are watched, not polled.")
    ] = None
    model_loaded: Annotated[bool, Field(description="The pod is ready: its model is loaded.")]
    avg_latency: float
    total_processed: int


class SystemStatus(BaseModel):
    """GET /status."""

    queue_size: int
    active_tasks: int
    workers: dict[str, WorkerStatus]
    total_workers: int
    healthy_workers: int
    busy_workers: int
    stats: CoordinatorStats


class WorkerPerformance(BaseModel):
    """One pod in `/workers/performance`."""

    status: WorkerState
    current_tasks: int
    max_tasks: Annotated[int, Field(description="The endpoint's per-replica concurrency.")]
    avg_latency: Annotated[float, Field(description="Recent reply latency, seconds.")]
    total_processed: int
    performance_score: Annotated[
        float, Field(description="Good answers per second of one request slot (higher is better).")
    ]
    load_percentage: float
    endpoint: str
    task_type: str | None = None


class WorkersPerformance(RootModel[dict[str, WorkerPerformance]]):
    """GET /workers/performance: every pod of the key's endpoints, by name."""
