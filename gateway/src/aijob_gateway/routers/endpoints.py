"""/v1/endpoints: create, list, get and delete endpoints; predict synchronously or
asynchronously (an inference AIJob on the endpoint); their stats."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from aijob_gateway.dependencies import CallerDep
from aijob_gateway.problems import problem_responses
from aijob_gateway.routers.params import (
    ClientRequestIdHeader,
    EndpointName,
    IdempotencyKey,
    client_request_id,
)
from aijob_gateway.routers.responses import ModelResponse
from aijob_gateway.schemas.endpoints import (
    AsyncInferAccepted,
    AsyncInferRequest,
    CreateEndpointRequest,
    EndpointList,
    EndpointStats,
    EndpointView,
    InferRequest,
    InferResponse,
)
from aijob_gateway.services.endpoints import NewEndpoint
from aijob_gateway.services.inference import deadline_after
from aijob_gateway.services.listing import job_phase

router = APIRouter(
    prefix="/v1/endpoints",
    tags=["endpoints"],
    responses=problem_responses(401, 403, 422, 429, 503),
)


@router.post(
    "",
    response_model=EndpointView,
    status_code=status.HTTP_201_CREATED,
    summary="Create an endpoint: a model served warm by replicas",
    responses={
        200: {"model": EndpointView, "description": "The same request was sent before."},
        **problem_responses(403, 409, 502),
    },
)
async def create_endpoint(
    body: CreateEndpointRequest, caller: CallerDep, response: Response
) -> EndpointView:
    """Create an AIEndpoint in the key's namespace (the same body again answers 200)."""
    new = NewEndpoint(
        name=body.name, spec=body.spec, description=body.description, labels=body.labels
    )
    created = await caller.endpoints.create(caller.tenant, new)
    if not created.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/endpoints/{body.name}"
    return EndpointView.of(created.endpoint)


@router.get("", response_model=EndpointList, summary="List endpoints, newest first")
async def list_endpoints(caller: CallerDep) -> ModelResponse:
    """Every endpoint of the key's namespace."""
    endpoints = caller.endpoints.list(caller.tenant)
    return ModelResponse(
        EndpointList(items=[EndpointView.of(e) for e in endpoints], total=len(endpoints))
    )


@router.get(
    "/{name}",
    response_model=EndpointView,
    summary="Get one endpoint: spec, phase, replicas, the model served and why it is not ready",
    responses=problem_responses(403, 404),
)
async def get_endpoint(name: EndpointName, caller: CallerDep) -> ModelResponse:
    """The endpoint as the cache holds it."""
    return ModelResponse(EndpointView.of(caller.endpoints.get(caller.tenant, name)))


@router.delete(
    "/{name}",
    response_model=EndpointView,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Delete an endpoint (its Deployment, Service and replicas go with it)",
    responses=problem_responses(403, 404, 502),
)
async def delete_endpoint(name: EndpointName, caller: CallerDep) -> EndpointView:
    """Delete the AIEndpoint; answers it as it was last seen."""
    return EndpointView.of(await caller.endpoints.delete(caller.tenant, name))


@router.post(
    "/{name}/infer",
    response_model=InferResponse,
    summary="Predict records synchronously on a ready replica",
    responses=problem_responses(400, 403, 404, 413, 502, 504),
)
async def infer(name: EndpointName, body: InferRequest, caller: CallerDep) -> ModelResponse:
    """Outputs, timings, the replica that answered and the retries.

    A replica's refusal of a record is a 422 naming it (`records[1]`), never retried;
    429 when the endpoint's queue is full, 503 with no ready replica, 504 past the deadline.
    """
    deadline = None if body.timeout_seconds is None else deadline_after(body.timeout_seconds)
    predicted = await caller.inference.infer(
        caller.tenant, name, body.records, priority=body.priority, deadline=deadline
    )
    return ModelResponse(
        InferResponse(
            endpoint=name,
            model_name=predicted.model_name,
            model_checksum=predicted.model_checksum,
            outputs=predicted.outputs,
            timings=predicted.timings,
            pod=predicted.pod,
            attempts=predicted.attempts,
            retries=predicted.retries,
        )
    )


@router.post(
    "/{name}/infer/async",
    response_model=AsyncInferAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Predict records later on the warm replicas: an inference AIJob naming the endpoint",
    responses=problem_responses(403, 404, 409, 413, 502),
)
async def infer_async(
    name: EndpointName,
    body: AsyncInferRequest,
    caller: CallerDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    x_client_request_id: ClientRequestIdHeader = None,
) -> AsyncInferAccepted:
    """202 with the job to poll (`GET /v1/jobs/{job}`, cancel with `DELETE`).

    The job survives a gateway restart; the operator runs it on the endpoint's ready
    replicas (no pod starts) and writes the outputs and stage timings into its status.
    """
    request_id = client_request_id(
        ("Idempotency-Key", idempotency_key),
        ("X-Client-Request-ID", x_client_request_id),
        ("clientRequestId", body.client_request_id),
    )
    submitted = await caller.async_inference.submit(
        caller.tenant, name, body.records, priority=body.priority, client_request_id=request_id
    )
    job = submitted.job.metadata.name or ""
    response.headers["Location"] = f"/v1/jobs/{job}"
    return AsyncInferAccepted(
        job=job,
        endpoint=name,
        phase=job_phase(submitted.job).value,
        url=f"/v1/jobs/{job}",
        results_url=f"/v1/jobs/{job}/results",
        created=submitted.created,
    )


@router.get(
    "/{name}/stats",
    response_model=EndpointStats,
    summary="Dispatch figures: queue by priority, in-flight, p50/p99, errors, each replica",
    responses=problem_responses(403, 404),
)
async def endpoint_stats(name: EndpointName, caller: CallerDep) -> ModelResponse:
    """The endpoint's dispatcher as it stands (counters since the gateway started)."""
    return ModelResponse(EndpointStats.of(name, caller.endpoints.stats(caller.tenant, name)))
