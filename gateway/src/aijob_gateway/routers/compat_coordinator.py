"""Drop-in routes of seed 004's inference coordinator, on the key's endpoints.

`POST /infer` and `POST /priority/infer` (answered synchronously by a warm replica,
through the same dispatcher as `/v1/endpoints/{name}/infer`), `POST /infer/async` and
`GET /result/{request_id}` (an inference AIJob on the endpoint), `GET /status`,
`GET /queue/stats` and `GET /workers/performance` (the endpoints' dispatchers). They
take and answer the seed's bodies; like every route they need an API key and see only
its namespace's endpoints and jobs.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from aijob_api.priority import Priority
from fastapi import APIRouter, Path, Query

from aijob_gateway.dependencies import Caller, CallerDep
from aijob_gateway.errors import NotFoundError
from aijob_gateway.problems import problem_responses
from aijob_gateway.routers.responses import ModelResponse
from aijob_gateway.schemas.compat_coordinator import (
    CoordinatorInferRequest,
    CoordinatorInferResponse,
    CoordinatorQueued,
    QueueStats,
    SystemStatus,
    WorkersPerformance,
)
from aijob_gateway.schemas.jobs import CLIENT_REQUEST_ID_PATTERN
from aijob_gateway.services import compat_coordinator as coordinator
from aijob_gateway.services.async_inference import endpoint_for
from aijob_gateway.services.idempotency import name_for_request_id

router = APIRouter(tags=["seed-compatible: inference coordinator"])
_PROBLEMS = problem_responses(401, 403, 422, 429, 503)
_INFER_PROBLEMS = {**_PROBLEMS, **problem_responses(404, 413, 502, 504)}

RequestId = Annotated[
    str,
    Path(
        description="The request_id of an /infer/async request.", pattern=CLIENT_REQUEST_ID_PATTERN
    ),
]


def _endpoint_name(caller: Caller, task_type: str) -> str:
    """The key's endpoint that answers `task_type` (404 naming task_type when none does)."""
    endpoint = endpoint_for(caller.endpoints.list(caller.tenant), task_type=task_type)
    if endpoint is None:
        endpoint = endpoint_for(
            caller.endpoints.list(caller.tenant), name=task_type.replace("_", "-")
        )
    if endpoint is None:
        raise NotFoundError(
            f"task_type: no endpoint of namespace {caller.tenant.namespace!r} answers "
            f"{task_type!r} (set spec.taskType on an AIEndpoint)",
            field="task_type",
        )
    return endpoint.metadata.name or ""


async def _infer(
    body: CoordinatorInferRequest, caller: CallerDep, priority: Priority | None
) -> CoordinatorInferResponse:
    request_id = body.request_id or str(uuid.uuid4())
    name = _endpoint_name(caller, body.task_type)
    predicted = await caller.inference.infer(caller.tenant, name, [body.data], priority=priority)
    return coordinator.infer_response(request_id, body.task_type, name, predicted)


@router.post(
    "/infer",
    response_model=CoordinatorInferResponse,
    response_model_exclude_none=True,
    summary="Predict one record synchronously on a warm replica (seed-compatible)",
    responses=_INFER_PROBLEMS,
)
async def infer(body: CoordinatorInferRequest, caller: CallerDep) -> CoordinatorInferResponse:
    """request_id, task_type (→ the endpoint whose spec.taskType it is), data (one record)."""
    return await _infer(body, caller, None)


@router.post(
    "/priority/infer",
    response_model=CoordinatorInferResponse,
    response_model_exclude_none=True,
    summary="The same at high priority: ahead of normal and low in the endpoint's queue",
    responses=_INFER_PROBLEMS,
)
async def priority_infer(
    body: CoordinatorInferRequest,
    caller: CallerDep,
    priority: Annotated[
        int | None, Query(description="The seed's priority number; any value means high.")
    ] = None,
) -> CoordinatorInferResponse:
    """As /infer, dispatched at high priority."""
    return await _infer(body, caller, Priority.HIGH)


@router.post(
    "/infer/async",
    response_model=CoordinatorQueued,
    summary="Queue one record for later: an inference AIJob on the endpoint (seed-compatible)",
    responses={**_PROBLEMS, **problem_responses(404, 409, 413, 502)},
)
async def infer_async(body: CoordinatorInferRequest, caller: CallerDep) -> CoordinatorQueued:
    """Answers at once; `GET /result/{request_id}` gives the result once it is there.

    The same request_id and body again answer the same job; another body is a 409.
    """
    request_id = body.request_id or str(uuid.uuid4())
    name = _endpoint_name(caller, body.task_type)
    submitted = await caller.async_inference.submit(
        caller.tenant,
        name,
        [body.data],
        client_request_id=request_id,
        annotations=coordinator.seed_request_annotation(request_id, body.task_type),
    )
    return CoordinatorQueued(request_id=request_id, job=submitted.job.metadata.name or "")


@router.get(
    "/result/{request_id}",
    response_model=CoordinatorInferResponse,
    response_model_exclude_none=True,
    summary="The result of an /infer/async request, or its status (seed-compatible)",
    responses={**_PROBLEMS, **problem_responses(404)},
)
async def result(request_id: RequestId, caller: CallerDep) -> CoordinatorInferResponse:
    """`status`: queued, processing (with started_at), completed (with the seed's answer),
    failed or cancelled (with the error); 404 for an id this key never sent."""
    name = name_for_request_id(caller.tenant.namespace, request_id)
    try:
        job = caller.jobs.get(caller.tenant, name)
    except NotFoundError:
        raise NotFoundError(
            f"request_id: no asynchronous request {request_id!r} in namespace "
            f"{caller.tenant.namespace!r}",
            field="request_id",
        ) from None
    return coordinator.result_of(request_id, job)


def _snapshots(caller: Caller) -> list[coordinator.Snapshot]:
    return [
        (endpoint, caller.endpoints.dispatcher(endpoint).stats())
        for endpoint in caller.endpoints.list(caller.tenant)
    ]


@router.get(
    "/status",
    response_model=SystemStatus,
    summary="System status: queue, workers (the endpoints' pods), counters (seed-compatible)",
    responses=_PROBLEMS,
)
async def system_status(caller: CallerDep) -> ModelResponse:
    """Over every endpoint of the key's namespace."""
    return ModelResponse(
        coordinator.system_status(_snapshots(caller), caller.jobs.all(caller.tenant))
    )


@router.get(
    "/queue/stats",
    response_model=QueueStats,
    summary="Queue and worker statistics (seed-compatible)",
    responses=_PROBLEMS,
)
async def queue_stats(caller: CallerDep) -> ModelResponse:
    """queue_size and active_tasks count synchronous requests and unfinished async jobs."""
    return ModelResponse(
        coordinator.queue_stats(_snapshots(caller), caller.jobs.all(caller.tenant))
    )


@router.get(
    "/workers/performance",
    response_model=WorkersPerformance,
    summary="Each worker's (pod's) load, latency and performance score (seed-compatible)",
    responses=_PROBLEMS,
)
async def workers_performance(caller: CallerDep) -> ModelResponse:
    """Every pod of every endpoint of the key's namespace, by name."""
    return ModelResponse(coordinator.workers_performance(_snapshots(caller)))
