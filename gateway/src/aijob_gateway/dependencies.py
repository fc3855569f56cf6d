"""FastAPI dependencies as `Annotated` aliases: the runtime and the authenticated caller.

Authentication reads the two key headers itself (one dependency instead of a chain of
security dependencies: dependency resolution is the largest per-request cost of a
cached read); the OpenAPI document still declares both schemes (see `app.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from aijob_gateway.errors import ForbiddenError, RateLimitedError, UnauthorizedError
from aijob_gateway.runtime import Runtime
from aijob_gateway.security.body_limit import is_inference_path
from aijob_gateway.security.keys import Tenant
from aijob_gateway.security.ratelimit import RateLimiter
from aijob_gateway.services.artifacts import ArtifactService
from aijob_gateway.services.async_inference import AsyncInferenceService
from aijob_gateway.services.endpoints import EndpointService
from aijob_gateway.services.inference import InferenceService
from aijob_gateway.services.jobs import JobService

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="aijob"'}


async def get_runtime(request: Request) -> Runtime:
    """The running gateway's parts."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def presented_key(request: Request) -> str | None:
    """The API key of a request: `Authorization: Bearer <key>`, else `X-API-Key`."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return request.headers.get("x-api-key") or None


def authenticate(request: Request, runtime: Runtime) -> Tenant:
    """The tenant of the request's API key, after its rate limit (401, 429, 503 otherwise).

    The client address's own limit ran before this, in `ClientRateLimitMiddleware`.
    """
    key = presented_key(request)
    if not key:
        raise UnauthorizedError(
            "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            headers=_CHALLENGE,
        )
    runtime.keys.check_usable()  # 503 until listed, and once its watch is broken too long
    tenant = runtime.keys.authenticate(key)
    if tenant is None:
        raise UnauthorizedError("the API key is not valid (unknown or revoked)", headers=_CHALLENGE)
    if tenant.namespace == runtime.settings.namespace:
        raise ForbiddenError(
            f"this key's tenant {tenant.namespace!r} is aijob's own namespace, where no tenant "
            "may run anything (the operator never reconciles there); mint a key for a tenant "
            "namespace"
        )
    request.scope["state"]["tenant"] = tenant.namespace
    limiter = runtime.inference_limiter if is_inference_path(request.url.path) else runtime.limiter
    wait = limiter.acquire(tenant.key_id)
    if wait > 0:
        retry_after = RateLimiter.retry_after_header(wait)
        raise RateLimitedError(
            f"rate limit of {limiter.rate:g} requests/s (burst {limiter.burst}) exceeded for key "
            f"{tenant.key_id}; retry after {retry_after}s",
            headers={"Retry-After": retry_after},
        )
    return tenant


@dataclass(frozen=True)
class Caller:
    """An authenticated request: who calls, and the gateway's parts."""

    tenant: Tenant
    runtime: Runtime

    @property
    def jobs(self) -> JobService:
        """The job service."""
        return self.runtime.jobs

    @property
    def artifacts(self) -> ArtifactService:
        """The artifact service (a job's objects in its tenant's store)."""
        return self.runtime.artifacts

    @property
    def endpoints(self) -> EndpointService:
        """The endpoint service."""
        return self.runtime.endpoints

    @property
    def inference(self) -> InferenceService:
        """The inference service."""
        return self.runtime.inference

    @property
    def async_inference(self) -> AsyncInferenceService:
        """The asynchronous inference service (jobs on endpoints)."""
        return self.runtime.async_inference


async def authenticated_caller(
    request: Request,
    namespace: Annotated[
        str | None,
        Query(
            description="Namespace of the job; only the API key's own namespace is allowed.",
            max_length=63,
        ),
    ] = None,
) -> Caller:
    """The caller, after checking an explicit namespace is its own (403 otherwise)."""
    runtime: Runtime = request.app.state.runtime
    tenant = authenticate(request, runtime)
    if namespace is not None and namespace != tenant.namespace:
        raise ForbiddenError(
            f"namespace {namespace!r} belongs to another tenant; this key may only use "
            f"{tenant.namespace!r}",
            field="namespace",
        )
    return Caller(tenant=tenant, runtime=runtime)


CallerDep = Annotated[Caller, Depends(authenticated_caller)]
