"""Turn the API server's errors into the gateway's domain errors.

Only this layer sees `lightkube.ApiError` and transport errors; services and
routers deal in `aijob_gateway.errors`.
"""

from __future__ import annotations

import httpx2
from lightkube import ApiError

from aijob_gateway.errors import (
    ConflictError,
    FieldError,
    ForbiddenError,
    GatewayError,
    InvalidRequestError,
    NotFoundError,
    UnavailableError,
    UpstreamError,
)

TRANSPORT_ERRORS = (httpx2.TransportError, OSError)
"""Errors that mean the API server did not answer."""


class AlreadyExistsError(ConflictError):
    """The object to create exists already (the idempotency path handles it)."""


def _causes(error: ApiError) -> list[FieldError]:
    details = error.status.details
    if details is None or not details.causes:
        return []
    return [
        FieldError(field=cause.field or "", message=cause.message or cause.reason or "")
        for cause in details.causes
    ]


def translate(error: ApiError, what: str) -> GatewayError:
    """The domain error for an API server refusal while doing `what`."""
    status = error.status
    code = status.code or 500
    message = status.message or str(error)
    if code == 404:
        return NotFoundError(f"{what}: not found")
    if code == 409 and status.reason == "AlreadyExists":
        return AlreadyExistsError(f"{what}: already exists")
    if code == 409:
        return ConflictError(f"{what}: {message}")
    if code in (400, 422):
        causes = _causes(error)
        field = causes[0].field if causes else None
        return InvalidRequestError(f"{what}: {message}", field=field, errors=causes)
    if code == 403:
        # The gateway's own service account lacks a permission: not the client's fault.
        return UpstreamError(f"{what}: the gateway is not allowed to do this ({message})")
    if code == 429 or code >= 500:
        retry = status.details.retryAfterSeconds if status.details else None
        return UnavailableError(
            f"{what}: the Kubernetes API server is busy or failing ({message})",
            headers={"Retry-After": str(retry or 1)},
        )
    if code == 401:
        return UpstreamError(f"{what}: the gateway's credentials were refused")
    return UpstreamError(f"{what}: {message}")


def unreachable(what: str, error: BaseException) -> UnavailableError:
    """The domain error for an API server that did not answer."""
    return UnavailableError(
        f"{what}: the Kubernetes API server did not answer ({type(error).__name__})",
        headers={"Retry-After": "1"},
    )


__all__ = ["TRANSPORT_ERRORS", "AlreadyExistsError", "ForbiddenError", "translate", "unreachable"]
