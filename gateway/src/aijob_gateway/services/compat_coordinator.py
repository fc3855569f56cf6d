"""Mapping between seed 004's inference coordinator and aijob's endpoints (pure: no I/O).

`task_type` → the endpoint of the key's namespace whose `spec.taskType` it is (or the
endpoint of that name); `data` → one record. A synchronous answer is the endpoint's
prediction in the seed's `InferenceResponse`: the record's output merged with the
seed's `worker_id` (the pod), `task_type` and `model_info` (the model's name), the
latency in seconds and the retries. An asynchronous request is an inference AIJob on
the endpoint named after its `request_id` (the job service's idempotency), so its
result is found again from the id alone. The figures of `/status`, `/queue/stats` and
`/workers/performance` come from the endpoints' dispatchers (each pod is a seed
worker) and the key's unfinished jobs on endpoints (its asynchronous requests).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from aijob_api.conditions import Phase
from aijob_api.endpoint import AIEndpoint
from aijob_api.models import AIJob
from pydantic import JsonValue

from aijob_gateway.dispatch.stats import DispatchStats, PodStats
from aijob_gateway.schemas.compat_coordinator import (
    CoordinatorInferResponse,
    CoordinatorStats,
    QueueStats,
    SystemStatus,
    WorkerDetail,
    WorkerPerformance,
    WorkersPerformance,
    WorkerState,
    WorkerStatus,
)
from aijob_gateway.services.compat import ANNOTATION_SEED_REQUEST
from aijob_gateway.services.inference_answers import Prediction
from aijob_gateway.services.listing import job_phase

Snapshot = tuple[AIEndpoint, DispatchStats]
"""An endpoint and its dispatcher's figures."""

_ASYNC_STATUS: Final[dict[Phase, str]] = {
    Phase.PENDING: "queued",
    Phase.QUEUED: "queued",
    Phase.RUNNING: "processing",
    Phase.RETRYING: "processing",
    Phase.SUCCEEDED: "completed",
    Phase.FAILED: "failed",
    Phase.CANCELLED: "cancelled",
}
_WAITING: Final = frozenset({Phase.PENDING, Phase.QUEUED})
_RUNNING: Final = frozenset({Phase.RUNNING, Phase.RETRYING})


def seed_result(
    output: JsonValue, *, worker_id: str | None, task_type: str, model_info: str
) -> dict[str, Any]:
    """The seed's `result`: the output's fields with worker_id, task_type and model_info."""
    fields: dict[str, Any] = dict(output) if isinstance(output, dict) else {"prediction": output}
    fields.update(worker_id=worker_id, task_type=task_type, model_info=model_info)
    return fields


def infer_response(
    request_id: str, task_type: str, endpoint: str, prediction: Prediction
) -> CoordinatorInferResponse:
    """A synchronous prediction in the seed's `InferenceResponse` shape."""
    output = prediction.outputs[0] if prediction.outputs else None
    total_ms = prediction.timings.get("totalMs", 0.0)
    return CoordinatorInferResponse(
        request_id=request_id,
        worker_id=prediction.pod,
        result=seed_result(
            output,
            worker_id=prediction.pod,
            task_type=task_type,
            model_info=prediction.model_name or endpoint,
        ),
        latency=round(float(total_ms) / 1000, 6),
        retry_count=prediction.retries,
    )


def seed_request_annotation(request_id: str, task_type: str) -> dict[str, str]:
    """What an asynchronous request keeps on its AIJob for its result."""
    document = {"request_id": request_id, "task_type": task_type}
    return {ANNOTATION_SEED_REQUEST: json.dumps(document, separators=(",", ":"))}


def result_of(request_id: str, job: AIJob) -> CoordinatorInferResponse:
    """`GET /result/{request_id}`: the job's state, and once it succeeded, its answer."""
    phase = job_phase(job)
    status = job.status
    answer = CoordinatorInferResponse(
        request_id=request_id, status=_ASYNC_STATUS[phase], job=job.metadata.name
    )
    if phase in _RUNNING and status.start_time is not None:
        answer.started_at = status.start_time.timestamp()
    if phase is Phase.FAILED or phase is Phase.CANCELLED:
        answer.error = status.message or status.reason
    if phase is not Phase.SUCCEEDED:
        return answer
    task_type = _seed_request(job).get("task_type") or ""
    outputs = (status.results.outputs if status.results else None) or []
    created = job.metadata.creation_timestamp
    finished = status.completion_time
    answer.worker_id = status.pod_name
    answer.result = seed_result(
        outputs[0] if outputs else None,
        worker_id=status.pod_name,
        task_type=str(task_type),
        model_info=job.spec.endpoint or job.spec.model.type or "custom code",
    )
    if created is not None and finished is not None:
        answer.latency = max(0.0, (finished - created).total_seconds())
    answer.retry_count = status.failed_attempts
    return answer


