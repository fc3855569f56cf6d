"""The worker container's log of a job's pod, read from the API server (`pods/log`).

The API server's refusal comes before the first line (no such pod, a container that
has not started yet), so `open` reads that first line itself: a route can then answer
with a problem instead of a stream that breaks at once. A followed stream that the API
server ends later (the pod finished, a connection dropped) just ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aijob_api.contract import CONTAINER_NAME
from lightkube import ApiError, AsyncClient

from aijob_gateway.errors import ConflictError, GatewayError, NotFoundError
from aijob_gateway.kube.errors import TRANSPORT_ERRORS, translate, unreachable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogOptions:
    """Which part of the log, and whether to keep streaming it."""

    tail_lines: int | None = None
    since_seconds: int | None = None
    follow: bool = False
    timestamps: bool = False


class PodLogs:
    """Reads the worker container's log of a pod."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def open(self, namespace: str, pod: str, options: LogOptions) -> AsyncIterator[str]:
        """The log's lines (each with its newline); refusals raised before the first."""
        what = f"read the log of pod {namespace}/{pod}"
        lines = aiter(
            self._client.log(
                pod,
                namespace=namespace,
                container=CONTAINER_NAME,
                follow=options.follow,
                tail_lines=options.tail_lines,
                since=options.since_seconds,
                timestamps=options.timestamps,
            )
        )
        try:
            first = await anext(lines)
        except StopAsyncIteration:
            return _empty()
        except ApiError as error:
            raise _refusal(error, what, pod) from error
        except TRANSPORT_ERRORS as error:
            raise unreachable(what, error) from error
        return _rest(first, lines, what)


def _refusal(error: ApiError, what: str, pod: str) -> GatewayError:
    code = error.status.code
    message = error.status.message or str(error)
    if code == 404:
        return NotFoundError(f"pod {pod} no longer exists; its log went with it")
    if code == 400:
        # "container ... is waiting to start: ContainerCreating", and the like.
        return ConflictError(f"no log yet: {message}")
    return translate(error, what)


async def _empty() -> AsyncIterator[str]:
    return
    yield  # an async generator that yields nothing


async def _rest(first: str, lines: AsyncIterator[str], what: str) -> AsyncIterator[str]:
    yield first
    try:
        async for line in lines:
            yield line
    except (ApiError, *TRANSPORT_ERRORS) as error:
        log.warning("%s: the stream ended early: %s", what, error)
