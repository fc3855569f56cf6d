"""Domain errors of the gateway; `problems` turns each into an RFC 9457 problem response.

Services and the Kubernetes storage layer raise these, never HTTP exceptions, so the
mapping to status codes lives in one place. Each error names the field at fault when
there is one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar


@dataclass
class FieldError:
    """One invalid field of a request: a dotted path and what is wrong with it."""

    field: str
    message: str


@dataclass
class GatewayError(Exception):
    """Base of every error the gateway answers with a problem document."""

    detail: str
    field: str | None = None
    errors: list[FieldError] = dataclasses.field(default_factory=list)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __post_init__(self) -> None:
        super().__init__(self.detail)


class InvalidRequestError(GatewayError):
    """The request is well-formed but a field's value is not acceptable."""

    status = 422
    slug = "invalid-request"
    title = "Invalid request"


class BadRequestError(GatewayError):
    """A query parameter or header cannot be understood (e.g. a label selector, a token)."""

    status = 400
    slug = "bad-request"
    title = "Bad request"


class UnauthorizedError(GatewayError):
    """No API key, or one the gateway does not know."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class ForbiddenError(GatewayError):
    """The key is valid but the resource belongs to another tenant."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFoundError(GatewayError):
    """No such job in the caller's namespace."""

    status = 404
    slug = "not-found"
    title = "Not found"


class ConflictError(GatewayError):
    """The request conflicts with the current state (idempotency key reused, job not finished)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLargeError(GatewayError):
    """The request body is larger than the route accepts."""

    status = 413
    slug = "too-large"
    title = "Request too large"


class RateLimitedError(GatewayError):
    """The key sent more requests than its rate limit allows."""

    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class UnavailableError(GatewayError):
    """The API server cannot be reached or the cache is not synced yet; retry later."""

    status = 503
    slug = "unavailable"
    title = "Service unavailable"


class UpstreamError(GatewayError):
    """The API server refused a call for a reason the client cannot fix."""

    status = 502
    slug = "upstream-error"
    title = "Kubernetes API error"
