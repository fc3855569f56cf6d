"""The gateway's answer to each Kubernetes failure: `aijob_kube.errors` as its domain errors.

`aijob_kube.errors` turns lightkube's `ApiError` and transport errors into aijob's
exceptions; this module says what each means to a client of the gateway. Services and
routers deal in `aijob_gateway.errors` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aijob_kube import errors as kube

from aijob_gateway.errors import (
    ConflictError,
    FieldError,
    GatewayError,
    InvalidRequestError,
    NotFoundError,
    UnavailableError,
    UpstreamError,
)


class AlreadyExistsError(ConflictError):
    """The object to create exists already (the idempotency path handles it)."""


def as_gateway_error(error: kube.KubeError) -> GatewayError:
    """The domain error for a failed request to the API server."""
    what, message = error.what, error.message
    if isinstance(error, kube.NotFoundError):
        return NotFoundError(f"{what}: not found")
    if isinstance(error, kube.AlreadyExistsError):
        return AlreadyExistsError(f"{what}: already exists")
    if isinstance(error, kube.ConflictError):
        return ConflictError(str(error))
    if isinstance(error, kube.InvalidError):
        causes = [FieldError(field=cause.field, message=cause.message) for cause in error.causes]
        field = causes[0].field if causes else None
        return InvalidRequestError(str(error), field=field, errors=causes)
    if isinstance(error, kube.UnauthorizedError):
        return UpstreamError(f"{what}: the gateway's credentials were refused")
    if isinstance(error, kube.ForbiddenError):
        # The gateway's own service account lacks a permission: not the client's fault.
        return UpstreamError(f"{what}: the gateway is not allowed to do this ({message})")
    if isinstance(error, kube.UnavailableError):
        if not error.answered:
            return UnavailableError(str(error), headers={"Retry-After": "1"})
        return UnavailableError(
            f"{what}: the Kubernetes API server is busy or failing ({message})",
            headers={"Retry-After": str(error.retry_after or 1)},
        )
    return UpstreamError(str(error))


@contextmanager
def answered(what: str) -> Iterator[None]:
    """Raise the failures of the API requests inside the block as the gateway's domain errors."""
    try:
        with kube.kube_errors(what):
            yield
    except kube.KubeError as error:
        raise as_gateway_error(error) from error
