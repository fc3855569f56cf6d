"""/healthz, /readyz and /metrics: for probes and Prometheus, without an API key."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from aijob_gateway.dependencies import RuntimeDep
from aijob_gateway.schemas.health import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process serves requests."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={503: {"model": Readiness, "description": "Not ready; the body says why."}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Ready when the job cache and the keys are synced (and kept so) and the API server answers."""
    api_server = await runtime.probe.answers()
    watching = runtime.watching
    readiness = Readiness(
        status="ready",
        jobs_cache_synced=runtime.cache.synced and watching,
        keys_synced=runtime.keys.synced and watching,
        api_server=api_server,
    )
    ready = readiness.jobs_cache_synced and readiness.keys_synced and api_server
    if not ready:
        readiness.status = "not ready"
    return JSONResponse(
        readiness.model_dump(mode="json", by_alias=True), status_code=200 if ready else 503
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    """Requests by route and status, latency histograms, cache state."""
    runtime.metrics.cached_jobs.set(runtime.cache.size())
    runtime.metrics.cached_endpoints.set(runtime.endpoint_cache.size())
    runtime.metrics.cache_synced.set(1 if runtime.cache.synced else 0)
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
