"""One attempt of a request on one model server pod, over HTTP: the dispatcher's `send`.

A pod answers with a status, a few headers and a body, all passed back as they
came (`PodAnswer`); what a status means (the pod's fault, to retry elsewhere, or the
answer to the request) is the dispatcher's business. Not answering at all (a
connection refused or reset, a timeout) raises, which the dispatcher counts as the
pod's fault. One connection pool serves every pod of every endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import httpx2

from aijob_gateway.dispatch.pods import Pod

MIN_TIMEOUT_S: Final = 0.001
"""The shortest timeout an attempt is given (httpx reads 0 as "fail at once")."""
FORWARDED_REQUEST_HEADERS: Final = ("content-type", "inference-header-content-length")
"""Request headers a pod needs to read the body (the binary tensor extension's too)."""
KEPT_ANSWER_HEADERS: Final = ("content-type", "inference-header-content-length", "retry-after")
"""Answer headers passed back to the client."""


@dataclass(frozen=True)
class PodRequest:
    """What to send to a pod: method, path (from the server's root), body and headers."""

    method: str
    path: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PodAnswer:
    """A pod's answer to one attempt."""

    status_code: int
    body: bytes
    headers: Mapping[str, str]
    """The kept headers (`KEPT_ANSWER_HEADERS`), lower-case names."""
    round_trip_s: float
    """From sending the request to the end of the answer's body."""


class PodTransport:
    """Sends requests to pods with one pooled HTTP client."""

    def __init__(self, connect_timeout_s: float, max_connections: int) -> None:
        self._connect_timeout_s = connect_timeout_s
        self._http = httpx2.AsyncClient(
            limits=httpx2.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
        )

    async def send(self, pod: Pod, request: PodRequest, timeout_s: float) -> PodAnswer:
        """One attempt on `pod` within `timeout_s`; raises when the pod does not answer."""
        if not pod.address:
            raise ConnectionError(f"pod {pod.name} has no address")
        timeout = max(timeout_s, MIN_TIMEOUT_S)
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in FORWARDED_REQUEST_HEADERS
        }
        started = time.perf_counter()
        response = await self._http.request(
            request.method,
            pod.address + request.path,
            content=request.body or None,
            headers=headers,
            timeout=httpx2.Timeout(timeout, connect=min(timeout, self._connect_timeout_s)),
        )
        kept = {
            name: response.headers[name] for name in KEPT_ANSWER_HEADERS if name in response.headers
        }
        return PodAnswer(
            status_code=response.status_code,
            body=response.content,
            headers=kept,
            round_trip_s=time.perf_counter() - started,
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
