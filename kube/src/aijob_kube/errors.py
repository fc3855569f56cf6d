"""The API server's refusals and silences as aijob's own exceptions: the one mapping.

lightkube raises `ApiError` when the API server answers with a failure Status, and a
transport error (httpx2's, or an `OSError`) when it does not answer at all. Callers
wrap their requests in `kube_errors(what)` and catch these instead:

| answer                                  | exception             |
|-----------------------------------------|-----------------------|
| 404 Not Found                           | `NotFoundError`       |
| 409 AlreadyExists (a create)            | `AlreadyExistsError`  |
| 409 Conflict (a precondition, a version)| `ConflictError`       |
| 410 Gone (a watch's version expired)    | `ExpiredError`        |
| 400, 422 (the object is refused)        | `InvalidError`        |
| 401 (credentials refused)               | `UnauthorizedError`   |
| 403 (not allowed)                       | `ForbiddenError`      |
| 429, 5xx, or no answer at all           | `UnavailableError`    |
| anything else                           | `KubeError`           |

Each carries what was being done, the server's message, its HTTP code (None when
there was no answer), its reason, the invalid fields it named and its Retry-After.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import httpx2
from lightkube import ApiError

TRANSPORT_ERRORS: Final = (httpx2.TransportError, OSError)
"""What lightkube raises when the API server did not answer."""


@dataclass(frozen=True)
class FieldCause:
    """One field the API server named as invalid (`field` may be empty)."""

    field: str
    message: str


class KubeError(Exception):
    """A request to the Kubernetes API server failed while doing `what`."""

    def __init__(
        self,
        what: str,
        message: str,
        *,
        code: int | None = None,
        reason: str | None = None,
        causes: tuple[FieldCause, ...] = (),
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{what}: {message}")
        self.what = what
        self.message = message
        self.code = code
        """The HTTP status of the answer; None when the API server did not answer."""
        self.reason = reason
        self.causes = causes
        self.retry_after = retry_after

    @property
    def answered(self) -> bool:
        """Whether the API server answered (a refusal) rather than staying silent."""
        return self.code is not None


class NotFoundError(KubeError):
    """The object (or its namespace) does not exist."""


class ConflictError(KubeError):
    """The object changed or a precondition failed (uid, resourceVersion): read it again."""


class AlreadyExistsError(ConflictError):
    """An object of that name exists already."""


class ExpiredError(KubeError):
    """The resourceVersion asked for is too old (410 Gone): list again."""


class InvalidError(KubeError):
    """The API server refused the object or the request as written (400, 422)."""


class ForbiddenError(KubeError):
    """The caller's identity may not do this (403)."""


class UnauthorizedError(KubeError):
    """The caller's credentials were refused (401)."""


class UnavailableError(KubeError):
    """The API server did not answer, or is overloaded or failing (429, 5xx): retry later."""


def _error_class(code: int, reason: str | None) -> type[KubeError]:
    if code == 404:
        return NotFoundError
    if code == 409:
        return AlreadyExistsError if reason == "AlreadyExists" else ConflictError
    if code == 410:
        return ExpiredError
    if code in (400, 422):
        return InvalidError
    if code == 401:
        return UnauthorizedError
    if code == 403:
        return ForbiddenError
    if code == 429 or code >= 500:
        return UnavailableError
    return KubeError


def from_api_error(error: ApiError, what: str) -> KubeError:
    """aijob's exception for a failure Status the API server answered while doing `what`."""
    status = error.status
    code = int(status.code or 500)
    details = status.details
    causes = tuple(
        FieldCause(field=cause.field or "", message=cause.message or cause.reason or "")
        for cause in ((details.causes or []) if details else [])
    )
    error_class = _error_class(code, status.reason)
    return error_class(
        what,
        status.message or str(error),
        code=code,
        reason=status.reason,
        causes=causes,
        retry_after=details.retryAfterSeconds if details else None,
    )


def from_transport_error(error: BaseException, what: str) -> UnavailableError:
    """aijob's exception for an API server that did not answer while doing `what`."""
    return UnavailableError(
        what, f"the Kubernetes API server did not answer ({type(error).__name__})"
    )


@contextmanager
def kube_errors(what: str) -> Iterator[None]:
    """Raise lightkube's failures inside the block as aijob's exceptions (the cause kept)."""
    try:
        yield
    except ApiError as error:
        raise from_api_error(error, what) from error
    except TRANSPORT_ERRORS as error:
        raise from_transport_error(error, what) from error
