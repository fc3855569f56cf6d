"""The app factory: settings, lifespan (clients, watches), middleware, error handlers, routers.

Middleware, outermost first: request ids, access log and metrics; the per-client-address
rate limit; the body limit. All three run before routing, body parsing and the API key
check, so an anonymous client is limited in rate and body size like any other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from lightkube import AsyncClient

from aijob_gateway.kube.client import make_client
from aijob_gateway.observability.logs import configure_logging
from aijob_gateway.observability.metrics import GatewayMetrics
from aijob_gateway.observability.middleware import ObservabilityMiddleware
from aijob_gateway.problems import install_problem_handlers
from aijob_gateway.routers import (
    artifacts,
    compat,
    compat_coordinator,
    compat_tasks,
    endpoints,
    health,
    inference_v2,
    job_metrics,
    jobs,
    nodes,
    queue,
)
from aijob_gateway.runtime import Runtime
from aijob_gateway.security.body_limit import BodyLimitMiddleware, BodyLimits
from aijob_gateway.security.client_limit import ClientRateLimitMiddleware
from aijob_gateway.security.ratelimit import RateLimiter
from aijob_gateway.settings import GatewaySettings

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/health"})
"""Routes that need no API key."""

DESCRIPTION = """\
Submit, watch, cancel and fetch the results of AI training and inference jobs; serve
models warm (endpoints) and predict synchronously, also over the Open Inference Protocol.

Every job is an `AIJob` custom resource in the namespace bound to your API key;
send the key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Errors are
RFC 9457 problem documents (`application/problem+json`) naming the field at fault.
"""


def _version() -> str:
    try:
        return version("aijob-gateway")
    except PackageNotFoundError:  # pragma: no cover - only outside an install
        return "0.0.0"


def create_app(
    settings: GatewaySettings | None = None,
    client_factory: Callable[[GatewaySettings], AsyncClient] = make_client,
    configure_logs: bool = True,
) -> FastAPI:
    """A gateway app; its Kubernetes clients (`client_factory` makes each: one for the
    watches and writes, one for pod logs) and watches start with its lifespan."""
    settings = settings or GatewaySettings()
    metrics = GatewayMetrics()
    if configure_logs:
        configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.build(
            settings, client_factory(settings), metrics, log_client=client_factory(settings)
        )
        app.state.runtime = runtime
        runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="aijob gateway",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_middleware(
        BodyLimitMiddleware,
        limits=BodyLimits(
            default=settings.max_body_bytes, inference=settings.inference_max_body_bytes
        ),
    )
    app.add_middleware(
        ClientRateLimitMiddleware,
        limiter=RateLimiter(
            settings.client_rate_limit_per_second,
            settings.client_rate_limit_burst,
            max_keys=settings.client_rate_limit_max_clients,
        ),
    )
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, access_log=settings.access_log)
    install_problem_handlers(app)
    routers = (
        jobs.router,
        job_metrics.router,
        artifacts.router,
        endpoints.router,
        inference_v2.router,
        queue.router,
        nodes.router,
        compat.router,
        compat_coordinator.router,
        compat_tasks.router,
        health.router,
    )
    for router in routers:
        app.include_router(router)
    app.openapi = lambda: _openapi_with_security(app)  # type: ignore[method-assign]
    return app


def _openapi_with_security(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, declaring the two ways to send a key on every protected route."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "The API key"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    for path, operations in schema["paths"].items():
        if path in PUBLIC_PATHS:
            continue
        for operation in operations.values():
            operation["security"] = [{"bearer": []}, {"apiKey": []}]
    app.openapi_schema = schema
    return schema
