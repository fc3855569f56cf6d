"""RFC 9457 problem details: the one place where errors become HTTP responses.

Every error, the gateway's own, FastAPI's validation errors, Starlette's 404/405
and anything unexpected, is answered as `application/problem+json` with the
request id and, when a field is at fault, its name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from aijob_gateway.errors import FieldError, GatewayError
from aijob_gateway.schemas.problem import Problem, ProblemField

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
TYPE_PREFIX: Final = "urn:aijob:problem:"
V2_PATH: Final = re.compile(r"^/v1/endpoints/[^/]+/v2(/|$)")
"""Open Inference Protocol routes: their problems also carry the V2 `error` string."""

log = logging.getLogger(__name__)

_HTTP_SLUGS: Final = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    field: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    problem = Problem(
        type=TYPE_PREFIX + slug,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        field=field,
        errors=[ProblemField(field=e.field, message=e.message) for e in errors],
        error=detail if V2_PATH.match(request.url.path) else None,
    )
    return JSONResponse(
        problem.model_dump(mode="json", by_alias=True, exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def field_of(location: Sequence[int | str]) -> str:
    """The client's name of a field from a pydantic error location."""
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_errors(error: RequestValidationError) -> list[FieldError]:
    errors = []
    for item in error.errors():
        message = str(item.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        errors.append(FieldError(field=field_of(item.get("loc", ())), message=message))
    return errors


async def _gateway_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GatewayError)
    if error.status >= 500:
        log.warning("request failed", extra={"status": error.status, "error": error.detail})
    return problem_response(
        request,
        status=error.status,
        slug=error.slug,
        title=error.title,
        detail=error.detail,
        field=error.field,
        errors=error.errors,
        headers=error.headers,
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = _validation_errors(error) or [FieldError(field="body", message="invalid request")]
    first = errors[0]
    detail = f"{first.field}: {first.message}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem_response(
        request,
        status=422,
        slug="invalid-request",
        title="Invalid request",
        detail=detail,
        field=first.field,
        errors=errors,
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(error.status_code, ("http-error", "HTTP error"))
    detail = error.detail if isinstance(error.detail, str) else title
    return problem_response(
        request,
        status=error.status_code,
        slug=slug,
        title=title,
        detail=detail,
        headers=dict(error.headers or {}),
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=error)
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title="Internal error",
        detail="the gateway failed unexpectedly; the request id identifies it in the logs",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of `app` a problem document."""
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting the problems a route may answer with."""
    descriptions = {
        400: "A query parameter cannot be understood.",
        401: "No API key, or an unknown one.",
        403: "The job belongs to another tenant.",
        404: "No such job or endpoint in the caller's namespace.",
        409: "Conflict with the job's state or an earlier request.",
        422: "A field is invalid; `field` and `errors` name it.",
        413: "The request body is over the route's limit (refused before it is parsed).",
        429: "Rate limit exceeded, or the endpoint's queue is full; see Retry-After.",
        502: "The Kubernetes API server refused the call, or every replica failed the request.",
        503: "The API server cannot be reached, a cache is not synced, or no replica is ready.",
        504: "The request's deadline passed before a model server pod answered.",
    }
    return {
        status: {
            "model": Problem,
            "description": descriptions.get(status, "A problem."),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
