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
from aijob_kube.errors import InvalidError, KubeError, NotFoundError, kube_errors
from lightkube import AsyncClient

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
            with kube_errors(what):
                first = await anext(lines)
        except StopAsyncIteration:
            return _empty()
        except KubeError as error:
            raise _refusal(error, pod) from error
        return _rest(first, lines, what)


def _refusal(error: KubeError, pod: str) -> errors.GatewayError:
    if isinstance(error, NotFoundError):
        return errors.NotFoundError(f"pod {pod} no longer exists; its log went with it")
    if isinstance(error, InvalidError) and error.code == 400:
        # "container ... is waiting to start: ContainerCreating", and the like.
        return errors.ConflictError(f"no log yet: {error.message}")
    return as_gateway_error(error)


async def _empty() -> AsyncIterator[str]:
    return
    yield  # an async generator that yields nothing


async def _rest(first: str, lines: AsyncIterator[str], what: str) -> AsyncIterator[str]:
    yield first
    try:
        with kube_errors(what):
            async for line in lines:
                yield line
    except KubeError as error:
        log.warning("the stream ended early: %s", error)
