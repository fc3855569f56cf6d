"""What the dispatcher's caller supplies and gets back: `send`, the policy, the result.

`send(pod, request, timeout_s)` makes one attempt and returns the pod's reply (any
object with a `status_code`, an httpx response will do); raising means the pod
failed the attempt. `is_pod_fault` says which replies are the pod's failure and
are tried again on another pod.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from aijob_gateway.dispatch.pods import Pod
from aijob_gateway.dispatch.scoring import ScoringPolicy


class PodReply(Protocol):
    """What `send` returns: anything with an HTTP status code (an httpx response will do)."""

    @property
    def status_code(self) -> int:
        """The pod's HTTP status."""
        ...


RequestT = TypeVar("RequestT")
ReplyT = TypeVar("ReplyT", bound=PodReply)

Send = Callable[[Pod, RequestT, float], Awaitable[ReplyT]]
"""`send(pod, request, timeout_s)`: one attempt; raising means the pod failed it."""

INTERNAL_ERROR = "internal-error"
"""Errors counter key of a request ended by an unexpected exception (a bug)."""


def is_pod_fault(status_code: int) -> bool:
    """Whether a reply is the pod's failure rather than its answer to the request.

    5xx: the pod failed (crashed model, draining, overloaded). 429: the pod itself
    is out of capacity, so another pod may well take the request. Every other 4xx
    (422 for a bad record, 404 for a wrong model name) is about the request and
    would fail on any pod the same way.
    """
    return status_code >= 500 or status_code == 429


@dataclass(frozen=True)
class DispatchPolicy:
    """The endpoint's dispatch settings."""

    concurrency: int = 4
    """Requests one pod may hold at once (the endpoint's spec.concurrency)."""
    queue_limit: int = 100
    """Requests that may wait for a slot; one more is refused with 429."""
    max_attempts: int = 3
    """Attempts per request, the first included."""
    latency_window: int = 1024
    """Latest answered requests per priority the percentiles are taken over."""
    scoring: ScoringPolicy = field(default_factory=ScoringPolicy)

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError("concurrency and max_attempts must be >= 1")
        if self.queue_limit < 0:
            raise ValueError("queue_limit must be >= 0")


@dataclass(frozen=True)
class DispatchResult(Generic[ReplyT]):
    """A pod's reply to the request and how it was obtained."""

    reply: ReplyT
    pod: str
    """The pod that gave the reply."""
    attempts: int
    latency_s: float
    """From `dispatch` being called to the reply: queueing, retries and the pod's time."""

    @property
    def retries(self) -> int:
        """Attempts after the first one."""
        return self.attempts - 1
