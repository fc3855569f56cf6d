"""A request body limit on every route, enforced before anything parses the body.

A pure ASGI middleware, outside routing and authentication: a request whose
`Content-Length` is over its route's limit is answered 413 at once, its body never
read; one without a length (chunked) or that sends more than it announced is cut off
as soon as the bytes received pass the limit (413 too). Nothing is buffered here: the
body flows through to whoever reads it, counted on the way. The inference routes
(records, tensors) have a larger limit of their own; every other route has the general
one. A 413 closes the connection (`Connection: close`), so the rest of a huge body is
not read at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
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
"""The inference routes: their bodies are records or tensors (extend it for new ones)."""
CLOSE: Final = {"Connection": "close"}


def is_inference_path(path: str) -> bool:
    """Whether `path` is an inference route (its body has the inference limit)."""
    return any(pattern.match(path) for pattern in LIMITED_PATHS)


@dataclass(frozen=True)
class BodyLimits:
    """The largest body of an inference route and of any other route, in bytes."""

    default: int
    inference: int
    is_inference: Callable[[str], bool] = is_inference_path

    def for_path(self, path: str) -> tuple[int, str]:
        """The limit of `path` and the setting that sets it."""
        if self.is_inference(path):
            return self.inference, "inference_max_body_bytes"
        return self.default, "max_body_bytes"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _size(limit: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"


def too_large(limit: int, setting: str) -> str:
    """The detail of a 413: the limit, in bytes and readable, and the setting behind it."""
    return (
        f"the request body is larger than {limit} bytes ({_size(limit)}), the limit of this "
        f"route (gateway setting {setting})"
    )


class BodyLimitMiddleware:
    """Answers 413 to a body over its route's limit, before it is parsed or authenticated."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, refusing or cutting off a body over the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.limits.for_path(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            response = problem_response(
                Request(scope),
                status=413,
                slug="too-large",
                title="Request too large",
                detail=too_large(limit, setting),
                headers=CLOSE,
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
                    raise HTTPException(413, too_large(limit, setting), headers=CLOSE)
            return message

        await self.app(scope, limited_receive, send)
