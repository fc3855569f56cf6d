"""The dispatcher's figures: counters, a bounded latency window and the snapshot it serves.

The snapshot (`DispatchStats`) is plain frozen dataclasses, ready to be served as
the endpoint's stats and, in seed 004's shapes, as `/queue/stats` and
`/workers/performance`. Every request is counted exactly once when it ends:
`received == answered + sum(errors) + cancelled + in_progress`.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aijob_api.priority import Priority

from aijob_gateway.dispatch.queue import PRIORITY_ORDER


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of sorted values (`fraction` in (0, 1]); None when empty."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class LatencySummary:
    """Latency of the answered requests of the window (queueing, retries and the pod's time)."""

    count: int
    p50_ms: float | None
    p99_ms: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> LatencySummary:
        """The summary of some latencies in seconds."""
        ordered = sorted(seconds)
        p50, p99 = percentile(ordered, 0.50), percentile(ordered, 0.99)
        return cls(
            count=len(ordered),
            p50_ms=None if p50 is None else round(p50 * 1000, 3),
            p99_ms=None if p99 is None else round(p99 * 1000, 3),
        )


class LatencyWindow:
    """The latest `size` latencies of each priority."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("the latency window holds at least one sample")
        self._samples: dict[Priority, deque[float]] = {
            priority: deque(maxlen=size) for priority in PRIORITY_ORDER
        }

    def add(self, priority: Priority, seconds: float) -> None:
        """Record one answered request."""
        self._samples[priority].append(seconds)

    def summary(self, priority: Priority | None = None) -> LatencySummary:
        """The summary of one priority, or of all together."""
        if priority is not None:
            return LatencySummary.of(self._samples[priority])
        return LatencySummary.of(s for samples in self._samples.values() for s in samples)


@dataclass
class Counters:
    """Running totals since the dispatcher started."""

    received: int = 0
    answered: int = 0
    """Requests answered with a pod's reply (a result or the pod's refusal of the request)."""
    rejected: int = 0
    """The answered requests the pod refused as invalid (a 4xx such as 422)."""
    cancelled: int = 0
    """Requests whose caller went away (client disconnect) before an answer."""
    retries: int = 0
    """Attempts after the first, over all requests."""
    errors: Counter[str] = field(default_factory=Counter)
    """Requests ended by a dispatch error, by the error's slug."""


@dataclass(frozen=True)
class PodStats:
    """One pod's load and performance score."""

    name: str
    address: str
    ready: bool
    outstanding: int
    concurrency: int
    latency_ms: float | None
    """Moving average of its reply latency; None before its first reply."""
    error_rate: float
    """Moving average of pod faults per attempt, decayed to now."""
    score: float
    """Good answers per second of one of its slots (higher is better)."""
    served: int
    faults: int


@dataclass(frozen=True)
class DispatchStats:
    """The endpoint's dispatch at a glance."""

    queue_limit: int
    queued: int
    queued_by_priority: dict[str, int]
    queue_high_watermark: int
    in_flight: int
    """Requests holding a slot on a pod."""
    in_progress: int
    """Requests received and not ended yet (queued or in flight)."""
    received: int
    answered: int
    rejected: int
    cancelled: int
    retries: int
    errors: dict[str, int]
    latency: LatencySummary
    latency_by_priority: dict[str, LatencySummary]
    ready_pods: int
    busy_pods: int
    """Ready pods at their concurrency."""
    concurrency: int
    pods: list[PodStats]

    @property
    def failed(self) -> int:
        """Requests ended by an error."""
        return sum(self.errors.values())
