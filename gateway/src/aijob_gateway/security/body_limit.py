"""A body size limit for the inference routes, enforced before anything parses the body.

A pure ASGI middleware: a request to a limited route whose `Content-Length` is over
the limit is answered 413 at once, its body never read; one without a length (chunked)
or that sends more than it announced is cut off as soon as the bytes received pass
the limit (413 too). Other routes are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aijob_gateway.problems import problem_response

LIMITED_PATHS: Final = (
    re.compile(r"^/v1/endpoints/[^/]+/infer(/async)?/?$"),
    re.compile(r"^/v1/endpoints/[^/]+/v2(/.*)?$"),
    re.compile(r"^/(priority/)?infer(/async)?/?$"),  # seed 004's coordinator
    re.compile(r"^/v1/tasks/?$"),  # seed 003's inference server
)
"""The routes whose bodies are records or tensors (extend it for other inference routes)."""


def is_inference_path(path: str) -> bool:
    """Whether `path` is an inference route (its body is limited)."""
    return any(pattern.match(path) for pattern in LIMITED_PATHS)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes, the limit of inference requests"


class BodyLimitMiddleware:
    """Answers 413 to a body over `limit_bytes` on the routes `applies` selects."""

    def __init__(
        self,
        app: ASGIApp,
        limit_bytes: int,
        applies: Callable[[str], bool] = is_inference_path,
    ) -> None:
        self.app = app
        self.limit_bytes = limit_bytes
        self.applies = applies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, refusing or cutting off a body over the limit."""
        if scope["type"] != "http" or not self.applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        limit = self.limit_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            response = problem_response(
                Request(scope),
                status=413,
                slug="too-large",
                title="Request too large",
                detail=_too_large(limit),
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, limited_receive, send)
