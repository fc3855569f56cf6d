"""The worker container's log of a job's pod, read from the API server (`pods/log`).

Logs are read on a client of their own (its own connection pool), so followed streams,
which hold a connection each for as long as the client listens, never take the
connections of the watches and writes. The API server's refusal (no such pod, a
container that has not started yet) is its answer's status, checked before the route
answers: a route can then answer with a problem instead of a stream that breaks at
once. The body is passed on as it arrives, never read whole. A log that is not followed
is capped at `max_bytes`: the API server is asked for one byte more (`limitBytes`), so
a cut log is told from one that was exactly that long, and a cut log ends with a line
saying so. A followed stream that the API server ends later (the pod finished, a
connection dropped) just ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

import httpx2
from aijob_api.contract import CONTAINER_NAME
from aijob_kube.errors import InvalidError, KubeError, NotFoundError, kube_errors
from lightkube import ApiError, AsyncClient
from lightkube.resources.core_v1 import PodLog

from aijob_gateway import errors
from aijob_gateway.kube.errors import as_gateway_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogOptions:
    """Which part of the log, and whether to keep streaming it."""

    tail_lines: int | None = None
    since_seconds: int | None = None
    follow: bool = False
    timestamps: bool = False


def cut_marker(max_bytes: int, after: bytes) -> bytes:
    """The line that ends a log cut at `max_bytes` (`after`: the last bytes passed on)."""
    start = "" if not after or after.endswith(b"\n") else "\n"
    line = (
        f"[aijob gateway: log cut at {max_bytes} bytes (gateway setting logs_max_bytes); "
        "read the rest with tail or sinceSeconds]\n"
    )
    return (start + line).encode()


async def capped(
    chunks: AsyncGenerator[bytes, None], max_bytes: int
) -> AsyncGenerator[bytes, None]:
    """`chunks` up to `max_bytes` in all; when there were more, the cut ends with a marker."""
    passed = 0
    try:
        async for chunk in chunks:
            room = max_bytes - passed
            if len(chunk) > room:
                head = chunk[:room]
                if head:
                    yield head
                yield cut_marker(max_bytes, head or b"\n")
                return
            passed += len(chunk)
            yield chunk
    finally:
        await chunks.aclose()


class PodLogs:
    """Reads the worker container's log of a pod, on the log client."""

    def __init__(self, client: AsyncClient, max_bytes: int) -> None:
        self._client = client
        self.max_bytes = max_bytes

    async def open(self, namespace: str, pod: str, options: LogOptions) -> AsyncIterator[bytes]:
        """The log's bytes as they come; refusals raised before the first."""
        what = f"read the log of pod {namespace}/{pod}"
        generic = self._client._client
        prepared = generic.prepare_request(
            "get",
            PodLog,
            name=pod,
            namespace=namespace,
            params={
                "container": CONTAINER_NAME,
                "follow": options.follow,
                "tailLines": options.tail_lines,
                "sinceSeconds": options.since_seconds,
                "timestamps": options.timestamps,
                "limitBytes": None if options.follow else self.max_bytes + 1,
            },
        )
        if options.follow:
            # A followed log may be quiet for long: no read timeout while streaming it.
            connect = generic._client.timeout.connect  # the client's own connect timeout
            prepared.timeout = httpx2.Timeout(connect, read=None)
        request = generic.build_adapter_request(prepared)
        http: httpx2.AsyncClient = generic._client
        try:
            with kube_errors(what):
                response = await http.send(request, stream=True)
                if response.is_error:
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                    if response.headers.get("content-type", "").startswith("application/json"):
                        raise ApiError(request=request, response=response)
                    raise errors.UpstreamError(
                        f"{what}: the API server answered {response.status_code}"
                    )
        except KubeError as error:
            raise _refusal(error, pod) from error
        body = _body(response, what)
        return body if options.follow else capped(body, self.max_bytes)


def _refusal(error: KubeError, pod: str) -> errors.GatewayError:
    if isinstance(error, NotFoundError):
        return errors.NotFoundError(f"pod {pod} no longer exists; its log went with it")
    if isinstance(error, InvalidError) and error.code == 400:
        # "container ... is waiting to start: ContainerCreating", and the like.
        return errors.ConflictError(f"no log yet: {error.message}")
    return as_gateway_error(error)


async def _body(response: httpx2.Response, what: str) -> AsyncGenerator[bytes, None]:
    try:
        with kube_errors(what):
            async for chunk in response.aiter_bytes():
                if chunk:
                    yield chunk
    except KubeError as error:
        log.warning("the stream ended early: %s", error)
    finally:
        await response.aclose()
