"""Drop-in routes of seed 003's inference server: `POST /v1/tasks` and `GET /v1/tasks/{task_id}`.

A task is an inference AIJob on one of the key's endpoints (the operator runs it on its
warm replicas), so it survives a gateway restart and is cancelled as any job
(`DELETE /v1/jobs/{task_id}`). The key goes in `x-api-key`, as the seed had it, or
`Authorization: Bearer`.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from aijob_gateway.dependencies import CallerDep
from aijob_gateway.errors import NotFoundError
from aijob_gateway.problems import problem_responses
from aijob_gateway.routers.params import (
    ClientRequestIdHeader,
    IdempotencyKey,
    JobName,
    client_request_id,
)
from aijob_gateway.routers.responses import ModelResponse
from aijob_gateway.schemas.compat_tasks import TaskAccepted, TaskRequest, TaskView
from aijob_gateway.services import compat_tasks
from aijob_gateway.services.async_inference import endpoint_for

router = APIRouter(prefix="/v1/tasks", tags=["seed-compatible: inference server"])
_PROBLEMS = problem_responses(401, 403, 422, 429, 503)


@router.post(
    "",
    response_model=TaskAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit a task: records for an endpoint's warm replicas (seed-compatible)",
    responses={**_PROBLEMS, **problem_responses(404, 409, 413, 502)},
)
async def submit_task(
    body: TaskRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    x_client_request_id: ClientRequestIdHeader = None,
) -> TaskAccepted:
    """model (an endpoint's name or spec.taskType), input, priority, client_request_id."""
    request_id = client_request_id(
        ("Idempotency-Key", idempotency_key),
        ("X-Client-Request-ID", x_client_request_id),
        ("client_request_id", body.client_request_id),
    )
    endpoint = endpoint_for(
        caller.endpoints.list(caller.tenant), name=body.model, task_type=body.model
    )
    if endpoint is None:
        raise NotFoundError(
            f"model: no endpoint of namespace {caller.tenant.namespace!r} is named "
            f"{body.model!r} or has it as spec.taskType",
            field="model",
        )
    records, single = compat_tasks.task_records(body.input)
    submitted = await caller.async_inference.submit(
        caller.tenant,
        endpoint.metadata.name or "",
        records,
        priority=body.priority,
        client_request_id=request_id,
        annotations=compat_tasks.task_annotation(body.model, single),
    )
    job = submitted.job
    return TaskAccepted(task_id=job.metadata.name or "", status=compat_tasks.task_state(job))


@router.get(
    "/{task_id}",
    response_model=TaskView,
    summary="A task's status, stage timings and result (seed-compatible)",
    responses={**_PROBLEMS, **problem_responses(404)},
)
async def get_task(task_id: JobName, caller: CallerDep) -> ModelResponse:
    """PENDING, RUNNING, SUCCESS (with timing and result), FAILURE or REVOKED (with error)."""
    try:
        job = caller.jobs.get(caller.tenant, task_id)
    except NotFoundError:
        raise NotFoundError(
            f"task_id: no task {task_id!r} in namespace {caller.tenant.namespace!r}",
            field="task_id",
        ) from None
    return ModelResponse(compat_tasks.task_view(job))
