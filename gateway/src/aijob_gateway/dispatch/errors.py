"""Why the dispatcher could not answer a request with a pod's reply.

Each error is a `GatewayError`, so the gateway's one exception handler (`problems`)
answers it as a problem document with its status, slug and headers: 429 with
Retry-After when the queue is full, 504 when the deadline passed, 503 with Retry-After
when no ready pod exists, 502 when every attempt failed on a pod's fault. Each carries
how many attempts were made, so the answer can report the retries as a result would.
"""

from __future__ import annotations

from dataclasses import dataclass

from aijob_gateway.errors import GatewayError


@dataclass
class DispatchError(GatewayError):
    """Base of the dispatcher's errors: the request got no reply from a pod."""

    attempts: int = 0
    """Attempts sent to pods before the error (0 when it never left the queue)."""

    @property
    def retries(self) -> int:
        """Attempts after the first one."""
        return max(0, self.attempts - 1)


@dataclass
class QueueFullError(DispatchError):
    """Every replica is at its concurrency and the queue holds as many requests as it may."""

    retry_after: int = 1
    """Whole seconds after which the queue should have room (the Retry-After header)."""

    status = 429
    slug = "queue-full"
    title = "Queue full"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.headers.setdefault("Retry-After", str(max(1, self.retry_after)))


@dataclass
class DeadlineExceededError(DispatchError):
    """The request's deadline passed while it was queued or running on a pod."""

    status = 504
    slug = "deadline-exceeded"
    title = "Deadline exceeded"


@dataclass
class NoReadyPodError(DispatchError):
    """The endpoint has no ready pod to send the request to (none left, or none ready yet)."""

    retry_after: int = 1
    """Whole seconds after which to try again (the Retry-After header): a replica may be
    starting, loading its model or replacing one that left."""

    status = 503
    slug = "no-ready-pod"
    title = "No ready pod"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.headers.setdefault("Retry-After", str(max(1, self.retry_after)))


@dataclass
class PodsFailedError(DispatchError):
    """Every attempt failed on a pod's fault (unreachable, 5xx, gone) and none is left to try."""

    status = 502
    slug = "inference-failed"
    title = "Inference failed"
