"""The model server's errors, each one HTTP answer: a problem document with the V2 `error` field.

Every failure is answered as `application/problem+json` (RFC 9457, the gateway's
format: `type`, `title`, `status`, `detail`, and `field` when one is at fault)
that also carries the Open Inference Protocol's `error` string, so V2 clients
(tritonclient raises it as the exception's message) and the gateway read the
same body. The `slug` is also the `outcome` label of the request metrics.
"""

from __future__ import annotations

from typing import Any, Final

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
TYPE_PREFIX: Final = "urn:aijob:problem:"
RECORDS_FIELD_OF_JOBS: Final = "spec.input.records"
"""How runners name a record in their errors (an inference job's field); relabelled here."""


class ServeError(Exception):
    """An answer other than success: status, slug, title, detail, optional field and headers."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{field}: {detail}" if field else detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.field = field
        self.headers = headers or {}

    def body(self, instance: str) -> dict[str, Any]:
        """The problem document (with the V2 `error` string)."""
        document: dict[str, Any] = {
            "type": TYPE_PREFIX + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "error": str(self),
        }
        if self.field:
            document["field"] = self.field
        return document


def invalid(field: str, detail: str) -> ServeError:
    """422: the request is well-formed but does not fit the model (names the field)."""
    return ServeError(422, "invalid", "Invalid input", detail, field=field)


def malformed(detail: str) -> ServeError:
    """400: the body is not JSON (or not the binary tensor format it announces)."""
    return ServeError(400, "malformed", "Malformed request", detail)


def model_not_found(name: str, served: str) -> ServeError:
    """404: no model of that name is served here."""
    return ServeError(
        404, "not-found", "Model not found", f"no model {name!r}; this serves {served!r}"
    )


def too_large(limit: int) -> ServeError:
    """413: the body is over the limit (refused before it is parsed)."""
    return ServeError(
        413, "too-large", "Request too large", f"the body is over the limit of {limit} bytes"
    )


def unavailable(detail: str, retry_after_seconds: int = 1) -> ServeError:
    """503: not serving now (loading, draining); try another replica."""
    return ServeError(
        503,
        "unavailable",
        "Model not ready",
        detail,
        headers={"Retry-After": str(retry_after_seconds)},
    )


def overloaded(limit: int) -> ServeError:
    """429: the replica holds its maximum of concurrent requests."""
    return ServeError(
        429,
        "overloaded",
        "Too many concurrent requests",
        f"this replica already holds its maximum of {limit} concurrent requests",
        headers={"Retry-After": "1"},
    )


def timed_out(seconds: float) -> ServeError:
    """504: the request did not get its answer within the request timeout."""
    return ServeError(
        504,
        "timeout",
        "Request timed out",
        f"no answer within the request timeout of {seconds:g} s",
    )


def internal(detail: str) -> ServeError:
    """500: the model or the server failed on a valid request."""
    return ServeError(500, "internal-error", "Internal error", detail)


def relabel_record_field(field: str, prefix: str) -> str:
    """A runner's `spec.input.records[3]...` named as the request names it (`records[3]...`)."""
    if field.startswith(RECORDS_FIELD_OF_JOBS):
        return prefix + field.removeprefix(RECORDS_FIELD_OF_JOBS)
    return field
