"""The Open Inference Protocol (KServe V2) of an endpoint, under `/v1/endpoints/{name}/v2`.

So an Open Inference Protocol client pointed at `<gateway>/v1/endpoints/{name}` works
unchanged (tritonclient takes a base path: `url="gateway:8000/v1/endpoints/iris"`,
with the API key in its `headers`). Liveness and readiness are the gateway's own
answers (the endpoint exists; a replica is ready); everything else goes through the
endpoint's dispatcher to a ready replica and comes back as the replica answered it
(its status, body and the binary tensor extension's header). The gateway's own
problems on these routes carry the V2 `error` string. `X-Aijob-Priority` sets the
request's priority (the endpoint's by default); the answer names the replica and the
retries in `X-Aijob-Pod` and `X-Aijob-Retries`.
"""

from __future__ import annotations

from typing import Annotated, Any

from aijob_api.priority import Priority
from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from aijob_gateway.dependencies import CallerDep
from aijob_gateway.problems import problem_responses
from aijob_gateway.routers.params import EndpointName
from aijob_gateway.serving.transport import PodRequest

router = APIRouter(
    prefix="/v1/endpoints/{name}/v2",
    tags=["open inference protocol"],
    responses=problem_responses(401, 403, 404, 422, 429, 502, 503, 504),
)

ModelName = Annotated[
    str,
    Path(
        description="The model: the endpoint's name.",
        max_length=253,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    ),
]
PriorityHeader = Annotated[
    Priority | None,
    Header(alias="X-Aijob-Priority", description="high, normal or low (the endpoint's)."),
]
_PASSED_THROUGH: dict[int | str, dict[str, Any]] = {
    200: {"description": "The replica's answer, as it gave it."},
}


async def _forward(
    caller: CallerDep,
    name: str,
    request: PodRequest,
    priority: Priority | None,
) -> Response:
    result = await caller.inference.forward(caller.tenant, name, request, priority=priority)
    answer = result.reply
    return Response(
        content=answer.body,
        status_code=answer.status_code,
        headers={
            **answer.headers,
            "X-Aijob-Pod": result.pod,
            "X-Aijob-Retries": str(result.retries),
        },
    )


@router.get("/health/live", summary="V2 server liveness: the endpoint exists")
async def live(name: EndpointName, caller: CallerDep) -> dict[str, bool]:
    """200 while the gateway answers for an endpoint of the key's namespace."""
    caller.endpoints.get(caller.tenant, name)
    return {"live": True}


@router.get("/health/ready", summary="V2 server readiness: a replica takes requests")
async def ready(name: EndpointName, caller: CallerDep) -> JSONResponse:
    """200 when a replica is ready, else 503."""
    is_ready = caller.inference.has_ready_replica(caller.tenant, name)
    return JSONResponse(
        {"ready": is_ready},
        status_code=200 if is_ready else 503,
        headers=None if is_ready else {"Retry-After": "1"},
    )


@router.get("", summary="V2 server metadata (a replica's)", responses=_PASSED_THROUGH)
async def server_metadata(
    name: EndpointName, caller: CallerDep, priority: PriorityHeader = None
) -> Response:
    """The replica's server metadata."""
    return await _forward(caller, name, PodRequest("GET", "/v2"), priority)


@router.get("/models/{model}", summary="V2 model metadata", responses=_PASSED_THROUGH)
async def model_metadata(
    name: EndpointName, model: ModelName, caller: CallerDep, priority: PriorityHeader = None
) -> Response:
    """The model's inputs, outputs and parameters, as a replica describes them."""
    return await _forward(caller, name, PodRequest("GET", f"/v2/models/{model}"), priority)


@router.get("/models/{model}/ready", summary="V2 model readiness", responses=_PASSED_THROUGH)
async def model_ready(
    name: EndpointName, model: ModelName, caller: CallerDep, priority: PriorityHeader = None
) -> Response:
    """200 from a ready replica; 503 when none is ready."""
    return await _forward(caller, name, PodRequest("GET", f"/v2/models/{model}/ready"), priority)


@router.post(
    "/models/{model}/infer",
    summary="V2 inference (JSON or binary tensors)",
    responses={**_PASSED_THROUGH, **problem_responses(400, 413, 422)},
)
async def model_infer(
    name: EndpointName,
    model: ModelName,
    request: Request,
    caller: CallerDep,
    priority: PriorityHeader = None,
) -> Response:
    """The body is passed to a replica as it came; its answer comes back as it gave it."""
    body = await request.body()
    pod_request = PodRequest(
        "POST", f"/v2/models/{model}/infer", body=body, headers=dict(request.headers)
    )
    return await _forward(caller, name, pod_request, priority)
