"""HTTP plumbing of the model server: bounded body reads, problem answers, counted routes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from aijob_worker.serve.errors import (
    PROBLEM_MEDIA_TYPE,
    ServeError,
    internal,
    malformed,
    too_large,
)
from aijob_worker.serve.metrics import ServeMetrics

logger = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


def json_response(document: Any, status: int = 200) -> Response:
    """A compact JSON answer."""
    body = json.dumps(document, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json")


def problem_response(error: ServeError, path: str) -> Response:
    """The problem document of an error."""
    body = json.dumps(error.body(path), separators=(",", ":")).encode()
    return Response(
        body, status_code=error.status, media_type=PROBLEM_MEDIA_TYPE, headers=error.headers
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes (by its Content-Length, before reading)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError as error:
            raise malformed(f"Content-Length {declared!r} is not a number") from error
        if length > limit:
            raise too_large(limit)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ServeError(
            415,
            "unsupported-media-type",
            "Unsupported content encoding",
            f"Content-Encoding {encoding!r} is not accepted; send the body uncompressed",
        )
    chunks = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def json_body(body: bytes) -> Any:
    """The body parsed as JSON (400 when it is not)."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise malformed(f"the body is not JSON: {error}") from error


def counted(route: str, metrics: ServeMetrics, handler: Handler) -> Handler:
    """The handler, answering errors as problems and counting every answer by outcome."""

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await handler(request)
            outcome = "ok"
        except ServeError as error:
            response, outcome = problem_response(error, request.url.path), error.slug
        except Exception as error:
            logger.exception("request failed", extra={"event": "error", "route": route})
            failure = internal(f"{type(error).__name__}: {error}")
            response, outcome = problem_response(failure, request.url.path), failure.slug
        metrics.answered(route, outcome, time.perf_counter() - started)
        return response

    return endpoint
