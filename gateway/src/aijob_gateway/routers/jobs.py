"""/v1/jobs: submit, list, get, cancel, and fetch the results and logs of jobs."""

from __future__ import annotations

from typing import Annotated

from aijob_api.conditions import Phase
from aijob_api.models import Priority, Task
from aijob_api.routing import Framework
from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from aijob_gateway.dependencies import CallerDep
from aijob_gateway.problems import problem_responses
from aijob_gateway.routers.params import (
    ClientRequestIdHeader,
    IdempotencyKey,
    JobName,
    client_request_id,
)
from aijob_gateway.routers.responses import ModelResponse
from aijob_gateway.schemas.jobs import JobList, JobView, ResultsView, SubmitJobRequest
from aijob_gateway.services.jobs import NewJob
from aijob_gateway.services.listing import JobFilters, job_phase

router = APIRouter(
    prefix="/v1/jobs",
    tags=["jobs"],
    responses=problem_responses(401, 422, 429, 503),
)


@router.post(
    "",
    response_model=JobView,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a training or inference job",
    responses={
        200: {"model": JobView, "description": "The same request was submitted before."},
        **problem_responses(403, 409, 502),
    },
)
async def submit_job(
    body: SubmitJobRequest,
    caller: CallerDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    x_client_request_id: ClientRequestIdHeader = None,
) -> JobView:
    """Create an AIJob in the key's namespace; with a client request id, at most once."""
    request_id = client_request_id(
        ("Idempotency-Key", idempotency_key),
        ("X-Client-Request-ID", x_client_request_id),
        ("clientRequestId", body.client_request_id),
    )
    new = NewJob(
        spec=body.spec,
        name=body.name,
        client_request_id=request_id,
        description=body.description,
        labels=body.labels,
    )
    submitted = await caller.jobs.submit(caller.tenant, new)
    caller.runtime.metrics.jobs_submitted.labels(
        "created" if submitted.created else "replayed"
    ).inc()
    if not submitted.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/jobs/{submitted.job.metadata.name}"
    return JobView.of(submitted.job)


@router.get(
    "",
    response_model=JobList,
    summary="List jobs, newest first",
    responses=problem_responses(400, 403),
)
async def list_jobs(
    caller: CallerDep,
    phase: Annotated[Phase | None, Query(description="Only jobs in this phase.")] = None,
    task: Annotated[Task | None, Query(description="training or inference.")] = None,
    framework: Annotated[
        Framework | None, Query(description="Only jobs on this framework.")
    ] = None,
    priority: Annotated[Priority | None, Query(description="high, normal or low.")] = None,
    label: Annotated[
        str | None,
        Query(description="A label selector, e.g. `team=nlp,stage!=dev`.", max_length=1024),
    ] = None,
    limit: Annotated[int | None, Query(description="Jobs per page.", ge=1)] = None,
    continue_: Annotated[
        str | None,
        Query(
            alias="continue",
            description="Token of the next page, from the previous one.",
            max_length=1024,
        ),
    ] = None,
) -> ModelResponse:
    """A page of the key's jobs matching every filter (without `status.metricHistory`)."""
    settings = caller.runtime.settings
    page_size = min(limit or settings.default_page_size, settings.max_page_size)
    filters = JobFilters(
        phase=phase, task=task, framework=framework, priority=priority, label=label
    )
    page = caller.jobs.page(caller.tenant, filters, page_size, continue_)
    return ModelResponse(
        JobList(
            items=[JobView.of(job, metric_history=False) for job in page.items],
            total=page.total,
            continue_=page.continue_token,
        )
    )


@router.get(
    "/{name}",
    response_model=JobView,
    summary="Get one job: spec, status, progress, results, and why it waits or failed",
    responses=problem_responses(403, 404),
)
async def get_job(name: JobName, caller: CallerDep) -> ModelResponse:
    """The job as the cache holds it."""
    return ModelResponse(JobView.of(caller.jobs.get(caller.tenant, name)))


@router.delete(
    "/{name}",
    response_model=JobView,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a job (its pods stop; the record stays, Cancelled)",
    responses=problem_responses(403, 404, 409, 502),
)
async def cancel_job(name: JobName, caller: CallerDep) -> JobView:
    """Set spec.cancel; the operator stops the pods and marks the job Cancelled."""
    return JobView.of(await caller.jobs.cancel(caller.tenant, name))


@router.get(
    "/{name}/results",
    response_model=ResultsView,
    summary="Get the results of a finished job",
    responses=problem_responses(403, 404, 409),
)
async def get_results(name: JobName, caller: CallerDep) -> ResultsView:
    """Metrics, model URI, artifacts and outputs; 409 while the job has not finished."""
    job = caller.jobs.results(caller.tenant, name)
    results = job.status.results
    return ResultsView(
        name=job.metadata.name or name,
        namespace=caller.tenant.namespace,
        phase=job_phase(job),
        message=job.status.message,
        results=results,
        results_link=caller.artifacts.link(
            caller.tenant, job, results.results_uri if results is not None else None
        ),
    )


@router.get(
    "/{name}/logs",
    response_class=StreamingResponse,
    summary="Read the worker's log of the job's latest pod (optionally follow it)",
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": (
                "The log as the container wrote it; with follow=true, streamed as it grows. "
                "Without follow it is capped (gateway setting logs_max_bytes, 8 MiB by "
                "default): a longer log is cut there and ends with a line saying so."
            ),
        },
        **problem_responses(403, 404, 409, 502),
    },
)
async def get_logs(
    name: JobName,
    caller: CallerDep,
    tail: Annotated[
        int | None, Query(description="Only the last N lines.", ge=1, le=100_000)
    ] = None,
    since_seconds: Annotated[
        int | None,
        Query(alias="sinceSeconds", description="Only lines of the last N seconds.", ge=1),
    ] = None,
    follow: Annotated[
        bool, Query(description="Keep streaming until the pod's container ends.")
    ] = False,
    timestamps: Annotated[bool, Query(description="Prefix each line with its time.")] = False,
) -> StreamingResponse:
    """409 while the job has no pod yet or its container has not started; 429 when the key
    already holds its followed streams (gateway setting log_streams_per_key)."""
    lines = await caller.jobs.logs(
        caller.tenant,
        name,
        tail_lines=tail,
        since_seconds=since_seconds,
        follow=follow,
        timestamps=timestamps,
    )
    return StreamingResponse(lines, media_type="text/plain; charset=utf-8")
