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
    """Ready when the job cache and the keys are synced (and kept so) and the API server answers.

    The body says why not; `keysUsable` false means key checks fail closed (503).
    """
    api_server = await runtime.probe.answers()
    watching = runtime.watching
    keys = runtime.keys
    readiness = Readiness(
        status="ready",
        jobs_cache_synced=runtime.cache.synced and watching,
        keys_synced=keys.synced and watching,
        keys_usable=keys.usable,
        api_server=api_server,
    )
    if not readiness.jobs_cache_synced:
        readiness.reasons.append("the job cache is not synced with the API server")
    if not readiness.keys_synced:
        stale = keys.stale_for()
        if stale:
            broken = f"the watch of the API key Secret has been broken for {stale:.0f}s"
            readiness.reasons.append(
                f"{broken}, over {keys.stale_after:g}s: key checks answer 503"
                if not keys.usable
                else f"{broken}; key checks answer 503 after {keys.stale_after:g}s"
            )
        else:
            readiness.reasons.append("the API keys are not loaded yet")
    if not api_server:
        readiness.reasons.append("the API server does not answer")
    ready = not readiness.reasons
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
