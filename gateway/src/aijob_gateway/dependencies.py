"""FastAPI dependencies as `Annotated` aliases: the runtime, the tenant, the job service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from aijob_gateway.errors import (
    ForbiddenError,
    RateLimitedError,
    UnauthorizedError,
    UnavailableError,
)
from aijob_gateway.runtime import Runtime
from aijob_gateway.security.keys import Tenant
from aijob_gateway.security.ratelimit import RateLimiter
from aijob_gateway.services.jobs import JobService

_bearer = HTTPBearer(
    auto_error=False, description="`Authorization: Bearer <API key>`", scheme_name="bearer"
)
_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The API key", scheme_name="apiKey"
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="aijob"'}


async def get_runtime(request: Request) -> Runtime:
    """The running gateway's parts."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def authenticate(
    request: Request,
    runtime: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Tenant:
    """The tenant of the request's API key, after its rate limit (401, 429 otherwise)."""
    key = bearer.credentials if bearer is not None else api_key
    if not key:
        raise UnauthorizedError(
            "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            headers=_CHALLENGE,
        )
    if not runtime.keys.synced:
        raise UnavailableError("API keys are not loaded yet", headers={"Retry-After": "1"})
    tenant = runtime.keys.authenticate(key)
    if tenant is None:
        raise UnauthorizedError("the API key is not valid (unknown or revoked)", headers=_CHALLENGE)
    request.scope["state"]["tenant"] = tenant.namespace
    wait = runtime.limiter.acquire(tenant.key_id)
    if wait > 0:
        limiter = runtime.limiter
        retry_after = RateLimiter.retry_after_header(wait)
        raise RateLimitedError(
            f"rate limit of {limiter.rate:g} requests/s (burst {limiter.burst}) exceeded for key "
            f"{tenant.key_id}; retry after {retry_after}s",
            headers={"Retry-After": retry_after},
        )
    return tenant


AuthenticatedTenant = Annotated[Tenant, Depends(authenticate)]


async def tenant_in_scope(
    tenant: AuthenticatedTenant,
    namespace: Annotated[
        str | None,
        Query(
            description="Namespace of the job; only the API key's own namespace is allowed.",
            max_length=63,
        ),
    ] = None,
) -> Tenant:
    """The tenant, after checking an explicit namespace is its own (403 otherwise)."""
    if namespace is not None and namespace != tenant.namespace:
        raise ForbiddenError(
            f"namespace {namespace!r} belongs to another tenant; this key may only use "
            f"{tenant.namespace!r}",
            field="namespace",
        )
    return tenant


TenantDep = Annotated[Tenant, Depends(tenant_in_scope)]


async def get_job_service(runtime: RuntimeDep) -> JobService:
    """The job service."""
    return runtime.jobs


JobServiceDep = Annotated[JobService, Depends(get_job_service)]