@dataclass(frozen=True)
class WorkerRow:
    """One pod of one endpoint, as a seed worker."""

    endpoint: AIEndpoint
    pod: PodStats

    @property
    def state(self) -> WorkerState:
        """healthy, busy, starting or error (see `WorkerState`)."""
        if not self.pod.ready:
            return "error" if self.pod.faults else "starting"
        return "busy" if self.pod.outstanding >= self.pod.concurrency else "healthy"

    @property
    def avg_latency(self) -> float:
        """Recent reply latency in seconds (0 before the first reply, as the seed had it)."""
        latency = self.pod.latency_ms
        return 0.0 if latency is None else round(latency / 1000, 3)


def worker_rows(snapshots: Sequence[Snapshot]) -> list[WorkerRow]:
    """Every pod of every endpoint, by name."""
    rows = [WorkerRow(endpoint, pod) for endpoint, stats in snapshots for pod in stats.pods]
    return sorted(rows, key=lambda row: row.pod.name)


def coordinator_stats(snapshots: Sequence[Snapshot]) -> CoordinatorStats:
    """The seed's counters, summed over the endpoints."""
    return CoordinatorStats(
        total_requests=sum(stats.received for _, stats in snapshots),
        successful_requests=sum(stats.answered - stats.rejected for _, stats in snapshots),
        failed_requests=sum(stats.failed + stats.rejected for _, stats in snapshots),
        queue_high_watermark=max((stats.queue_high_watermark for _, stats in snapshots), default=0),
    )


def _counts(snapshots: Sequence[Snapshot], jobs: Sequence[AIJob]) -> tuple[int, int]:
    """(queue size, active tasks): synchronous requests waiting or held, plus the key's
    unfinished jobs on endpoints waiting or running."""
    on_endpoints = [job for job in jobs if job.spec.endpoint is not None]
    waiting = sum(job_phase(job) in _WAITING for job in on_endpoints)
    running = sum(job_phase(job) in _RUNNING for job in on_endpoints)
    queued = sum(stats.queued for _, stats in snapshots)
    in_flight = sum(stats.in_flight for _, stats in snapshots)
    return queued + waiting, in_flight + running


def queue_stats(snapshots: Sequence[Snapshot], jobs: Sequence[AIJob]) -> QueueStats:
    """`GET /queue/stats`."""
    rows = worker_rows(snapshots)
    queue_size, active = _counts(snapshots, jobs)
    return QueueStats(
        queue_size=queue_size,
        active_tasks=active,
        total_workers=len(rows),
        healthy_workers=sum(row.state == "healthy" for row in rows),
        busy_workers=sum(row.state == "busy" for row in rows),
        error_workers=sum(row.state == "error" for row in rows),
        stats=coordinator_stats(snapshots),
        workers_detail={
            row.pod.name: WorkerDetail(
                status=row.state,
                current_tasks=row.pod.outstanding,
                avg_latency=row.avg_latency,
                total_processed=row.pod.served,
                score=round(row.pod.score, 2),
                endpoint=row.endpoint.metadata.name or "",
                task_type=row.endpoint.spec.task_type,
            )
            for row in rows
        },
    )


def system_status(snapshots: Sequence[Snapshot], jobs: Sequence[AIJob]) -> SystemStatus:
    """`GET /status`."""
    detail = queue_stats(snapshots, jobs)
    rows = worker_rows(snapshots)
    return SystemStatus(
        queue_size=detail.queue_size,
        active_tasks=detail.active_tasks,
        workers={
            row.pod.name: WorkerStatus(
                status=row.state,
                current_tasks=row.pod.outstanding,
                model_loaded=row.pod.ready,
                avg_latency=row.avg_latency,
                total_processed=row.pod.served,
            )
            for row in rows
        },
        total_workers=detail.total_workers,
        healthy_workers=detail.healthy_workers,
        busy_workers=detail.busy_workers,
        stats=detail.stats,
    )


def workers_performance(snapshots: Sequence[Snapshot]) -> WorkersPerformance:
    """`GET /workers/performance`."""
    return WorkersPerformance(
        {
            row.pod.name: WorkerPerformance(
                status=row.state,
                current_tasks=row.pod.outstanding,
                max_tasks=row.pod.concurrency,
                avg_latency=row.avg_latency,
                total_processed=row.pod.served,
                performance_score=round(row.pod.score, 2),
                load_percentage=round(100 * row.pod.outstanding / max(1, row.pod.concurrency), 1),
                endpoint=row.endpoint.metadata.name or "",
                task_type=row.endpoint.spec.task_type,
            )
            for row in worker_rows(snapshots)
        }
    )


def _seed_request(job: AIJob) -> dict[str, Any]:
    raw = job.metadata.annotations.get(ANNOTATION_SEED_REQUEST)
    try:
        document = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
