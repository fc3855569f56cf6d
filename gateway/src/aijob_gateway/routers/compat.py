"""Drop-in routes of the seed FastAPI + Redis job queue, mapped onto AIJobs.

`POST /jobs/training`, `POST /jobs/inference`, `GET /jobs/{job_id}/status`,
`GET /jobs`, `DELETE /jobs/{job_id}` and `GET /health` take the seed's bodies and
answer in its `JobStatus` shape; they need an API key like every /v1 route
(except /health). A job_id is the AIJob's name.
"""

from __future__ import annotations

from typing import Annotated

from aijob_api.models import Task
from fastapi import APIRouter, Query

from aijob_gateway.dependencies import CallerDep, RuntimeDep
from aijob_gateway.errors import UnavailableError
from aijob_gateway.problems import problem_responses
from aijob_gateway.routers.params import (
    ClientRequestIdHeader,
    IdempotencyKey,
    JobName,
    client_request_id,
)
from aijob_gateway.routers.responses import ModelResponse
from aijob_gateway.schemas.compat import (
    SeedHealth,
    SeedInferenceRequest,
    SeedJobStatus,
    SeedStatus,
    SeedTrainingRequest,
)
from aijob_gateway.services import compat
from aijob_gateway.services.listing import job_phase

router = APIRouter(tags=["seed-compatible"])
_PROBLEMS = problem_responses(401, 403, 422, 429, 503)


@router.post(
    "/jobs/training",
    response_model=SeedJobStatus,
    summary="Submit a training job (seed-compatible)",
    responses={**_PROBLEMS, **problem_responses(409, 502)},
)
async def submit_training(
    body: SeedTrainingRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    x_client_request_id: ClientRequestIdHeader = None,
) -> SeedJobStatus:
    """model_type, data_path, hyperparameters, description, requires_gpu, framework_override.

    data_path: a bundled data set's name or a CSV in the namespace's store; a path the job's
    pod cannot read (the seed's `/data/train.csv`) is a 422 naming data_path.
    """
    request_id = client_request_id(
        ("Idempotency-Key", idempotency_key),
        ("X-Client-Request-ID", x_client_request_id),
        ("client_request_id", body.client_request_id),
    )
    new_job = compat.training_job(body, request_id, caller.tenant.namespace)
    submitted = await caller.jobs.submit(caller.tenant, new_job)
    return compat.seed_job_status(submitted.job)


@router.post(
    "/jobs/inference",
    response_model=SeedJobStatus,
    summary="Submit an inference job (seed-compatible)",
    responses={**_PROBLEMS, **problem_responses(409, 502)},
)
async def submit_inference(
    body: SeedInferenceRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    x_client_request_id: ClientRequestIdHeader = None,
) -> SeedJobStatus:
    """model_id (a training job's job_id or a model URI), input_data, parameters."""
    request_id = client_request_id(
        ("Idempotency-Key", idempotency_key),
        ("X-Client-Request-ID", x_client_request_id),
        ("client_request_id", body.client_request_id),
    )
    source = compat.model_source(body.model_id)
    training = None
    if "trainingJob" in source:
        candidate = caller.runtime.cache.get(caller.tenant.namespace, source["trainingJob"])
        training = (
            candidate if candidate is not None and candidate.spec.task is Task.TRAINING else None
        )
    submitted = await caller.jobs.submit(
        caller.tenant, compat.inference_job(body, request_id, training)
    )
    return compat.seed_job_status(submitted.job)


@router.get(
    "/jobs/{job_id}/status",
    response_model=SeedJobStatus,
    summary="Status of a job (seed-compatible)",
    responses={**_PROBLEMS, **problem_responses(404)},
)
async def job_status(job_id: JobName, caller: CallerDep) -> ModelResponse:
    """The job in the seed's JobStatus shape."""
    return ModelResponse(compat.seed_job_status(caller.jobs.get(caller.tenant, job_id)))


@router.delete(
    "/jobs/{job_id}",
    response_model=SeedJobStatus,
    summary="Cancel a job (seed-compatible)",
    responses={**_PROBLEMS, **problem_responses(404, 409, 502)},
)
async def cancel_job(job_id: JobName, caller: CallerDep) -> SeedJobStatus:
    """Cancel; the job's status becomes cancelled once the operator stopped its pods."""
    return compat.seed_job_status(await caller.jobs.cancel(caller.tenant, job_id))


@router.get(
    "/jobs",
    response_model=list[SeedJobStatus],
    summary="List jobs, newest first (seed-compatible)",
    responses=_PROBLEMS,
)
async def list_jobs(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most jobs to return.")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Jobs to skip.")] = 0,
    status: Annotated[SeedStatus | None, Query(description="Only jobs with this status.")] = None,
) -> list[SeedJobStatus]:
    """The key's jobs in the seed's shape."""
    selected = [
        job
        for job in caller.jobs.all(caller.tenant)
        if status is None or compat.seed_status(job_phase(job)) == status
    ]
    return [compat.seed_job_status(job) for job in selected[offset : offset + limit]]


@router.get(
    "/health",
    response_model=SeedHealth,
    summary="Health (seed-compatible; no API key needed)",
    responses=problem_responses(503),
)
async def health(runtime: RuntimeDep) -> SeedHealth:
    """healthy when the cache is synced and the API server answers, else a 503 problem."""
    if not runtime.cache.synced or not await runtime.probe.answers():
        raise UnavailableError(
            "Service unhealthy: the Kubernetes API server does not answer "
            "or the job cache is not synced"
        )
    return SeedHealth(status="healthy", kubernetes="connected")
